"""A correction sent the moment ``hold_detection.completed`` is published is taken.

The event is how the climber (through the app's ``holds_detected`` frame) and legacy consumers
learn of the holds, so the run must already await the correction when it goes out
(`HOLDS_AWAITED_BEFORE_ANNOUNCED_PATCH`). Here the publishing activity itself sends the
`validate_holds` Update as it publishes, the earliest anyone can: before the fix the route's run,
which publishes through a regular activity, refused it as "not awaiting validation" (the
analysis's own row lagged as well: `tests/api/test_holds_announced.py`). On the real dev server;
recorded as the patched path's histories (the older ones replay the old order).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from core.analyses import start_or_attach, submit_hold_map
from core.routes import start_or_attach_route_holds
from schema.activities import PUBLISH_EVENT
from schema.analysis import Stage, Status
from schema.events import AnalysisEvent
from schema.holds import HoldMap
from tests.utils.histories import record_history
from tests.utils.pipeline import FakePipeline, analysis_input, corrected_map, pipeline_workers
from tests.workflows.test_route_holds import route_input
from workflows.route_holds import RouteHoldsWorkflow
from workflows.video_analysis import VideoAnalysisWorkflow

pytestmark = pytest.mark.integration

RUNS = 3


class AnsweringPipeline(FakePipeline):
    """Publishing ``hold_detection.completed`` also sends the corrected map to its run."""

    client: Client | None = None
    answers: list[asyncio.Task[HoldMap]]

    @activity.defn(name=PUBLISH_EVENT.name)
    async def publish_event(self, event: AnalysisEvent) -> None:
        await FakePipeline.publish_event(self, event)
        if event.stage == Stage.HOLD_DETECTION and event.outcome == "completed":
            assert self.client is not None
            handle = self.client.get_workflow_handle(activity.info().workflow_id)
            # Not awaited here: the run goes on only once this activity is done.
            self.answers.append(asyncio.create_task(submit_hold_map(handle, corrected_map())))


def workers(client: Client, task_queue: str, fake: FakePipeline) -> Any:
    """Both workflows on the CPU queue, as the production CPU worker hosts them."""
    return pipeline_workers(
        client, task_queue, fake, workflows=(RouteHoldsWorkflow, VideoAnalysisWorkflow)
    )


def _answering(client: Client) -> AnsweringPipeline:
    fake = AnsweringPipeline()
    fake.client, fake.answers = client, []
    return fake


async def _answer(fake: AnsweringPipeline, run: int) -> HoldMap:
    """What the run answered to the correction sent with its event (raises a refusal)."""
    async with asyncio.timeout(30):
        while len(fake.answers) <= run:
            await asyncio.sleep(0.01)
        return await fake.answers[run]


async def test_an_analysis_takes_the_correction_sent_with_the_event(
    temporal_dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    client = temporal_dev_env.client
    fake = _answering(client)
    async with workers(client, task_queue, fake):
        for run in range(RUNS):
            params = analysis_input(task_queue)
            handle = await start_or_attach(client, params)
            assert await _answer(fake, run) == corrected_map()
            result = await handle.result()
            assert result.status == Status.COMPLETED
            assert result.hold_count == len(corrected_map().holds)
            assert not result.used_detected_holds_after_deadline
        await record_history(handle, "update_validation_on_the_announcement")
    events = [e for e in fake.events if e.analysis_id == params.analysis_id]
    assert events[0].routing_key == f"hold_detection.completed.{params.analysis_id}"
    assert events[0].status == Status.PROCESSING  # the documented body, unchanged


async def test_a_route_takes_the_correction_sent_with_the_event(
    temporal_dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    client = temporal_dev_env.client
    fake = _answering(client)
    async with workers(client, task_queue, fake):
        for run in range(RUNS):
            route = route_input(task_queue, job_id=None)
            handle = await start_or_attach_route_holds(client, route)
            assert await _answer(fake, run) == corrected_map()
            result = await handle.result()
            assert result.status == Status.COMPLETED
            assert not result.used_detected_holds_after_deadline
        await record_history(handle, "route_holds_validated_on_the_announcement")
    assert [saved.hold_map for saved in fake.saved_routes] == [corrected_map()] * RUNS
    assert all(event.status == Status.PROCESSING for event in fake.events)
