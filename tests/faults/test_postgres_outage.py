"""Fault suite: PostgreSQL down for longer than a bookkeeping step's local retries
(`analysis_steps.run_database_step`), on the production CPU worker.

The runs wait ``database_outage_s`` = 40 s for their database (4 s locally, then as a regular
activity), so the server stays down well past the local window yet the test takes seconds. It
is started again on the same port and data folder once the server has retried the step as a
regular activity (pending in DescribeWorkflowExecution, its last failure the database's own).

- An analysis started while the database is down: its first status waits for it, and the
  analysis then completes with nothing lost.
- A step that fails while the database is down: the failure is recorded on the row once it is
  back, and ``skeleton.failed`` is published once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pika
import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from ascension.servers import PostgresServer
from core.analyses import start_or_attach
from core.db import session_scope
from core.settings import Settings
from core.storage import make_object_store
from core.temporal_client import connect_temporal
from schema import names
from schema.activities import EXTRACT_SKELETON, RECORD_ANALYSIS_STATUS
from schema.analysis import Stage, Status
from schema.models import Analysis
from schema.steps import ExtractSkeletonInput, SkeletonResult
from tests.utils.faults import (
    assert_nothing_lost,
    consumer_queue,
    cpu_resources_on,
    drain,
    own_postgres,
    start_input,
    until,
)
from tests.utils.pipeline import FakePipeline, detected_map, gpu_worker
from worker_cpu.worker import CpuResources, build_cpu_worker

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: Ten times the local window: the step outlives it as a regular activity.
OUTAGE_S = 40.0
BAD_VIDEO = "we could not read this video: the file is not a video"


@dataclass
class _BadVideoOnceDown(FakePipeline):
    """Skeleton extraction finds bad input once the test has stopped the database."""

    @activity.defn(name=EXTRACT_SKELETON.name)
    async def extract_skeleton(self, params: ExtractSkeletonInput) -> SkeletonResult:
        self.skeleton_started.set()
        assert self.skeleton_gate is not None
        await self.skeleton_gate.wait()
        raise ApplicationError(BAD_VIDEO, type=names.INVALID_VIDEO, non_retryable=True)


@pytest.fixture(scope="module")
def postgres(settings: Settings, run_dir: Path) -> Iterator[PostgresServer]:
    """A cluster of this module's own: stopping it disturbs nothing else in the session."""
    with own_postgres(settings, run_dir / "postgres-outage") as server:
        yield server


@pytest.fixture
async def resources(
    stack_settings: Settings, postgres: PostgresServer
) -> AsyncIterator[CpuResources]:
    async with cpu_resources_on(postgres, stack_settings, f"outage_{uuid.uuid4().hex[:8]}") as res:
        yield res


def _queued(amqp_url: str, queue: str) -> int:
    """How many messages wait in ``queue``, left there."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        declared = connection.channel().queue_declare(queue, passive=True)
        return int(declared.method.message_count)
    finally:
        connection.close()


async def _retried_as_regular_activity(handle: WorkflowHandle, step: str) -> None:
    async def pending() -> bool:
        description = await handle.describe()
        return any(
            p.activity_type.name == step and p.attempt >= 2
            for p in description.raw_description.pending_activities
        )

    await until(pending, f"{step} retried by the server while PostgreSQL is down")


async def test_an_analysis_started_during_an_outage_completes_once_postgres_is_back(
    temporal_dev_env: WorkflowEnvironment,
    stack_settings: Settings,
    resources: CpuResources,
    postgres: PostgresServer,
    amqp_url: str,
    task_queue: str,
) -> None:
    target = temporal_dev_env.client.service_client.config.target_host
    client = await connect_temporal(stack_settings, resources.store, target=target)
    bucket = stack_settings.bucket
    params = await start_input(resources.engine, resources.store, bucket, task_queue, b"video")
    params = dataclasses.replace(params, route_hold_map=detected_map(), database_outage_s=OUTAGE_S)
    queue = consumer_queue(amqp_url, params.analysis_id)
    fake = FakePipeline(store=make_object_store(stack_settings))
    async with (
        build_cpu_worker(client, resources, task_queue=params.cpu_task_queue),
        gpu_worker(client, task_queue, fake),
    ):
        # Down before the run's first step, its status: nothing else needs the database
        # first (every later step but the GPU ones does: the events' log too).
        await asyncio.to_thread(postgres.stop)
        handle = await start_or_attach(client, params)
        await _retried_as_regular_activity(handle, RECORD_ANALYSIS_STATUS.name)
        await asyncio.to_thread(postgres.start)
        result = await asyncio.wait_for(handle.result(), timeout=60)
    assert fake.store is not None
    await fake.store.close()
    await assert_nothing_lost(
        result=result,
        params=params,
        engine=resources.engine,
        store=resources.store,
        amqp_url=amqp_url,
        queue=queue,
        # A known route: no hold detection, so no hold_detection.completed.
        stages=(Stage.SKELETON, Stage.ADVICE, Stage.GHOST, Stage.ANALYSIS),
    )


async def test_a_failure_during_an_outage_is_recorded_and_published_once(
    temporal_dev_env: WorkflowEnvironment,
    stack_settings: Settings,
    resources: CpuResources,
    postgres: PostgresServer,
    amqp_url: str,
    task_queue: str,
) -> None:
    target = temporal_dev_env.client.service_client.config.target_host
    client = await connect_temporal(stack_settings, resources.store, target=target)
    bucket = stack_settings.bucket
    params = await start_input(resources.engine, resources.store, bucket, task_queue, b"video")
    params = dataclasses.replace(
        params, route_hold_map=detected_map(), database_outage_s=OUTAGE_S, keep_video=True
    )
    queue = consumer_queue(amqp_url, params.analysis_id)
    fake = _BadVideoOnceDown(skeleton_gate=asyncio.Event())
    async with (
        build_cpu_worker(client, resources, task_queue=params.cpu_task_queue),
        gpu_worker(client, task_queue, fake),
    ):
        handle = await start_or_attach(client, params)
        await asyncio.wait_for(fake.skeleton_started.wait(), timeout=60)
        await asyncio.to_thread(postgres.stop)
        assert fake.skeleton_gate is not None
        fake.skeleton_gate.set()
        await _retried_as_regular_activity(handle, RECORD_ANALYSIS_STATUS.name)
        assert await asyncio.to_thread(_queued, amqp_url, queue) == 0  # the record comes first
        await asyncio.to_thread(postgres.start)
        with pytest.raises(WorkflowFailureError):
            await asyncio.wait_for(handle.result(), timeout=60)

    async with session_scope(resources.engine) as session:
        row = await session.get(Analysis, uuid.UUID(params.analysis_id))
        assert row is not None
        assert (row.status, row.stage) == (Status.FAILED, "skeleton")
        assert row.failure_reason == BAD_VIDEO
    received = await asyncio.to_thread(drain, amqp_url, queue)
    assert [m.routing_key for m in received] == [f"skeleton.failed.{params.analysis_id}"]
    assert [m.message_id for m in received] == [f"{params.analysis_id}:skeleton:failed"]
