"""Harness of the fault suite (`tests/faults`): one analysis through the production CPU worker,
a server restarted while it runs, and the check that nothing it produced was lost.

"Nothing lost" is checked where a climber and the seed's consumers look: the result document in
the bucket, the analysis row marked completed with its summary and one metrics row, one
``analysis_events`` row per event, and every completion event in a durable consumer queue bound
to this analysis alone, a copy allowed only as the same message again (same ``message_id``, body
and event-log id), which consumers drop.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pika
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from activities.events import EVENT_ID_HEADER
from ascension.servers import PostgresServer
from ascension.toolchain import components
from core.db import session_scope
from core.settings import Settings
from core.storage import ObjectStore
from schema import names
from schema.analysis import AnalysisResult, Stage, StartAnalysisInput, Status
from schema.models import Analysis, AnalysisEventRecord, AnalysisMetrics
from tests.utils.pipeline import analysis_input
from tests.utils.records import seed_analysis
from worker_cpu.worker import CpuResources, open_cpu_resources


@contextmanager
def own_postgres(settings: Settings, folder: Path) -> Iterator[PostgresServer]:
    """A PostgreSQL cluster of the caller's own in ``folder`` (under the run's folder, which
    the ``postgres`` account can reach; pytest's own is 0700): stopping or restarting it
    disturbs nothing else in the session."""
    report = components.report_postgres(settings)
    bin_dir = components.postgres_bin_dir(settings)
    if not report.found or bin_dir is None:
        pytest.fail(f"postgresql is missing. Fix: {report.fix}", pytrace=False)
    server = PostgresServer(bin_dir, folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@asynccontextmanager
async def cpu_resources_on(
    postgres: PostgresServer, stack_settings: Settings, database: str
) -> AsyncIterator[CpuResources]:
    """The production CPU worker's connections, its database ``database`` on ``postgres``."""
    url = await asyncio.to_thread(postgres.create_database, database)
    worker_settings = stack_settings.model_copy(update={"database_url": url})
    async with open_cpu_resources(worker_settings, create_tables=True) as res:
        await res.store.ensure_bucket(stack_settings.bucket)
        yield res


#: The completion events of a premium analysis whose holds were detected and validated.
COMPLETED_STAGES = (Stage.HOLD_DETECTION, Stage.SKELETON, Stage.ADVICE, Stage.GHOST, Stage.ANALYSIS)


@dataclass(frozen=True)
class Received:
    routing_key: str
    message_id: str
    event_id: int
    body: bytes


async def start_input(
    engine: AsyncEngine, store: ObjectStore, bucket: str, task_queue: str, video: bytes
) -> StartAnalysisInput:
    """The rows the API would create, the uploaded video, and the workflow's start input."""
    seeded = await seed_analysis(engine)
    await store.put_bytes(bucket, seeded.video_key, video)
    return analysis_input(
        task_queue,
        analysis_id=seeded.analysis_id,
        user_id=seeded.user_id,
        video_id=seeded.video_id,
        video_key=seeded.video_key,
        route_id=seeded.route_id,
        bucket=bucket,
    )


def consumer_queue(amqp_url: str, analysis_id: str) -> str:
    """A seed consumer's durable queue, bound (before anything is published) to the events of
    ``analysis_id`` only, so other tests' events on the shared broker never reach it."""
    queue = f"faults.{analysis_id}"
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        channel.exchange_declare(names.EVENTS_EXCHANGE, exchange_type="topic", durable=True)
        channel.queue_declare(queue, durable=True)
        channel.queue_bind(queue, names.EVENTS_EXCHANGE, routing_key=f"*.*.{analysis_id}")
    finally:
        connection.close()
    return queue


def drain(amqp_url: str, queue: str) -> list[Received]:
    """Every message in ``queue`` (removed), then the queue itself."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    received = []
    try:
        channel = connection.channel()
        while True:
            method, properties, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                break
            event_id = int((properties.headers or {}).get(EVENT_ID_HEADER, -1))
            received.append(Received(method.routing_key, properties.message_id, event_id, body))
        channel.queue_delete(queue)
    finally:
        connection.close()
    return received


async def until(condition: Callable[[], Awaitable[bool]], what: str, timeout: float = 60) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        assert loop.time() < deadline, f"{what}: not reached within {timeout:.0f} s"
        await asyncio.sleep(0.1)


async def assert_nothing_lost(
    *,
    result: AnalysisResult,
    params: StartAnalysisInput,
    engine: AsyncEngine,
    store: ObjectStore,
    amqp_url: str,
    queue: str,
    stages: tuple[Stage, ...] = COMPLETED_STAGES,
) -> str:
    """Fail unless the analysis left everything a climber and the consumers rely on; returns a
    line saying what was found (printed by the tests)."""
    analysis_id = params.analysis_id
    assert result.status is Status.COMPLETED, result

    # The result document the API serves is stored, whole, for this analysis.
    assert result.result_key == names.result_key(analysis_id, "result")
    raw = await store.get_bytes(params.bucket, result.result_key)
    document = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    assert document["analysis_id"] == analysis_id
    assert document["video"]["frame_count"] > 0 and document["holds"]

    # The row the API lists is completed, with the summary and a single metrics row.
    uid = uuid.UUID(analysis_id)
    async with session_scope(engine) as session:
        row = await session.get(Analysis, uid)
    assert row is not None
    assert row.status == Status.COMPLETED and row.completed_at is not None
    assert row.failure_reason is None and row.result_json is not None
    assert row.result_json["result_document_bytes"] == len(raw)
    metrics_table = AnalysisMetrics.__table__  # type: ignore[attr-defined]
    events_table = AnalysisEventRecord.__table__  # type: ignore[attr-defined]
    async with engine.connect() as connection:
        metrics = (
            await connection.execute(select(func.count()).where(metrics_table.c.analysis_id == uid))
        ).scalar_one()
        logged = (
            await connection.execute(
                select(events_table.c.message_id, events_table.c.id).where(
                    events_table.c.analysis_id == uid
                )
            )
        ).all()
    assert metrics == 1

    # One event-log row per event (WebSocket clients replay from it), each published.
    expected = {f"{analysis_id}:{stage.value}:completed" for stage in stages}
    log_ids: dict[str, int] = {message_id: event_id for message_id, event_id in logged}
    assert sorted(log_ids) == sorted(expected) and len(logged) == len(expected)
    received = await asyncio.to_thread(drain, amqp_url, queue)
    assert {message.message_id for message in received} == expected
    first: dict[str, Received] = {}
    for message in received:
        assert message.routing_key == f"{message.message_id.split(':')[1]}.completed.{analysis_id}"
        assert message.event_id == log_ids[message.message_id]
        # A copy (a confirm lost with a connection) is the same message: consumers drop it.
        assert first.setdefault(message.message_id, message) == message
    return (
        f"document {len(raw)} bytes, row completed, {len(logged)} logged events, "
        f"{len(received)} messages for {len(expected)} events"
    )
