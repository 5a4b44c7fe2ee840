"""`core.run_history` reads a run's input and the map it had accepted from recorded histories,
whichever way the map arrived: saved by the run, handed to the route's run, or sent by it."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter

from core.run_history import run_inputs
from tests.utils.histories import HISTORY_DIR

pytestmark = pytest.mark.replay


async def _inputs(name: str):  # type: ignore[no-untyped-def]
    path = HISTORY_DIR / f"{name}.json"
    history = WorkflowHistory.from_json(name, path.read_text())
    return await run_inputs(DataConverter.default, history)


@pytest.mark.parametrize(
    "name",
    [
        "happy_path_update_validation",  # saved on the route by the run itself
        "deadline_proceeds_with_detected_map",  # the detected map, after the deadline
        "analysis_hands_its_map_to_the_route",  # handed to the route's run
        "analysis_waits_for_route_holds",  # sent by the route's run
    ],
)
async def test_the_accepted_map_is_found_however_it_arrived(name: str) -> None:
    inputs = await _inputs(name)
    assert inputs.params.analysis_id
    assert inputs.params.redrive == 0  # recorded before redrives existed: the default
    assert inputs.accepted_hold_map is not None and inputs.accepted_hold_map.holds


async def test_a_run_that_ended_before_the_climber_validated_has_no_accepted_map() -> None:
    inputs = await _inputs("cancel_while_awaiting_validation")
    assert inputs.accepted_hold_map is None
    assert inputs.params.route_hold_map is None
