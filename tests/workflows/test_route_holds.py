"""RouteHoldsWorkflow with the shared activity doubles: detection on the GPU queue, the
``hold_detection.completed`` event, the climber's Update (and its validator), the deadline, and
the validated map stored on the route.

Updates run on the real dev server, deadlines on the time-skipping server (as for the analysis).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from core.analyses import query_status, submit_hold_map
from schema import names
from schema.analysis import Stage, Status, ValidateHoldsInput, ValidationTimeoutPolicy
from schema.routes import RouteHoldsInput
from tests.utils.histories import record_history
from tests.utils.pipeline import FakePipeline, corrected_map, detected_map, wait_for_status
from workflows.route_holds import RouteHoldsWorkflow

pytestmark = pytest.mark.integration


def route_input(task_queue: str, **overrides: object) -> RouteHoldsInput:
    route_id = str(uuid.uuid4())
    params = RouteHoldsInput(
        route_id=route_id,
        user_id="user-1",
        bucket=names.VIDEOS_BUCKET,
        photo_key=names.route_photo_key("user-1", route_id),
        job_id="job-holds-1",
        gpu_task_queue=f"{task_queue}-gpu",
        cpu_task_queue=f"{task_queue}-cpu",
    )
    for key, value in overrides.items():
        setattr(params, key, value)
    return params


@asynccontextmanager
async def route_workers(client: Client, task_queue: str, fake: FakePipeline) -> AsyncIterator[None]:
    async with (
        Worker(
            client,
            task_queue=f"{task_queue}-cpu",
            workflows=[RouteHoldsWorkflow],
            activities=fake.cpu_activities(),
        ),
        Worker(client, task_queue=f"{task_queue}-gpu", activities=fake.gpu_activities()),
    ):
        yield


async def _start(client: Client, params: RouteHoldsInput) -> WorkflowHandle:
    return await client.start_workflow(
        RouteHoldsWorkflow.run,
        params,
        id=names.route_holds_workflow_id(params.route_id),
        task_queue=params.cpu_task_queue,
    )


async def test_detect_publish_validate_by_update_and_store_on_the_route(
    temporal_dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePipeline()
    params = route_input(task_queue)
    client = temporal_dev_env.client
    async with route_workers(client, task_queue, fake):
        handle = await _start(client, params)
        await wait_for_status(handle, Status.AWAITING_HOLD_VALIDATION)
        progress = await query_status(handle)
        assert progress.stage == Stage.HOLD_VALIDATION
        assert progress.holds_awaiting_validation == detected_map()
        assert progress.validation_deadline is not None
        # Announced once the run awaits the climber (the event follows the status).
        for _ in range(200):
            if fake.routing_keys:
                break
            await asyncio.sleep(0.02)
        assert fake.routing_keys == ["hold_detection.completed.job-holds-1"]
        event = fake.events[0]
        assert (event.analysis_id, event.user_id) == (params.route_id, "user-1")

        bad = detected_map()
        bad.holds[0].type = "banana"
        with pytest.raises(WorkflowUpdateFailedError):
            await submit_hold_map(handle, bad)
        assert await submit_hold_map(handle, corrected_map()) == corrected_map()
        result = await handle.result()
        await record_history(handle, "route_holds_update_validation")
    assert result.route_id == params.route_id
    assert result.status == Status.COMPLETED
    assert result.hold_count == len(corrected_map().holds)
    assert not result.used_detected_holds_after_deadline
    assert fake.calls.count("detect_holds") == 1
    [saved] = fake.saved_routes
    assert (saved.route_id, saved.user_id, saved.hold_map) == (
        params.route_id,
        "user-1",
        corrected_map(),
    )


async def test_validation_by_signal(temporal_dev_env: WorkflowEnvironment, task_queue: str) -> None:
    fake = FakePipeline()
    params = route_input(task_queue, job_id=None)
    client = temporal_dev_env.client
    async with route_workers(client, task_queue, fake):
        handle = await _start(client, params)
        await wait_for_status(handle, Status.AWAITING_HOLD_VALIDATION)
        await handle.signal(RouteHoldsWorkflow.submit_holds, ValidateHoldsInput(corrected_map()))
        result = await handle.result()
    assert result.hold_count == len(corrected_map().holds)
    # No legacy job: the event is named by the route.
    assert fake.routing_keys == [f"hold_detection.completed.{params.route_id}"]


async def test_deadline_stores_the_detected_map(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePipeline()
    params = route_input(task_queue)
    async with route_workers(time_skipping_env.client, task_queue, fake):
        handle = await _start(time_skipping_env.client, params)
        result = await handle.result()  # nobody validates: time skips the 24 h deadline
    assert result.used_detected_holds_after_deadline
    assert fake.saved_routes[0].hold_map == detected_map()


async def test_deadline_can_expire_without_storing_a_map(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePipeline()
    params = route_input(task_queue, on_validation_timeout=ValidationTimeoutPolicy.EXPIRE)
    async with route_workers(time_skipping_env.client, task_queue, fake):
        handle = await _start(time_skipping_env.client, params)
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
    assert "not validated within 24 h; the route keeps no hold map" in str(failed.value.cause)
    assert fake.saved_routes == []
    assert fake.routing_keys == ["hold_detection.completed.job-holds-1"]


async def test_detection_bad_input_publishes_failed_and_fails_the_run(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePipeline(detect_bad_input=True)
    params = route_input(task_queue)
    async with route_workers(time_skipping_env.client, task_queue, fake):
        handle = await _start(time_skipping_env.client, params)
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
    assert "no holds on this photo" in str(failed.value.cause)
    assert fake.routing_keys == ["hold_detection.failed.job-holds-1"]
    assert fake.events[0].reason is not None
    assert fake.calls.count("detect_holds") == 1  # bad input is never retried
    assert fake.saved_routes == []
