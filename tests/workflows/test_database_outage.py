"""The bookkeeping steps that write PostgreSQL outlast a database outage
(`analysis_steps.run_database_step`, patched ``bookkeeping-outlasts-database-outage``).

The database's failures are the fake activities' own (`_DatabaseDown`), so each scenario runs in
seconds with a short ``database_outage_s``: past the local window (a tenth of it) the step is
a regular activity, retried by the server, pending in DescribeWorkflowExecution, while the
status Query says what the run waits for. Recorded for replay:

- ``bookkeeping_outlasts_database_outage``: the results are stored once the database is back;
- ``failure_recorded_after_database_outage``: a step fails while the database is away; its
  failure is recorded once it is back, and ``{stage}.failed`` is published once, after;
- ``failure_published_unrecorded``: the database stays away past the whole window; the event is
  published all the same and the run fails saying the row was not updated.

`tests/faults/test_postgres_outage.py` does the same against a real PostgreSQL stopped and
started again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from api.progress import read_progress
from schema import names
from schema.activities import (
    EXTRACT_SKELETON,
    PERSIST_RESULTS,
    RECORD_ANALYSIS_STATUS,
)
from schema.analysis import AnalysisProgress, Stage, Status
from schema.steps import (
    ExtractSkeletonInput,
    PersistResultsInput,
    RecordStatusInput,
    SkeletonResult,
)
from tests.utils.histories import record_history
from tests.utils.pipeline import FakePipeline, analysis_input, detected_map, pipeline_workers
from workflows.analysis_policies import database_windows
from workflows.video_analysis import VideoAnalysisWorkflow

pytestmark = pytest.mark.integration

BAD_VIDEO = "we could not read this video: the file is not a video"


@dataclass
class _DatabaseDown(FakePipeline):
    """The row writes fail as asyncpg's do while PostgreSQL is down; only writes that succeed
    are kept (`statuses`, `persisted`). With ``down_at_skeleton`` the database goes away as
    the skeleton step fails on bad input."""

    down: bool = False
    down_at_skeleton: bool = False
    attempts: dict[str, int] = field(default_factory=dict)

    def _write(self, name: str) -> None:
        self.attempts[name] = self.attempts.get(name, 0) + 1
        if self.down:
            raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")

    @activity.defn(name=RECORD_ANALYSIS_STATUS.name)
    async def record_analysis_status(self, params: RecordStatusInput) -> None:
        self._write(RECORD_ANALYSIS_STATUS.name)
        self.statuses.append(params)

    @activity.defn(name=PERSIST_RESULTS.name)
    async def persist_results(self, params: PersistResultsInput) -> None:
        self._write(PERSIST_RESULTS.name)
        self.persisted.append(params)

    @activity.defn(name=EXTRACT_SKELETON.name)
    async def extract_skeleton(self, params: ExtractSkeletonInput) -> SkeletonResult:
        if self.down_at_skeleton:
            self.down = True
            raise ApplicationError(BAD_VIDEO, type=names.INVALID_VIDEO, non_retryable=True)
        return await super().extract_skeleton(params)


async def _waiting_on(handle: WorkflowHandle, step: str, attempts: int = 2) -> None:
    """Until ``step`` is a pending regular activity retried ``attempts`` times by the server."""
    for _ in range(300):
        description = await handle.describe()
        for pending in description.raw_description.pending_activities:
            if pending.activity_type.name == step and pending.attempt >= attempts:
                assert "Connect call failed" in pending.last_failure.message
                return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{step} never retried {attempts} times as a regular activity")


async def test_the_results_are_stored_once_the_database_is_back(
    temporal_dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    client = temporal_dev_env.client
    fake = _DatabaseDown()
    params = analysis_input(task_queue, route_hold_map=detected_map(), database_outage_s=30)
    local_window, _ = database_windows(params.database_outage_s)
    async with pipeline_workers(client, task_queue, fake):
        handle = await client.start_workflow(
            VideoAnalysisWorkflow.run,
            params,
            id=f"analysis-{params.analysis_id}",
            task_queue=params.cpu_task_queue,
        )
        # The database goes away once the run has started: the results cannot be stored.
        for _ in range(600):
            if fake.attempts.get(RECORD_ANALYSIS_STATUS.name, 0) >= 1:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the run never wrote its first status")
        fake.down = True
        await _waiting_on(handle, PERSIST_RESULTS.name)

        # Nothing false meanwhile: still processing, at the analysis stage, waiting for the
        # database; the pending bookkeeping step is not taken for a retried GPU step.
        progress = await read_progress(handle, client.data_converter)
        assert (progress.status, progress.stage) == (Status.PROCESSING, Stage.ANALYSIS)
        assert progress.waiting_for == "the database, to store the analysis' results"
        assert progress.step_attempt is None
        assert progress.last_error is None
        assert fake.routing_keys[-1] == f"ghost.completed.{params.analysis_id}"

        fake.down = False
        result = await asyncio.wait_for(handle.result(), timeout=45)
        after: AnalysisProgress = await handle.query(VideoAnalysisWorkflow.status)
        await record_history(handle, "bookkeeping_outlasts_database_outage")

    assert result.status == Status.COMPLETED
    # Past the local window: more attempts than a local step had, and the results stored once.
    assert fake.attempts[PERSIST_RESULTS.name] >= 3
    assert [p.analysis_id for p in fake.persisted] == [params.analysis_id]
    assert fake.routing_keys.count(f"analysis.completed.{params.analysis_id}") == 1
    assert after.waiting_for is None
    assert local_window.total_seconds() == 3


async def test_a_failure_during_an_outage_is_recorded_once_the_database_is_back(
    temporal_dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    client = temporal_dev_env.client
    fake = _DatabaseDown(down_at_skeleton=True)
    params = analysis_input(
        task_queue, route_hold_map=detected_map(), keep_video=True, database_outage_s=30
    )
    async with pipeline_workers(client, task_queue, fake):
        handle = await client.start_workflow(
            VideoAnalysisWorkflow.run,
            params,
            id=f"analysis-{params.analysis_id}",
            task_queue=params.cpu_task_queue,
        )
        await _waiting_on(handle, RECORD_ANALYSIS_STATUS.name)
        progress: AnalysisProgress = await handle.query(VideoAnalysisWorkflow.status)
        assert (progress.status, progress.stage, progress.last_error) == (
            Status.FAILED,
            Stage.SKELETON,
            BAD_VIDEO,
        )
        assert progress.waiting_for == "the database, to record the analysis' status"
        # The event follows the record: a consumer that reads the row on it finds it failed.
        assert fake.routing_keys == []

        fake.down = False
        with pytest.raises(WorkflowFailureError) as failed:
            await asyncio.wait_for(handle.result(), timeout=45)
        await record_history(handle, "failure_recorded_after_database_outage")

    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert (cause.type, cause.message) == (names.ANALYSIS_FAILED, BAD_VIDEO)
    last = fake.statuses[-1]
    assert (last.status, last.stage, last.reason) == (Status.FAILED, Stage.SKELETON, BAD_VIDEO)
    assert [s.status for s in fake.statuses].count(Status.FAILED) == 1
    assert fake.routing_keys == [f"skeleton.failed.{params.analysis_id}"]  # exactly once


async def test_a_failure_not_recorded_in_its_window_is_still_published(
    temporal_dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    client = temporal_dev_env.client
    fake = _DatabaseDown(down_at_skeleton=True)
    params = analysis_input(
        task_queue, route_hold_map=detected_map(), keep_video=True, database_outage_s=3
    )
    async with pipeline_workers(client, task_queue, fake):
        handle = await client.start_workflow(
            VideoAnalysisWorkflow.run,
            params,
            id=f"analysis-{params.analysis_id}",
            task_queue=params.cpu_task_queue,
        )
        with pytest.raises(WorkflowFailureError) as failed:
            await asyncio.wait_for(handle.result(), timeout=45)
        await record_history(handle, "failure_published_unrecorded")

    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == names.ANALYSIS_END_NOT_RECORDED
    assert BAD_VIDEO in cause.message and "could not be updated within 3 s" in cause.message
    assert "Connect call failed" in cause.message
    assert [s.status for s in fake.statuses] == [Status.PROCESSING]  # the failure: not written
    assert fake.routing_keys == [f"skeleton.failed.{params.analysis_id}"]
    assert fake.events[-1].reason == BAD_VIDEO
