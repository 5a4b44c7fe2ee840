"""Zero loss (seed 004's promise) across a RabbitMQ outage: events, and the legacy ingress.

A private RabbitMQ node (its own ports and data folder) is stopped while the workflow runs on the
production CPU worker, before its completion events, and started again. The ``publish_event``
activity fails while the broker is down and is retried under the workflow's own policy (1 s
doubling to 1 min, for up to a day): nothing in the test shortens it. It runs as a local activity
(`workflows.analysis_steps.BOOKKEEPING`), so its failed attempts are counted from the worker's own
reports (`tests.utils.activity_failures`), not from the server's pending activities. A plain
consumer queue, durable and declared before the outage, must then hold every documented event of
the analysis, with duplicates (a confirm lost with the connection) only as exact copies under one
message id.
The legacy ingress, consuming from the same node, must reconnect on its own once it is back.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pika
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.events import EVENT_ID_HEADER
from ascension.servers import RabbitMQServer
from ascension.toolchain import components
from core.analyses import start_or_attach, submit_hold_map
from core.settings import Settings
from core.storage import make_object_store
from core.temporal_client import connect_temporal
from ingress.consumer import PARKING_QUEUE, REASON_HEADER, running_ingress
from ingress.jobs import JobMapper
from schema import names
from schema.activities import GENERATE_ADVICE, PUBLISH_EVENT
from schema.analysis import Stage, Status
from tests.utils.activity_failures import failed_attempts
from tests.utils.pipeline import FakePipeline, analysis_input, gpu_worker, wait_for_status
from tests.utils.records import seed_analysis
from worker_cpu.worker import CpuResources, build_cpu_worker, open_cpu_resources

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CONSUMER_QUEUE = "outage.consumer"
COMPLETED_STAGES = (Stage.HOLD_DETECTION, Stage.SKELETON, Stage.ADVICE, Stage.GHOST, Stage.ANALYSIS)


@pytest.fixture(scope="module")
def broker(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RabbitMQServer]:
    """A node of this module's own: stopping it disturbs nothing else in the session."""
    found = components.report_rabbitmq(settings)
    if not found.found or found.path is None:
        pytest.fail(f"rabbitmq is missing. Fix: {found.fix}", pytrace=False)
    folder = tmp_path_factory.mktemp("outage")
    folder.chmod(0o755)
    server = RabbitMQServer(found.path, folder / "rabbitmq")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def resources(
    stack_settings: Settings, broker: RabbitMQServer
) -> AsyncIterator[CpuResources]:
    """The production CPU worker's connections, its event publisher pointing at ``broker``."""
    worker_settings = stack_settings.model_copy(update={"amqp_url": broker.url()})
    async with open_cpu_resources(worker_settings, create_tables=True) as res:
        await res.store.ensure_bucket(stack_settings.bucket)
        yield res


def _declare_consumer_queue(url: str) -> None:
    """What an existing seed consumer has: a durable queue bound to every event."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.exchange_declare(names.EVENTS_EXCHANGE, exchange_type="topic", durable=True)
        channel.queue_declare(CONSUMER_QUEUE, durable=True)
        channel.queue_bind(CONSUMER_QUEUE, names.EVENTS_EXCHANGE, routing_key="#")
    finally:
        connection.close()


def _drain(url: str, queue: str = CONSUMER_QUEUE) -> list[tuple[str, str, dict[str, Any], bytes]]:
    """(routing key, message id, headers, body) of every message in ``queue``, removing them."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    received = []
    try:
        channel = connection.channel()
        while True:
            method, properties, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                return received
            received.append((method.routing_key, properties.message_id, properties.headers, body))
    finally:
        connection.close()


async def test_every_event_arrives_after_the_broker_restarts(
    temporal_dev_env: WorkflowEnvironment,
    stack_settings: Settings,
    resources: CpuResources,
    broker: RabbitMQServer,
    task_queue: str,
) -> None:
    target = temporal_dev_env.client.service_client.config.target_host
    client: Client = await connect_temporal(stack_settings, resources.store, target=target)
    _declare_consumer_queue(broker.url())
    seeded = await seed_analysis(resources.engine)
    await resources.store.put_bytes(stack_settings.bucket, seeded.video_key, b"video bytes")
    fake = FakePipeline(store=make_object_store(stack_settings))
    params = analysis_input(
        task_queue,
        analysis_id=seeded.analysis_id,
        user_id=seeded.user_id,
        video_id=seeded.video_id,
        video_key=seeded.video_key,
        route_id=seeded.route_id,
        bucket=stack_settings.bucket,
    )
    job = seeded.analysis_id

    with failed_attempts() as failures:
        async with (
            build_cpu_worker(client, resources, task_queue=params.cpu_task_queue),
            gpu_worker(client, task_queue, fake),
        ):
            handle = await start_or_attach(client, params)
            # hold_detection.completed is out; the rest comes after the holds are validated.
            await wait_for_status(handle, Status.AWAITING_HOLD_VALIDATION)
            await asyncio.to_thread(broker.stop)
            await submit_hold_map(handle, fake.hold_map)
            # skeleton.completed cannot be published: the activity fails and is retried.
            for _ in range(300):
                if failures[PUBLISH_EVENT.name] >= 1:
                    break
                await asyncio.sleep(0.1)
            assert failures[PUBLISH_EVENT.name] >= 1, "publish_event never failed"
            assert fake.calls.count(GENERATE_ADVICE.name) == 0  # the workflow waits for its event
            await asyncio.to_thread(broker.start)
            result = await asyncio.wait_for(handle.result(), timeout=120)
    assert fake.store is not None
    await fake.store.close()

    assert result.status is Status.COMPLETED
    received = _drain(broker.url())
    expected = {
        f"{stage.value}.completed.{job}": f"{job}:{stage.value}:completed"
        for stage in COMPLETED_STAGES
    }
    assert {key for key, *_ in received} == set(expected)
    copies: dict[str, tuple[str, Any, bytes]] = {}
    for key, message_id, headers, body in received:
        assert message_id == expected[key]
        assert json.loads(body)["job_id"] == job
        # A duplicate is the same message again: same id, key, event-log id and body.
        first = copies.setdefault(message_id, (key, headers[EVENT_ID_HEADER], body))
        assert first == (key, headers[EVENT_ID_HEADER], body)
    print(f"{len(received)} messages for {len(expected)} events after the outage")


async def test_ingress_reconnects_after_the_broker_restarts(
    temporal_dev_env: WorkflowEnvironment,
    stack_settings: Settings,
    resources: CpuResources,
    broker: RabbitMQServer,
) -> None:
    target = temporal_dev_env.client.service_client.config.target_host
    client = await connect_temporal(stack_settings, resources.store, target=target)
    mapper = JobMapper(client, resources.engine, resources.store, stack_settings)
    async with running_ingress(broker.url(), mapper) as ingress:
        await _until(ingress.consuming.is_set)
        await asyncio.to_thread(broker.stop)
        await _until(lambda: not ingress.consuming.is_set())
        await asyncio.to_thread(broker.start)
        await _until(ingress.consuming.is_set)  # on its own, after backing off
        connection = pika.BlockingConnection(pika.URLParameters(broker.url()))
        try:
            connection.channel().basic_publish(
                names.VISION_EXCHANGE, "vision.skeleton", b"after the restart"
            )
        finally:
            connection.close()
        await _until(lambda: ingress.stats.parked == 1)
    assert ingress.stats.reconnects >= 1
    [(_, _, headers, body)] = _drain(broker.url(), PARKING_QUEUE)
    assert body == b"after the restart" and headers[REASON_HEADER].startswith("not JSON")


async def _until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)
