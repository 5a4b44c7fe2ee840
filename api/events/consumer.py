"""The broker feed: a pika consumer in its own thread, reading every event on ``ascension.events``.

pika's blocking connection must not touch the event loop, so it runs in a daemon thread and hands
each message, each (re)connect and each loss to callbacks; the hub moves them onto the loop. The
queue is exclusive, auto-delete and server-named: it lives exactly as long as the connection.
A lost broker is retried with backoff for as long as it takes; what was published meanwhile is
read back from the event log by the hub, not from this queue.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic, BasicProperties

from core.events import declare_events_exchange
from schema import names

log = logging.getLogger("ascension.api.events")

#: (routing key, body, headers, message id) of one delivered message.
OnMessage = Callable[[str, bytes, dict[str, Any], str | None], None]


class BrokerFeed:
    """A pika consumer in its own thread (pika's blocking connection must not touch the loop)."""

    def __init__(
        self,
        amqp_url: str,
        on_message: OnMessage,
        on_connected: Callable[[], None],
        on_lost: Callable[[], None],
    ) -> None:
        self._parameters = pika.URLParameters(amqp_url)
        self._parameters.connection_attempts = 1
        self._parameters.socket_timeout = 5
        self._on_message = on_message
        self._on_connected = on_connected
        self._on_lost = on_lost
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ascension-events-feed", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stopping.set()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            connection: pika.BlockingConnection | None = None
            try:
                connection = pika.BlockingConnection(self._parameters)
                channel = connection.channel()
                declare_events_exchange(channel)
                queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
                channel.queue_bind(queue, names.EVENTS_EXCHANGE, routing_key="#")
                # Auto-ack: the queue dies with this connection anyway; the event log, not the
                # queue, is what makes delivery to clients complete.
                channel.basic_consume(queue, self._deliver, auto_ack=True)
                self._on_connected()
                backoff = 0.5
                while not self._stopping.is_set():
                    connection.process_data_events(time_limit=0.25)
            except Exception as err:  # the thread must outlive any broker trouble
                if self._stopping.is_set():
                    break
                log.warning("event feed lost RabbitMQ (%r); retrying in %.1f s", err, backoff)
                self._on_lost()
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 30.0)
            finally:
                if connection is not None and connection.is_open:
                    with contextlib.suppress(Exception):
                        connection.close()

    def _deliver(
        self,
        channel: BlockingChannel,
        method: Basic.Deliver,
        properties: BasicProperties,
        body: bytes,
    ) -> None:
        self._on_message(
            str(method.routing_key), body, dict(properties.headers or {}), properties.message_id
        )
