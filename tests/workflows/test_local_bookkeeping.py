"""The analysis's bookkeeping steps run as local activities (`analysis_steps.BOOKKEEPING`).

Each regular activity is a round trip through the server; the bookkeeping around the GPU steps
(status rows, events, persistence, the training request, the cleanup) now runs inside the
workflow tasks that the GPU steps' completions already cause. What is checked is the shape of the
history, which can fail, not a duration: only the GPU steps are scheduled through the server, one
workflow task follows each of them, and every event, status and result still happens in order.
Runs recorded before the change replay on the old path (`test_replay.py`); this one is recorded
as ``known_route_local_bookkeeping`` for the new path.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from ascension.bench.history_timing import fetch_timing
from core.analyses import start_or_attach, submit_hold_map
from schema import names
from schema.activities import COMPUTE_GHOST, EXTRACT_SKELETON, GENERATE_ADVICE, PERSIST_RESULTS
from schema.analysis import Stage, Status
from schema.steps import PersistResultsInput
from tests.utils.histories import record_history
from tests.utils.pipeline import (
    FakePipeline,
    analysis_input,
    corrected_map,
    detected_map,
    pipeline_workers,
    wait_for_status,
)
from workflows.analysis_steps import BOOKKEEPING

pytestmark = pytest.mark.integration


async def test_a_known_route_pays_one_workflow_task_per_gpu_step(
    temporal_dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePipeline()
    params = analysis_input(task_queue, route_hold_map=detected_map())
    async with pipeline_workers(temporal_dev_env.client, task_queue, fake):
        handle = await start_or_attach(temporal_dev_env.client, params)
        result = await handle.result()
        await record_history(handle, "known_route_local_bookkeeping")
    timing = await fetch_timing(handle)

    assert result.status == Status.COMPLETED
    # Only the GPU steps go through the server; no bookkeeping step is scheduled there.
    assert timing.scheduled == (EXTRACT_SKELETON.name, GENERATE_ADVICE.name, COMPUTE_GHOST.name)
    assert not BOOKKEEPING & set(timing.scheduled)
    # status, four events, persistence, the training request and the cleanup
    assert timing.local_activities == 8
    # The start, then one task per GPU completion (the last one completes the run); before,
    # each of the eight bookkeeping steps added a round trip of its own.
    assert timing.workflow_tasks == 4
    # Nothing is lost or reordered by running them locally.
    job = params.analysis_id
    assert fake.routing_keys == [
        f"skeleton.completed.{job}",
        f"advice.completed.{job}",
        f"ghost.completed.{job}",
        f"analysis.completed.{job}",
    ]
    assert [s.status for s in fake.statuses] == [Status.PROCESSING]
    assert [p.analysis_id for p in fake.persisted] == [params.analysis_id]
    assert fake.cleaned == [params.video_key]
    assert [r.analysis_id for r in fake.regenerations] == [params.analysis_id]
    assert timing.wall_s > timing.activity_s >= 0.0


async def test_the_climbers_validation_still_reaches_a_run_with_local_bookkeeping(
    temporal_dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    """Detection, the wait and the Update between local steps: recorded for replay as
    ``update_validation_local_bookkeeping``."""
    fake = FakePipeline()
    params = analysis_input(task_queue)
    async with pipeline_workers(temporal_dev_env.client, task_queue, fake):
        handle = await start_or_attach(temporal_dev_env.client, params)
        await wait_for_status(handle, Status.AWAITING_HOLD_VALIDATION)
        await submit_hold_map(handle, corrected_map())
        result = await handle.result()
        await record_history(handle, "update_validation_local_bookkeeping")
    timing = await fetch_timing(handle)

    assert result.status == Status.COMPLETED
    assert result.hold_count == len(corrected_map().holds)
    assert not BOOKKEEPING & set(timing.scheduled)
    assert fake.routing_keys[0] == f"hold_detection.completed.{params.analysis_id}"
    assert fake.routing_keys[-1] == f"analysis.completed.{params.analysis_id}"
    assert [s.status for s in fake.statuses] == [
        Status.PROCESSING,
        Status.AWAITING_HOLD_VALIDATION,
        Status.PROCESSING,
    ]


@dataclass
class _UnstorableResult(FakePipeline):
    """The result cannot be stored, and never will be (`activities.records` refuses a document
    the engine cannot assemble the same way)."""

    @activity.defn(name=PERSIST_RESULTS.name)
    async def persist_results(self, params: PersistResultsInput) -> None:
        self.persisted.append(params)
        raise ApplicationError(
            "the results do not fit the result format",
            type=names.UNUSABLE_INPUT,
            non_retryable=True,
        )


async def test_a_bookkeeping_step_that_fails_is_recorded_and_published_like_any_step(
    temporal_dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    """A local activity's failure reaches the workflow without the `ActivityError` around a
    regular one's; the run still records, explains and publishes it instead of failing at once
    with the row left running. Recorded for replay as ``local_step_failure_recorded``."""
    fake = _UnstorableResult()
    params = analysis_input(task_queue, route_hold_map=detected_map())
    async with pipeline_workers(temporal_dev_env.client, task_queue, fake):
        handle = await start_or_attach(temporal_dev_env.client, params)
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
        await record_history(handle, "local_step_failure_recorded")

    reason = "the results do not fit the result format"
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.message == reason
    assert len(fake.persisted) == 1  # bad input: never retried
    last = fake.statuses[-1]
    assert (last.status, last.stage, last.reason) == (Status.FAILED, Stage.ANALYSIS, reason)
    assert fake.routing_keys[-1] == f"analysis.failed.{params.analysis_id}"
    assert fake.events[-1].reason == reason
    assert fake.regenerations == []
