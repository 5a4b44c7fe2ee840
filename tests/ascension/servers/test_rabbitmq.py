"""A persistent message round-trips through a real RabbitMQ node with publisher confirms."""

from __future__ import annotations

import json
import uuid

import pika
import pytest
from pika.adapters.blocking_connection import BlockingChannel

pytestmark = pytest.mark.integration


def _channel(amqp_url: str) -> tuple[pika.BlockingConnection, BlockingChannel]:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    return connection, connection.channel()


def test_persistent_message_round_trips_with_publisher_confirms(amqp_url: str) -> None:
    queue = f"test.roundtrip.{uuid.uuid4().hex[:8]}"
    body = {"job_id": str(uuid.uuid4()), "status": "completed"}
    connection, channel = _channel(amqp_url)
    try:
        channel.queue_declare(queue, durable=True)
        channel.confirm_delivery()
        # With confirms on, basic_publish raises unless the broker acknowledged the message.
        channel.basic_publish(
            exchange="",
            routing_key=queue,
            body=json.dumps(body).encode(),
            properties=pika.BasicProperties(
                delivery_mode=pika.DeliveryMode.Persistent,
                content_type="application/json",
                message_id="m-1",
            ),
            mandatory=True,
        )
    finally:
        connection.close()

    # A second connection proves the message lives in the broker, not in a client buffer.
    connection, channel = _channel(amqp_url)
    try:
        method, properties, received = channel.basic_get(queue, auto_ack=False)
        assert method is not None, "message was not in the queue"
        assert json.loads(received) == body
        assert properties.delivery_mode == pika.DeliveryMode.Persistent.value
        assert properties.message_id == "m-1"
        channel.basic_ack(method.delivery_tag)
        assert channel.basic_get(queue, auto_ack=True)[0] is None
        channel.queue_delete(queue)
    finally:
        connection.close()


def test_unroutable_mandatory_message_is_refused(amqp_url: str) -> None:
    connection, channel = _channel(amqp_url)
    try:
        channel.confirm_delivery()
        with pytest.raises(pika.exceptions.UnroutableError):
            channel.basic_publish(
                exchange="",
                routing_key=f"no.such.queue.{uuid.uuid4().hex}",
                body=b"{}",
                mandatory=True,
            )
    finally:
        connection.close()
