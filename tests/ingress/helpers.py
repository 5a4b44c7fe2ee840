"""Helpers shared by the ingress tests: a RabbitMQ vhost of their own, a climber with a route,
publishing as a seed-000 producer, reading queues, waiting."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pika
from temporalio.client import Client

from ascension.servers import RabbitMQServer
from core.db import session_scope
from core.events import declare_topology
from schema import names
from schema.analysis import Tier
from schema.models import Route, User
from worker_cpu.worker import CpuResources


def fresh_vhost(rabbitmq: RabbitMQServer | None, amqp_url: str) -> str:
    """A fresh vhost on the session's node (the configured broker as is when reusing servers)."""
    if rabbitmq is None:
        return amqp_url
    vhost = f"ingress-{uuid.uuid4().hex[:8]}"
    rabbitmq.ctl("add_vhost", vhost)
    rabbitmq.ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    return rabbitmq.url(vhost)


async def climber(
    resources: CpuResources, tier: Tier = Tier.PREMIUM
) -> tuple[uuid.UUID, uuid.UUID]:
    """A user and a route with a wall photo (its holds get detected, then validated)."""
    user = User(email=f"{uuid.uuid4().hex[:10]}@example.com", password_hash="-")
    user.subscription_tier = tier
    route = Route(user_id=user.id, photo_key=names.route_photo_key(str(user.id), "wall"))
    async with session_scope(resources.engine) as session:
        session.add(user)
        await session.flush()
        session.add(route)
        await session.commit()
    return user.id, route.id


def seed_job(
    user_id: uuid.UUID,
    route_id: uuid.UUID,
    analysis_id: uuid.UUID,
    *,
    bucket: str | None,
    video_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """A job in seed 000's documented format (without ``video_url`` when ``bucket`` is None)."""
    job: dict[str, Any] = {
        "job_id": str(uuid.uuid4()),
        "analysis_id": str(analysis_id),
        "user_id": str(user_id),
        "route_id": str(route_id),
        "created_at": datetime.now(UTC).isoformat(),
    }
    if bucket is not None:
        video = video_id or uuid.uuid4()
        job["video_url"] = f"s3://{bucket}/{names.upload_key(str(user_id), str(video))}"
    return job


def publish(
    url: str,
    queue: str,
    body: bytes,
    message_id: str | None = None,
    *,
    exchange: str = names.VISION_EXCHANGE,
) -> None:
    """Publish as a legacy producer: persistent, to ``exchange`` (``ascension.vision`` unless
    told) by the queue's name."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        declare_topology(channel)
        channel.confirm_delivery()
        channel.basic_publish(
            exchange,
            queue,
            body,
            pika.BasicProperties(
                content_type="application/json",
                delivery_mode=pika.DeliveryMode.Persistent,
                message_id=message_id,
            ),
            mandatory=True,
        )
    finally:
        connection.close()


def take_all(url: str, queue: str) -> list[tuple[Any, bytes]]:
    """(properties, body) of every message in ``queue``, removing them."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    taken = []
    try:
        channel = connection.channel()
        while True:
            method, properties, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                return taken
            taken.append((properties, body))
    finally:
        connection.close()


def listen_for_jobs(url: str, job_ids: list[str]) -> str:
    """A queue on ``ascension.events`` that receives every event of these legacy jobs."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.exchange_declare(names.EVENTS_EXCHANGE, exchange_type="topic", durable=True)
        queue = f"listen-{uuid.uuid4().hex[:8]}"
        channel.queue_declare(queue, auto_delete=False)
        for job_id in job_ids:
            channel.queue_bind(queue, names.EVENTS_EXCHANGE, routing_key=f"*.*.{job_id}")
        return queue
    finally:
        connection.close()


async def until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def runs_of(client: Client, workflow_id: str) -> list[str]:
    """Run ids of every execution with this workflow id (visibility catches up first)."""
    for _ in range(100):
        runs = [w.run_id async for w in client.list_workflows(f"WorkflowId = '{workflow_id}'")]
        if runs:
            return runs
        await asyncio.sleep(0.1)
    return []
