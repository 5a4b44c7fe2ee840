"""The real Temporal servers the project builds: time-skipping test server and dev server."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from temporalio import activity, workflow
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

pytestmark = pytest.mark.integration


@dataclass
class ReminderInput:
    name: str
    wait_days: int


@workflow.defn
class ReminderWorkflow:
    """Waits for days, then greets: only time skipping makes this testable."""

    @workflow.run
    async def run(self, params: ReminderInput) -> str:
        started = workflow.now()
        await asyncio.sleep(timedelta(days=params.wait_days).total_seconds())
        waited = workflow.now() - started
        return f"{params.name} after {waited.days} days"


@activity.defn
async def shout(text: str) -> str:
    return text.upper()


@workflow.defn
class ShoutWorkflow:
    @workflow.run
    async def run(self, text: str) -> str:
        return await workflow.execute_activity(
            shout, text, start_to_close_timeout=timedelta(seconds=10)
        )


async def test_long_timer_completes_at_once_on_time_skipping_server(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with Worker(
        time_skipping_env.client, task_queue=task_queue, workflows=[ReminderWorkflow]
    ):
        started = time.monotonic()
        result = await time_skipping_env.client.execute_workflow(
            ReminderWorkflow.run,
            ReminderInput(name="hangboard", wait_days=30),
            id=f"reminder-{uuid.uuid4()}",
            task_queue=task_queue,
        )
    assert result == "hangboard after 30 days"
    # Thirty days of workflow time passed in far less than a minute of wall time.
    assert time.monotonic() - started < 60


async def test_workflow_result_and_history_read_back_from_dev_server(
    temporal_dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    client = temporal_dev_env.client
    workflow_id = f"shout-{uuid.uuid4()}"
    async with Worker(client, task_queue=task_queue, workflows=[ShoutWorkflow], activities=[shout]):
        handle = await client.start_workflow(
            ShoutWorkflow.run, "send it", id=workflow_id, task_queue=task_queue
        )
        assert await handle.result() == "SEND IT"

    history: WorkflowHistory = await handle.fetch_history()
    assert history.workflow_id == workflow_id
    kinds = [event.WhichOneof("attributes") for event in history.events]
    assert kinds[0] == "workflow_execution_started_event_attributes"
    assert "activity_task_completed_event_attributes" in kinds
    assert kinds[-1] == "workflow_execution_completed_event_attributes"
    description = await handle.describe()
    assert description.status is not None and description.status.name == "COMPLETED"
