"""Who else a route's `RouteHoldsWorkflow` answers (issue 16): a video started while it awaits the
climber waits for its map instead of detecting again; a legacy job that attaches to a run started
by someone else gets its own ``hold_detection.completed.{job_id}``; and a map validated in a
video's analysis reaches the route only through a route run, the one writer of its map.

On the real dev server (Updates, external signals), with the shared activity doubles.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import Any

import pytest
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from core.analyses import query_status, start_or_attach, submit_hold_map
from core.routes import start_or_attach_route_holds
from schema import names
from schema.analysis import LegacyJobInput, Stage, Status
from tests.utils.histories import record_history
from tests.utils.pipeline import (
    FakePipeline,
    analysis_input,
    corrected_map,
    detected_map,
    pipeline_workers,
    wait_for_status,
)
from tests.workflows.test_route_holds import route_input
from workflows.route_holds import RouteHoldsWorkflow
from workflows.video_analysis import VideoAnalysisWorkflow

pytestmark = pytest.mark.integration


def workers(client: Client, task_queue: str, fake: FakePipeline) -> Any:
    """Both workflows on the CPU queue, as the production CPU worker hosts them."""
    return pipeline_workers(
        client, task_queue, fake, workflows=(RouteHoldsWorkflow, VideoAnalysisWorkflow)
    )


async def test_a_video_on_a_route_awaiting_validation_waits_for_its_map(
    temporal_dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePipeline()
    client = temporal_dev_env.client
    route = route_input(task_queue, job_id=None)
    async with workers(client, task_queue, fake):
        route_run = await start_or_attach_route_holds(client, route)
        await wait_for_status(route_run, Status.AWAITING_HOLD_VALIDATION)
        params = analysis_input(
            task_queue,
            route_id=route.route_id,
            route_photo_key=route.photo_key,
            route_holds_workflow_id=route_run.id,
        )
        analysis = await start_or_attach(client, params)
        await wait_for_status(analysis, Status.AWAITING_HOLD_VALIDATION)
        waiting = await query_status(analysis)
        assert waiting.holds_awaiting_validation is None  # nothing of its own to validate
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await submit_hold_map(analysis, corrected_map())
        assert "on the route's own detection" in str(refused.value.cause)

        # The climber validates the route once; the waiting analysis goes on with that map.
        await submit_hold_map(route_run, corrected_map())
        result = await analysis.result()
        await route_run.result()
        await record_history(analysis, "analysis_waits_for_route_holds")
        await record_history(route_run, "route_holds_answers_a_waiting_analysis")
    assert result.status == Status.COMPLETED
    assert result.hold_count == len(corrected_map().holds)
    assert fake.calls.count("detect_holds") == 1  # the route's detection only
    # Stored once, by the route's run; the analysis stores no map of its own.
    assert [saved.hold_map for saved in fake.saved_routes] == [corrected_map()]
    assert fake.persisted[0].hold_map == corrected_map()
    assert fake.routing_keys[0] == f"hold_detection.completed.{route.route_id}"
    assert f"hold_detection.completed.{params.analysis_id}" not in fake.routing_keys


async def test_a_video_whose_route_run_has_ended_detects_its_own_holds(
    temporal_dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    """The route's run closed between the API's look and the analysis's start: no one to wait
    for, so the analysis detects and asks the climber itself, then hands its map over."""
    fake = FakePipeline()
    client = temporal_dev_env.client
    params = analysis_input(
        task_queue, route_holds_workflow_id=names.route_holds_workflow_id(str(uuid.uuid4()))
    )
    async with workers(client, task_queue, fake):
        analysis = await start_or_attach(client, params)
        # Awaiting first for the route (briefly: the signal to it fails), then for its own map.
        for _ in range(200):
            progress = await query_status(analysis)
            if progress.holds_awaiting_validation is not None:
                break
            await asyncio.sleep(0.05)
        assert progress.holds_awaiting_validation == detected_map()
        await submit_hold_map(analysis, corrected_map())
        result = await analysis.result()
        await record_history(analysis, "analysis_hands_its_map_to_the_route")
    assert result.hold_count == len(corrected_map().holds)
    assert fake.calls.count("detect_holds") == 1
    assert fake.routing_keys[0] == f"hold_detection.completed.{params.analysis_id}"
    [handed] = fake.saved_routes  # through the hand-over activity
    assert (handed.route_id, handed.hold_map) == (params.route_id, corrected_map())


async def test_a_legacy_job_attaching_to_anothers_run_gets_its_own_event(
    temporal_dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePipeline()
    client = temporal_dev_env.client
    route = route_input(task_queue, job_id=None)  # started by the API: no job
    async with workers(client, task_queue, fake):
        run = await start_or_attach_route_holds(client, route)
        attached = await start_or_attach_route_holds(
            client, dataclasses.replace(route, job_id="job-b")
        )
        assert attached.id == run.id
        await wait_for_status(run, Status.AWAITING_HOLD_VALIDATION)
        # A job arriving once the holds are out is answered at once.
        await start_or_attach_route_holds(client, dataclasses.replace(route, job_id="job-c"))
        for _ in range(200):
            if "hold_detection.completed.job-c" in fake.routing_keys:
                break
            await asyncio.sleep(0.05)
        await submit_hold_map(run, corrected_map())
        await run.result()
        memo = await (await run.describe()).memo()
        await record_history(run, "route_holds_legacy_jobs_attached")
    assert sorted(fake.routing_keys) == sorted(
        [
            f"hold_detection.completed.{route.route_id}",
            "hold_detection.completed.job-b",
            "hold_detection.completed.job-c",
        ]
    )
    assert {event.analysis_id for event in fake.events} == {route.route_id}
    # Only the run's own event reaches the app: the jobs' are their answers on the broker alone.
    assert {event.job_id: event.for_app for event in fake.events} == {
        route.route_id: True,
        "job-b": False,
        "job-c": False,
    }
    assert fake.calls.count("detect_holds") == 1
    assert memo[names.LEGACY_JOB_IDS_MEMO] == ["job-b", "job-c"]


async def test_a_job_that_starts_the_run_is_answered_once(
    temporal_dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePipeline()
    client = temporal_dev_env.client
    route = route_input(task_queue, job_id="job-a")
    async with workers(client, task_queue, fake):
        run = await start_or_attach_route_holds(client, route)
        await wait_for_status(run, Status.AWAITING_HOLD_VALIDATION)
        await submit_hold_map(run, corrected_map())
        await run.result()
    assert fake.routing_keys == ["hold_detection.completed.job-a"]
    assert fake.events[0].for_app  # the run's own: the app's one frame


async def test_a_handed_over_map_is_stored_without_detection(
    temporal_dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePipeline()
    client = temporal_dev_env.client
    route = route_input(task_queue, job_id=None, accepted_hold_map=corrected_map())
    async with workers(client, task_queue, fake):
        result = await (await start_or_attach_route_holds(client, route)).result()
        # A legacy job that lands on such a run is answered once the map is stored.
        again = dataclasses.replace(route, route_id=str(uuid.uuid4()))
        run = await client.start_workflow(
            RouteHoldsWorkflow.run,
            again,
            id=names.route_holds_workflow_id(again.route_id),
            task_queue=again.cpu_task_queue,
            start_signal=names.ATTACH_LEGACY_JOB_SIGNAL,
            start_signal_args=[LegacyJobInput("job-z", [Stage.HOLD_DETECTION])],
        )
        await run.result()
    assert result.status == Status.COMPLETED
    assert result.hold_count == len(corrected_map().holds)
    assert fake.calls.count("detect_holds") == 0
    assert fake.routing_keys == ["hold_detection.completed.job-z"]
    assert not fake.events[0].for_app  # the app heard of this map from its analysis
    assert [saved.hold_map for saved in fake.saved_routes] == [corrected_map()] * 2
