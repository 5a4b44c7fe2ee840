"""Fault suite: PostgreSQL restarted twice while an analysis runs on the production CPU worker.

First an outage while the holds are validated: the server is stopped (fast shutdown, as
``pg_ctl stop``) before the climber's correction arrives, so the status write that follows fails
and is retried under the workflow's own policy (a local activity: its failures are counted from the
worker's reports, `tests.utils.activity_failures`); the server is started again on the same port
and data folder only once an attempt has failed. Then a quick restart while the skeleton step
runs: every connection the worker's pool holds is dead when the next event is recorded. The
analysis must still complete with nothing lost (`tests.utils.faults.assert_nothing_lost`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from ascension.servers import PostgresServer
from core.analyses import start_or_attach, submit_hold_map
from core.settings import Settings
from core.storage import make_object_store
from core.temporal_client import connect_temporal
from schema.activities import RECORD_ANALYSIS_STATUS
from schema.analysis import Status
from tests.utils.activity_failures import failed_attempts
from tests.utils.faults import (
    assert_nothing_lost,
    consumer_queue,
    cpu_resources_on,
    own_postgres,
    start_input,
    until,
)
from tests.utils.pipeline import FakePipeline, gpu_worker, wait_for_status
from worker_cpu.worker import CpuResources, build_cpu_worker

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def postgres(settings: Settings, run_dir: Path) -> Iterator[PostgresServer]:
    """A cluster of this module's own: restarting it disturbs nothing else in the session.
    Under the run's folder, which the ``postgres`` account can reach (pytest's own is 0700)."""
    with own_postgres(settings, run_dir / "postgres-restarted") as server:
        yield server


@pytest.fixture
async def resources(
    stack_settings: Settings, postgres: PostgresServer
) -> AsyncIterator[CpuResources]:
    async with cpu_resources_on(postgres, stack_settings, "faults") as res:
        yield res


async def test_analysis_survives_postgres_restarts(
    temporal_dev_env: WorkflowEnvironment,
    stack_settings: Settings,
    resources: CpuResources,
    postgres: PostgresServer,
    amqp_url: str,
    task_queue: str,
) -> None:
    """Not lost: the result document, the completed row and its one metrics row, one event-log
    row per event, and every completion event published (copies only under one message id)."""
    target = temporal_dev_env.client.service_client.config.target_host
    client = await connect_temporal(stack_settings, resources.store, target=target)
    bucket = stack_settings.bucket
    params = await start_input(resources.engine, resources.store, bucket, task_queue, b"video")
    queue = consumer_queue(amqp_url, params.analysis_id)
    fake = FakePipeline(store=make_object_store(stack_settings), skeleton_gate=asyncio.Event())

    async with (
        build_cpu_worker(client, resources, task_queue=params.cpu_task_queue),
        gpu_worker(client, task_queue, fake),
    ):
        handle = await start_or_attach(client, params)
        await wait_for_status(handle, Status.AWAITING_HOLD_VALIDATION)

        # The outage: the status write after the correction fails until the server is back.
        with failed_attempts() as failures:
            await asyncio.to_thread(postgres.stop)
            await submit_hold_map(handle, fake.hold_map)

            async def failed() -> bool:
                return failures[RECORD_ANALYSIS_STATUS.name] >= 1

            await until(failed, "a status write failing while PostgreSQL is down")
            await asyncio.to_thread(postgres.start)

        # The quick restart: the pool's connections all die while the skeleton runs.
        await asyncio.wait_for(fake.skeleton_started.wait(), timeout=60)
        await asyncio.to_thread(postgres.restart)
        assert fake.skeleton_gate is not None
        fake.skeleton_gate.set()
        result = await asyncio.wait_for(handle.result(), timeout=120)
    assert fake.store is not None
    await fake.store.close()

    found = await assert_nothing_lost(
        result=result,
        params=params,
        engine=resources.engine,
        store=resources.store,
        amqp_url=amqp_url,
        queue=queue,
    )
    print(f"after two PostgreSQL restarts: {found}")
