"""The production CPU worker against real PostgreSQL, MinIO, RabbitMQ and the Temporal dev server.

Only the GPU activities are doubles (the vision engines are tested on their own); everything the
workflow does around them — status rows, metrics, the route's hold map, the seed's events, the
upload's deletion, payloads kept out of history — is the code that runs in production.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import jsonschema
import pika
import pytest
from sqlmodel import select
from temporalio.client import Client, WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from core.analyses import start_or_attach, submit_hold_map
from core.db import session_scope
from core.storage import make_object_store
from core.temporal_client import connect_temporal
from engines.document import decode_result_document
from schema import names
from schema.analysis import Stage, Status
from schema.events import EVENT_JSON_SCHEMA
from schema.models import Analysis, AnalysisMetrics, Route
from tests.utils.pipeline import (
    GHOST_VERDICT,
    FakePipeline,
    analysis_input,
    dense_hold_map,
    gpu_worker,
    wait_for_status,
)
from tests.utils.records import SeededAnalysis, seed_analysis
from worker_cpu.worker import CpuResources, build_cpu_worker, open_cpu_resources

pytestmark = pytest.mark.integration

#: Temporal's own advice is to keep histories small; the issue's bound for a long video.
HISTORY_LIMIT_BYTES = 64 * 1024
RESULT_SCHEMA = json.loads(
    (Path(__file__).parents[2] / "schema/json/analysis_result.schema.json").read_text()
)


@pytest.fixture(scope="module")
async def resources(stack_settings) -> AsyncIterator[CpuResources]:
    async with open_cpu_resources(stack_settings, create_tables=True) as res:
        await res.store.ensure_bucket(stack_settings.bucket)
        yield res


@pytest.fixture(scope="module")
async def client(temporal_dev_env: WorkflowEnvironment, stack_settings, resources) -> Client:
    target = temporal_dev_env.client.service_client.config.target_host
    return await connect_temporal(stack_settings, resources.store, target=target)


@pytest.fixture
def events(amqp_url: str) -> Iterator[pika.adapters.blocking_connection.BlockingChannel]:
    """A plain consumer queue bound to every event, as an existing seed consumer would bind."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.exchange_declare(names.EVENTS_EXCHANGE, exchange_type="topic", durable=True)
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, names.EVENTS_EXCHANGE, routing_key="#")
    channel.consumer_queue = queue  # type: ignore[attr-defined]
    yield channel
    connection.close()


def _drain(channel, job_id: str) -> list[tuple[str, dict, str]]:
    """(routing key, body, message id) of every event for ``job_id`` now in the queue."""
    received = []
    while True:
        method, properties, body = channel.basic_get(channel.consumer_queue, auto_ack=True)
        if method is None:
            return received
        if method.routing_key.endswith(job_id):
            received.append((method.routing_key, json.loads(body), properties.message_id))


async def _start(client: Client, params):
    return await start_or_attach(client, params)


def _params(seeded: SeededAnalysis, task_queue: str, bucket: str, **overrides):
    return analysis_input(
        task_queue,
        analysis_id=seeded.analysis_id,
        user_id=seeded.user_id,
        video_id=seeded.video_id,
        video_key=seeded.video_key,
        route_id=seeded.route_id,
        bucket=bucket,
        **overrides,
    )


async def test_completed_analysis_updates_rows_events_and_upload(
    client: Client, resources: CpuResources, stack_settings, events, task_queue: str
) -> None:
    seeded = await seed_analysis(resources.engine)
    await resources.store.put_bytes(stack_settings.bucket, seeded.video_key, b"video bytes")
    fake = FakePipeline(store=make_object_store(stack_settings))
    params = _params(seeded, task_queue, stack_settings.bucket)

    async with (
        build_cpu_worker(client, resources, task_queue=params.cpu_task_queue),
        gpu_worker(client, task_queue, fake),
    ):
        handle = await _start(client, params)
        await wait_for_status(handle, Status.AWAITING_HOLD_VALIDATION)
        # The Query reports the status as soon as the workflow sets it; the row follows once
        # the record activity has run.
        for _ in range(200):
            async with session_scope(resources.engine) as session:
                waiting = await session.get(Analysis, uuid.UUID(seeded.analysis_id))
            if waiting is not None and waiting.status is Status.AWAITING_HOLD_VALIDATION:
                break
            await asyncio.sleep(0.05)
        assert waiting is not None
        assert waiting.status is Status.AWAITING_HOLD_VALIDATION
        await submit_hold_map(handle, fake.hold_map)
        result = await handle.result()

    assert result.status is Status.COMPLETED
    assert fake.store is not None
    await fake.store.close()
    async with session_scope(resources.engine) as session:
        analysis = await session.get(Analysis, uuid.UUID(seeded.analysis_id))
        route = await session.get(Route, uuid.UUID(seeded.route_id))
        metrics = (
            await session.exec(
                select(AnalysisMetrics).where(
                    AnalysisMetrics.analysis_id == uuid.UUID(seeded.analysis_id)
                )
            )
        ).all()
    assert analysis is not None and analysis.status is Status.COMPLETED
    assert analysis.completed_at is not None and analysis.processing_time_ms is not None
    assert analysis.result_json is not None
    assert analysis.result_json["advice_key"] == names.result_key(seeded.analysis_id, "advice")
    assert len(metrics) == 1
    assert metrics[0].max_reach_cm == pytest.approx(171.0)
    assert metrics[0].hold_count == len(fake.hold_map.holds)
    assert route is not None and route.hold_map_validated_at is not None
    assert route.hold_map is not None
    assert [h["id"] for h in route.hold_map["holds"]] == [h.id for h in fake.hold_map.holds]
    # The app's document: compact, versioned, valid against its published schema.
    assert result.result_key == names.result_key(seeded.analysis_id, "result")
    packed = await resources.store.get_bytes(stack_settings.bucket, result.result_key)
    document = json.loads(gzip.decompress(packed))
    jsonschema.validate(document, RESULT_SCHEMA)
    decoded = decode_result_document(document)
    assert len(decoded.skeleton) == fake.frames
    assert decoded.ghost is not None and len(decoded.ghost) == fake.frames
    assert decoded.ghost_verdict == GHOST_VERDICT  # the ghost step's verdict reaches the app
    assert [h.id for h in decoded.hold_map.holds] == [h.id for h in fake.hold_map.holds]
    assert analysis.result_json["result_document_bytes"] == len(packed)
    # The seed lifecycle: an unsaved upload is deleted once analysed.
    assert not await resources.store.exists(stack_settings.bucket, seeded.video_key)

    received = _drain(events, seeded.analysis_id)
    job = seeded.analysis_id
    assert [key for key, _, _ in received] == [
        f"hold_detection.completed.{job}",
        f"skeleton.completed.{job}",
        f"advice.completed.{job}",
        f"ghost.completed.{job}",
        f"analysis.completed.{job}",
    ]
    for key, body, message_id in received:
        jsonschema.validate(body, EVENT_JSON_SCHEMA)
        assert body["job_id"] == job and body["status"] == "completed"
        assert body["user_id"] == seeded.user_id
        assert message_id == f"{job}:{key.split('.')[0]}:completed"


