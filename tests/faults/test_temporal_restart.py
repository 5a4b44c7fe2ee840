"""Fault suite: the Temporal dev server restarted twice while an analysis runs.

The server is `temporal server start-dev` with file persistence (``--db-filename``, as
`ascension stack` runs it), a process of this module's own. It is stopped and started again on the
same port and SQLite file first while the workflow waits for the climber's hold correction (the
run and its validation deadline live only on the server), then while the skeleton step is running
on the GPU worker: that attempt's completion reaches the restarted server. The workers and the
client are never restarted; they reconnect on their own. The analysis must complete with nothing
lost (`tests.utils.faults.assert_nothing_lost`), its skeleton computed once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.service import RPCError

from ascension.servers.process import free_port
from ascension.servers.temporal import TemporalDevServer
from ascension.toolchain import components
from core.analyses import start_or_attach, submit_hold_map
from core.settings import Settings
from core.storage import make_object_store
from core.temporal_client import connect_temporal
from schema.activities import EXTRACT_SKELETON
from schema.analysis import Status
from tests.utils.faults import assert_nothing_lost, consumer_queue, start_input
from tests.utils.pipeline import FakePipeline, gpu_worker, wait_for_status
from worker_cpu.worker import CpuResources, build_cpu_worker, open_cpu_resources

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def temporal_server(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TemporalDevServer]:
    """A dev server of this module's own, its state in a SQLite file that outlives a restart."""
    cli = components.temporal_cli_path(settings)
    if cli is None:
        report = components.report_temporal_cli(settings)
        pytest.fail(f"{report.name} is missing. Fix: {report.fix}", pytrace=False)
    folder: Path = tmp_path_factory.mktemp("temporal-restart")
    server = TemporalDevServer(cli, folder, port=free_port(), namespace="default")
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def _client(settings: Settings, resources: CpuResources, port: int) -> Client:
    """A client once the frontend answers (its port opens before it serves)."""
    target = f"127.0.0.1:{port}"
    for _ in range(100):
        try:
            client = await connect_temporal(settings, resources.store, target=target)
            await client.count_workflows()
            return client
        except (RuntimeError, RPCError):
            await asyncio.sleep(0.3)
    return await connect_temporal(settings, resources.store, target=target)


@pytest.fixture
async def resources(stack_settings: Settings) -> AsyncIterator[CpuResources]:
    async with open_cpu_resources(stack_settings, create_tables=True) as res:
        await res.store.ensure_bucket(stack_settings.bucket)
        yield res


async def test_analysis_survives_temporal_server_restarts(
    temporal_server: TemporalDevServer,
    stack_settings: Settings,
    resources: CpuResources,
    amqp_url: str,
    task_queue: str,
) -> None:
    """Not lost: the run itself (its wait for the correction, then its running step), the
    result document, the completed row and its one metrics row, one event-log row per event,
    and every completion event published (copies only under one message id)."""
    client = await _client(stack_settings, resources, temporal_server.port)
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
        latest = client.get_workflow_handle(handle.id)  # whichever run is the latest
        run_id = (await latest.describe()).run_id
        await asyncio.to_thread(temporal_server.restart)
        # The run is still there, still waiting: the Update reaches it after the restart.
        await wait_for_status(handle, Status.AWAITING_HOLD_VALIDATION)
        await submit_hold_map(handle, fake.hold_map)

        await asyncio.wait_for(fake.skeleton_started.wait(), timeout=60)
        await asyncio.to_thread(temporal_server.restart)
        assert fake.skeleton_gate is not None
        fake.skeleton_gate.set()  # the step ends after the restart; its result must arrive
        result = await asyncio.wait_for(handle.result(), timeout=120)
    assert fake.store is not None
    await fake.store.close()

    assert fake.calls.count(EXTRACT_SKELETON.name) == 1  # completed once, not redone
    assert (await latest.describe()).run_id == run_id  # the same run carried on
    found = await assert_nothing_lost(
        result=result,
        params=params,
        engine=resources.engine,
        store=resources.store,
        amqp_url=amqp_url,
        queue=queue,
    )
    print(f"after two Temporal server restarts: {found}")
