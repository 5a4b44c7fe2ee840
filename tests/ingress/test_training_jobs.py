"""Legacy ``training.program`` jobs through a real RabbitMQ into `TrainingProgramWorkflow`,
run by the production CPU worker: ``training.completed.{job_id}``, redeliveries, parking."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pika
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from ascension.servers import RabbitMQServer
from core.db import session_scope
from core.settings import Settings
from core.temporal_client import connect_temporal
from ingress.consumer import PARKING_QUEUE, REASON_HEADER, running_ingress
from ingress.jobs import JobMapper
from schema import names
from schema.models import TrainingProfileRecord, User
from tests.engines.training.archetypes import INTERMEDIATE_POWER
from tests.ingress.helpers import fresh_vhost, publish, until
from worker_cpu.worker import CpuResources, build_cpu_worker, open_cpu_resources

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def broker_url(rabbitmq: RabbitMQServer | None, amqp_url: str) -> str:
    return fresh_vhost(rabbitmq, amqp_url)


@pytest.fixture(scope="module")
async def resources(stack_settings: Settings, broker_url: str) -> AsyncIterator[CpuResources]:
    settings = stack_settings.model_copy(update={"amqp_url": broker_url})
    async with open_cpu_resources(settings, create_tables=True) as res:
        await res.store.ensure_bucket(settings.bucket)
        yield res


def _publish(url: str, body: bytes, message_id: str) -> None:
    """As a legacy producer: persistent, to ``ascension.training`` by the queue's name."""
    publish(url, "training.program", body, message_id, exchange=names.TRAINING_EXCHANGE)


def _listen(url: str, job_id: str) -> str:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.exchange_declare(names.EVENTS_EXCHANGE, exchange_type="topic", durable=True)
        queue = f"listen-{uuid.uuid4().hex[:8]}"
        channel.queue_declare(queue)
        channel.queue_bind(queue, names.EVENTS_EXCHANGE, routing_key=f"training.*.{job_id}")
        return queue
    finally:
        connection.close()


def _take_all(url: str, queue: str) -> list[tuple[Any, str, bytes]]:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    taken: list[tuple[Any, str, bytes]] = []
    try:
        channel = connection.channel()
        while True:
            method, properties, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                return taken
            taken.append((properties, str(method.routing_key), body))
    finally:
        connection.close()


async def test_training_jobs_start_the_workflow_and_bad_ones_are_parked(
    temporal_dev_env: WorkflowEnvironment,
    stack_settings: Settings,
    resources: CpuResources,
    broker_url: str,
    task_queue: str,
) -> None:
    settings = stack_settings.model_copy(
        update={"cpu_task_queue": f"{task_queue}-cpu", "amqp_url": broker_url}
    )
    user = User(email=f"{uuid.uuid4().hex[:10]}@example.com", password_hash="-")
    stored = {key: value for key, value in INTERMEDIATE_POWER.items() if key != "goals"}
    async with session_scope(resources.engine) as session:
        session.add(user)
        await session.flush()
        session.add(TrainingProfileRecord(user_id=user.id, profile=stored))
        await session.commit()
    target = temporal_dev_env.client.service_client.config.target_host
    client: Client = await connect_temporal(settings, resources.store, target=target)
    job_id = str(uuid.uuid4())
    # The seed's job: the stored profile gives what the job does not carry (level, days, ...).
    good = {"job_id": job_id, "user_id": str(user.id), "goals": ["power"], "injuries": []}
    events = _listen(broker_url, job_id)
    bad = {
        "not-json": (b"{ nope", "not JSON"),
        "unknown-goal": (
            json.dumps({**good, "job_id": str(uuid.uuid4()), "goals": ["flying"]}).encode(),
            "finger_strength",
        ),
        "unknown-user": (
            json.dumps(
                {**good, "job_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4())}
            ).encode(),
            "unknown user",
        ),
        "no-job-id": (json.dumps({"user_id": str(user.id)}).encode(), "job_id: Field required"),
    }
    mapper = JobMapper(client, resources.engine, resources.store, settings)
    async with (
        build_cpu_worker(client, resources, task_queue=settings.cpu_task_queue),
        running_ingress(broker_url, mapper) as ingress,
    ):
        await until(ingress.consuming.is_set, timeout=60.0)
        _publish(broker_url, json.dumps(good).encode(), "good")
        for message_id, (body, _) in bad.items():
            _publish(broker_url, body, message_id)
        await until(
            lambda: ingress.stats.parked == len(bad) and ingress.stats.acked == 1, timeout=60.0
        )
        handle = client.get_workflow_handle(names.training_workflow_id(job_id))
        result = await asyncio.wait_for(handle.result(), timeout=60)
        # A redelivery of the finished job is acked without a second run.
        _publish(broker_url, json.dumps(good).encode(), "again")
        await until(lambda: ingress.stats.acked == 2, timeout=60.0)

    assert result["program_id"] == job_id
    runs = [w async for w in client.list_workflows(f"WorkflowId = '{handle.id}'")]
    assert len(runs) == 1
    [(_, key, body)] = _take_all(broker_url, events)
    assert key == f"training.completed.{job_id}"
    assert json.loads(body)["status"] == "completed"
    parked = {props.message_id: props for props, _, _ in _take_all(broker_url, PARKING_QUEUE)}
    assert set(parked) == set(bad)
    for message_id, (_, reason) in bad.items():
        assert reason in parked[message_id].headers[REASON_HEADER], message_id
