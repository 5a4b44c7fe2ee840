"""RabbitMQ topology of seed 000 and a confirmed, persistent event publisher on pika.

pika's BlockingConnection is not thread-safe and blocks; the publisher is called from a worker's
thread pool (never from the event loop) and serialises use of its one connection with a lock, so
all activity threads share a single connection and channel instead of opening one per event.
A publish returns only after the broker confirmed it; any failure raises, and the caller (a
Temporal activity) retries until the broker is back.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from datetime import datetime
from typing import Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from schema import names
from schema.events import AnalysisEvent, event_body

log = logging.getLogger(__name__)


def declare_topology(channel: BlockingChannel) -> None:
    """Declare the documented exchanges and durable queues; safe to repeat (idempotent)."""
    channel.exchange_declare(names.VISION_EXCHANGE, exchange_type="direct", durable=True)
    channel.exchange_declare(names.TRAINING_EXCHANGE, exchange_type="direct", durable=True)
    channel.exchange_declare(names.EVENTS_EXCHANGE, exchange_type="topic", durable=True)
    for exchange, queues in (
        (names.VISION_EXCHANGE, names.VISION_QUEUES),
        (names.TRAINING_EXCHANGE, names.TRAINING_QUEUES),
    ):
        for queue in queues:
            channel.queue_declare(queue, durable=True)
            # Direct exchanges route by the queue's own name, as the seed's producers expect.
            channel.queue_bind(queue, exchange, routing_key=queue)


def declare_events_exchange(channel: BlockingChannel) -> None:
    """Only what publishing and listening need. The job queues are left to their owners
    (the ingress checks them passively): redeclaring a legacy queue that carries dead-letter
    arguments with none would be refused by the broker and stop every publish."""
    channel.exchange_declare(names.EVENTS_EXCHANGE, exchange_type="topic", durable=True)


class EventPublisher:
    """Publishes `AnalysisEvent`s on ``ascension.events`` with publisher confirms."""

    def __init__(self, amqp_url: str, *, connect_timeout_s: float = 5.0) -> None:
        self._parameters = pika.URLParameters(amqp_url)
        self._parameters.connection_attempts = 1
        self._parameters.socket_timeout = connect_timeout_s
        self._parameters.blocked_connection_timeout = 30
        self._lock = threading.Lock()
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None

    def _open_channel(self) -> BlockingChannel:
        if self._channel is not None and self._channel.is_open:
            return self._channel
        self._drop()
        self._connection = pika.BlockingConnection(self._parameters)
        channel = self._connection.channel()
        channel.confirm_delivery()
        declare_events_exchange(channel)
        self._channel = channel
        return channel

    def _drop(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            with contextlib.suppress(pika.exceptions.AMQPError):
                connection.close()

    def publish(self, event: AnalysisEvent, *, headers: dict[str, Any] | None = None) -> None:
        """Publish and wait for the broker's confirm; raises when it cannot be confirmed.

        ``headers`` become AMQP message headers (e.g. the event's id in the event log); the
        documented body never changes.
        """
        self.publish_json(
            event.routing_key,
            event_body(event),
            message_id=event.message_id,
            occurred_at=event.occurred_at,
            headers=headers,
        )

    def publish_json(
        self,
        routing_key: str,
        body_json: dict[str, Any],
        *,
        message_id: str,
        occurred_at: str,
        headers: dict[str, Any] | None = None,
    ) -> None:
        """Any event body on ``ascension.events`` (training events too), with a confirm."""
        body = json.dumps(body_json, separators=(",", ":")).encode()
        properties = pika.BasicProperties(
            content_type="application/json",
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=message_id,
            type=routing_key.rsplit(".", 1)[0],
            timestamp=int(datetime.fromisoformat(occurred_at).timestamp()),
            app_id="ascension",
            headers=headers,
        )
        with self._lock:
            for attempt in (1, 2):
                try:
                    channel = self._open_channel()
                    channel.basic_publish(names.EVENTS_EXCHANGE, routing_key, body, properties)
                    return
                except pika.exceptions.NackError as err:
                    self._drop()
                    raise ConnectionError("RabbitMQ refused the event (nack)") from err
                except (
                    pika.exceptions.AMQPConnectionError,
                    pika.exceptions.AMQPChannelError,
                    OSError,
                ) as err:
                    # A connection the broker dropped while idle is reopened once here; a broker
                    # that is really down raises to the caller, which retries later.
                    self._drop()
                    if attempt == 2:
                        raise ConnectionError(f"RabbitMQ unavailable: {err!r}") from err
                    log.info("reconnecting to RabbitMQ after %r", err)

    def close(self) -> None:
        with self._lock:
            self._drop()