async def test_bad_input_records_failure_reason_and_publishes_failed_event(
    client: Client, resources: CpuResources, stack_settings, events, task_queue: str
) -> None:
    seeded = await seed_analysis(resources.engine)
    await resources.store.put_bytes(stack_settings.bucket, seeded.video_key, b"not a video")
    fake = FakePipeline(skeleton_bad_input=True, store=make_object_store(stack_settings))
    params = _params(seeded, task_queue, stack_settings.bucket, route_hold_map=fake.hold_map)

    async with (
        build_cpu_worker(client, resources, task_queue=params.cpu_task_queue),
        gpu_worker(client, task_queue, fake),
    ):
        handle = await _start(client, params)
        with pytest.raises(WorkflowFailureError):
            await handle.result()

    async with session_scope(resources.engine) as session:
        analysis = await session.get(Analysis, uuid.UUID(seeded.analysis_id))
    assert analysis is not None and analysis.status is Status.FAILED
    assert analysis.stage == Stage.SKELETON.value
    assert analysis.failure_reason == "we could not read this video: the file is not a video"
    assert not await resources.store.exists(stack_settings.bucket, seeded.video_key)
    received = _drain(events, seeded.analysis_id)
    assert [key for key, _, _ in received] == [f"skeleton.failed.{seeded.analysis_id}"]
    body = received[0][1]
    jsonschema.validate(body, EVENT_JSON_SCHEMA)
    assert body["status"] == "failed"
    assert body["reason"] == analysis.failure_reason


async def test_history_of_a_five_minute_video_with_a_dense_wall_stays_small(
    client: Client, resources: CpuResources, stack_settings, task_queue: str
) -> None:
    """9 000 frames of skeleton and a 200-hold map with outlines never enter the history."""
    seeded = await seed_analysis(resources.engine)
    fake = FakePipeline(
        frames=5 * 60 * 30, hold_map=dense_hold_map(), store=make_object_store(stack_settings)
    )
    params = _params(seeded, task_queue, stack_settings.bucket)

    async with (
        build_cpu_worker(client, resources, task_queue=params.cpu_task_queue),
        gpu_worker(client, task_queue, fake),
    ):
        handle = await _start(client, params)
        await wait_for_status(handle, Status.AWAITING_HOLD_VALIDATION)
        await submit_hold_map(handle, fake.hold_map)
        result = await handle.result()
    assert fake.store is not None
    await fake.store.close()

    history = await handle.fetch_history()
    size = sum(event.ByteSize() for event in history.events)
    print(f"history: {len(history.events)} events, {size} bytes")
    assert size < HISTORY_LIMIT_BYTES, f"history is {size} bytes"
    # The skeleton lives in object storage, at the key the result names.
    assert result.skeleton_key is not None
    stored = await resources.store.size(stack_settings.bucket, result.skeleton_key)
    assert stored is not None and stored > HISTORY_LIMIT_BYTES
    # The dense hold map travelled through Temporal as a reference to the payload bucket.
    external = [
        payload
        for event in history.events
        for payload in _payloads(event)
        if payload.external_payloads
    ]
    assert external, "no payload was stored externally"
    inline_map_bytes = len(json.dumps([h.__dict__ for h in fake.hold_map.holds]))
    assert inline_map_bytes > HISTORY_LIMIT_BYTES / 4  # the map alone would crowd the history


def _payloads(event):
    """Every payload carried by a history event (inputs, results, update arguments)."""
    for field, value in event.ListFields():
        if field.message_type is None:
            continue
        yield from _walk(value)


def _walk(message):
    from temporalio.api.common.v1 import Payload

    if isinstance(message, Payload):
        yield message
        return
    if hasattr(message, "ListFields"):
        for field, value in message.ListFields():
            if field.message_type is None:
                continue
            if field.label == field.LABEL_REPEATED:
                for item in value.values() if hasattr(value, "values") else value:
                    yield from _walk(item)
            else:
                yield from _walk(value)


def test_published_event_schema_file_matches_the_code() -> None:
    """Consumers read the file; the publisher validates against the code's copy."""
    path = Path(__file__).parents[2] / "schema/json/analysis_event.schema.json"
    assert json.loads(path.read_text()) == EVENT_JSON_SCHEMA
