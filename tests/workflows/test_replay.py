"""Recorded histories of real runs replay against today's workflow code.

A change that would break running analyses (reordered activities, a new timer without
`workflow.patched`) fails here, with no server needed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory

from tests.utils.histories import HISTORY_DIR
from worker_cpu.replay import replay_history

pytestmark = pytest.mark.replay

HISTORIES = sorted(HISTORY_DIR.glob("*.json"))


def test_every_key_scenario_is_recorded() -> None:
    names = {path.stem for path in HISTORIES}
    assert {
        "happy_path_update_validation",
        "signal_validation_after_invalid_signal",
        "deadline_proceeds_with_detected_map",
        "bad_input_failure",
        "cancel_while_awaiting_validation",
        "cancel_requested_while_awaiting_validation",
        "cancel_requested_during_skeleton",
        "route_holds_update_validation",
        "analysis_waits_for_route_holds",
        "route_holds_answers_a_waiting_analysis",
        "route_holds_legacy_jobs_attached",
        "analysis_hands_its_map_to_the_route",
        # Bookkeeping as local activities (issue 18 item 6): the new path, patched.
        "known_route_local_bookkeeping",
        "update_validation_local_bookkeeping",
        # A failed local bookkeeping step takes the pipeline's failure path: patched.
        "local_step_failure_recorded",
        # The holds announced once the run awaits the climber: a correction sent with the event.
        "update_validation_on_the_announcement",
        "route_holds_validated_on_the_announcement",
        # Database steps outlast an outage (regular activity past the local window), and a
        # failure is recorded once the database is back, or published unrecorded: patched.
        "bookkeeping_outlasts_database_outage",
        "failure_recorded_after_database_outage",
        "failure_published_unrecorded",
    } <= names


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    outcome = await replay_history(history)  # what `ascension replay FILE.json` runs
    assert outcome.ok, f"{path.name}: {outcome.failure}"
