"""Legacy ingress: consumes the seed's RabbitMQ job queues and starts Temporal workflows.

Producers written against seed 000 publish jobs to ``ascension.vision`` (routing key = queue
name) in the seed's format ``{job_id, analysis_id, user_id, video_url, route_id, created_at}``.
What each job means, and whether it can be mapped at all, is `ingress.jobs`; this
module carries its decision out on the broker without ever losing the message:

- ack only after Temporal accepted the start (or said the run already exists);
- park a message that can never work: republish it, body untouched, to the durable parking queue
  with the reason and its origin in headers, wait for the broker's confirm, then ack it;
- requeue after a delay when something we depend on is down: the message stays unacked (holding
  a prefetch slot) for the delay, so an outage slows the consumer down instead of spinning it;
- reconnect when the broker goes; whatever was unacked then is redelivered by the broker, and
  the mapping is idempotent. Only the queues with a mapping are consumed.

Threads: pika's BlockingConnection is not thread-safe, so one thread owns the connection and
does every channel operation; the work (database, object store, Temporal) runs as coroutines on
the caller's event loop, and their decisions come back through ``add_callback_threadsafe``. With
prefetch N, N messages are decided concurrently on the loop, so one connection is enough.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic, BasicProperties

from ingress.decisions import Ack, Backoff, Decision, Park, Retry
from ingress.jobs import JobMapper
from ingress.messages import MAPPED_QUEUES
from schema import names

log = logging.getLogger(__name__)

#: Parked messages: a durable direct exchange, routing key = the queue the message came from, and
#: one durable queue bound for every consumed queue (bind more queues to split them).
PARKING_EXCHANGE: Final = "ascension.parking"
PARKING_QUEUE: Final = "ascension.parking"
REASON_HEADER: Final = "x-parking-reason"
ORIGINAL_QUEUE_HEADER: Final = "x-original-queue"
ORIGINAL_EXCHANGE_HEADER: Final = "x-original-exchange"
ORIGINAL_ROUTING_KEY_HEADER: Final = "x-original-routing-key"
PARKED_AT_HEADER: Final = "x-parked-at"

#: Messages decided at once (starting a workflow is a few ms of RPC; more would only queue).
DEFAULT_PREFETCH: Final = 32
#: A refused parking publish (nack, unroutable) is retried after this.
PARK_RETRY_S: Final = 5.0
_MAX_REASON_CHARS: Final = 1000


# --- the AMQP side ------------------------------------------------------------------------------
def declare_parking(channel: BlockingChannel, queues: tuple[str, ...] = MAPPED_QUEUES) -> None:
    """The parking exchange and queue; safe to repeat."""
    channel.exchange_declare(PARKING_EXCHANGE, exchange_type="direct", durable=True)
    channel.queue_declare(PARKING_QUEUE, durable=True)
    for queue in queues:
        channel.queue_bind(PARKING_QUEUE, PARKING_EXCHANGE, routing_key=queue)


def parked_properties(
    properties: BasicProperties, *, reason: str, queue: str, exchange: str, routing_key: str
) -> BasicProperties:
    """The original properties plus the parking headers; persistent, and never expiring.

    ``user_id`` is moved to a header: the broker refuses a publish whose user_id is not the
    connection's user, which would close our channel.
    """
    headers = dict(properties.headers or {})
    headers.update(
        {
            REASON_HEADER: reason[:_MAX_REASON_CHARS],
            ORIGINAL_QUEUE_HEADER: queue,
            ORIGINAL_EXCHANGE_HEADER: exchange,
            ORIGINAL_ROUTING_KEY_HEADER: routing_key,
            PARKED_AT_HEADER: datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    if properties.user_id is not None:
        headers["x-original-user-id"] = properties.user_id
    if properties.expiration is not None:
        headers["x-original-expiration"] = properties.expiration
    return BasicProperties(
        content_type=properties.content_type,
        content_encoding=properties.content_encoding,
        headers=headers,
        delivery_mode=pika.DeliveryMode.Persistent,
        priority=properties.priority,
        correlation_id=properties.correlation_id,
        reply_to=properties.reply_to,
        message_id=properties.message_id,
        timestamp=properties.timestamp,
        type=properties.type,
        app_id=properties.app_id,
    )


def ensure_job_queues(connection: pika.BlockingConnection, queues: tuple[str, ...]) -> None:
    """Make sure ``queues`` exist, declaring (and binding) as documented only those missing.

    A legacy broker may have declared them with arguments of its own (the seed's dead-letter
    queues: ``x-dead-letter-exchange``); declaring them again without those is refused
    (PRECONDITION_FAILED), so existing queues are consumed as they are.
    """
    channel = connection.channel()
    for queue in queues:
        try:
            channel.queue_declare(queue, passive=True)
        except pika.exceptions.ChannelClosedByBroker as err:
            if err.reply_code != 404:
                raise
            channel = connection.channel()  # a failed passive declare closes the channel
            exchange = (
                names.TRAINING_EXCHANGE if queue in names.TRAINING_QUEUES else names.VISION_EXCHANGE
            )
            channel.exchange_declare(exchange, exchange_type="direct", durable=True)
            channel.queue_declare(queue, durable=True)
            channel.queue_bind(queue, exchange, routing_key=queue)
    channel.close()


@dataclass(frozen=True)
class _Delivery:
    queue: str
    tag: int
    exchange: str
    routing_key: str
    properties: BasicProperties
    body: bytes


@dataclass
class _Link:
    """One AMQP connection and its channels; dropped as a whole when the broker goes."""

    connection: pika.BlockingConnection
    jobs: BlockingChannel
    parking: BlockingChannel
    #: Deliveries whose decision has not come back yet.
    in_flight: int = 0


@dataclass
class IngressStats:
    """Counters for logs and tests; written by the connection thread only."""

    received: int = 0
    acked: int = 0
    parked: int = 0
    requeued: int = 0
    reconnects: int = 0


@dataclass
class Ingress:
    """Consumes the job queues on its own thread; decisions come from `JobMapper` on ``loop``."""

    amqp_url: str
    decide: Callable[[str, bytes], Coroutine[Any, Any, Decision]]
    loop: asyncio.AbstractEventLoop
    queues: tuple[str, ...] = MAPPED_QUEUES
    prefetch: int = DEFAULT_PREFETCH
    #: How long `stop` waits for decisions in flight before closing (the broker requeues them).
    drain_timeout_s: float = 30.0
    stats: IngressStats = field(default_factory=IngressStats, init=False)
    #: Set while consumers are registered on a live connection.
    consuming: threading.Event = field(default_factory=threading.Event, init=False)
    _stopping: threading.Event = field(default_factory=threading.Event, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ingress-amqp", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop consuming, let decisions in flight finish (bounded), close. Blocking."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()

    # --- connection thread ---------------------------------------------------------------------
    def _run(self) -> None:
        backoff = Backoff(initial_s=0.5, maximum_s=15.0)
        while not self._stopping.is_set():
            try:
                self._serve(backoff)
            except Exception as err:  # the broker went away (or a bug): reconnect, never die
                self.consuming.clear()
                delay = backoff.next_delay()
                expected = isinstance(err, pika.exceptions.AMQPError | OSError)
                log.warning(
                    "ingress lost RabbitMQ (%r); reconnecting in %.1f s",
                    err,
                    delay,
                    exc_info=not expected,
                )
                self.stats.reconnects += 1
                self._stopping.wait(delay)

    def _connect(self) -> _Link:
        parameters = pika.URLParameters(self.amqp_url)
        parameters.connection_attempts = 1
        parameters.socket_timeout = 5
        parameters.blocked_connection_timeout = 60
        connection = pika.BlockingConnection(parameters)
        try:
            ensure_job_queues(connection, self.queues)
            jobs = connection.channel()
            declare_parking(jobs, self.queues)
            jobs.basic_qos(prefetch_count=self.prefetch)
            parking = connection.channel()
            parking.confirm_delivery()
        except BaseException:
            with contextlib.suppress(Exception):
                connection.close()
            raise
        return _Link(connection, jobs, parking)

    def _serve(self, backoff: Backoff) -> None:
        link = self._connect()
        try:
            tags = [
                link.jobs.basic_consume(
                    queue, on_message_callback=functools.partial(self._on_message, link, queue)
                )
                for queue in self.queues
            ]
            link.jobs.add_on_cancel_callback(self._on_cancelled)
            backoff.reset()
            self.consuming.set()
            log.info("ingress consuming %s (prefetch %d)", ", ".join(self.queues), self.prefetch)
            while not self._stopping.is_set():
                link.connection.process_data_events(time_limit=0.25)
            self.consuming.clear()
            for tag in tags:
                link.jobs.basic_cancel(tag)
            deadline = time.monotonic() + self.drain_timeout_s
            while link.in_flight and time.monotonic() < deadline:
                link.connection.process_data_events(time_limit=0.1)
        finally:
            self.consuming.clear()
            with contextlib.suppress(Exception):
                link.connection.close()  # unacked messages (retries included) go back

    @staticmethod
    def _on_cancelled(frame: Any) -> None:
        # The broker dropped a consumer (its queue was deleted): start over on a new connection,
        # which declares the queue again.
        raise ConnectionError(f"RabbitMQ cancelled consumer {frame.method.consumer_tag}")

    def _on_message(
        self,
        link: _Link,
        queue: str,
        _channel: BlockingChannel,
        method: Basic.Deliver,
        properties: BasicProperties,
        body: bytes,
    ) -> None:
        assert method.delivery_tag is not None
        delivery = _Delivery(
            queue,
            method.delivery_tag,
            method.exchange or "",
            method.routing_key or "",
            properties,
            body,
        )
        self.stats.received += 1
        link.in_flight += 1
        future = asyncio.run_coroutine_threadsafe(self.decide(queue, body), self.loop)
        future.add_done_callback(functools.partial(self._decided, link, delivery))

    def _decided(
        self, link: _Link, delivery: _Delivery, future: concurrent.futures.Future[Decision]
    ) -> None:
        # Runs on the event loop's thread: hand the decision back to the connection's thread.
        with contextlib.suppress(pika.exceptions.ConnectionWrongStateError):
            link.connection.add_callback_threadsafe(
                functools.partial(self._settle, link, delivery, future)
            )
        # A closed connection: the broker has already put the message back.

    def _settle(
        self, link: _Link, delivery: _Delivery, future: concurrent.futures.Future[Decision]
    ) -> None:
        link.in_flight -= 1
        if not link.jobs.is_open:
            return  # the broker requeued it with the channel
        try:
            decision = future.result()
        except BaseException as err:  # cancelled with the loop; decide() itself never raises
            decision = Retry(1.0, repr(err))
        if isinstance(decision, Ack):
            link.jobs.basic_ack(delivery.tag)
            self.stats.acked += 1
        elif isinstance(decision, Park):
            self._park(link, delivery, decision.reason)
        else:
            self._requeue_later(link, delivery.tag, decision.delay_s)

    def _park(self, link: _Link, delivery: _Delivery, reason: str) -> None:
        properties = parked_properties(
            delivery.properties,
            reason=reason,
            queue=delivery.queue,
            exchange=delivery.exchange,
            routing_key=delivery.routing_key,
        )
        try:
            # Confirmed (and routed: mandatory) before the original is acked.
            link.parking.basic_publish(
                PARKING_EXCHANGE, delivery.queue, delivery.body, properties, mandatory=True
            )
        except (pika.exceptions.NackError, pika.exceptions.UnroutableError) as err:
            log.error("the broker refused to park a %s message (%r); requeued", delivery.queue, err)
            self._requeue_later(link, delivery.tag, PARK_RETRY_S)
            return
        link.jobs.basic_ack(delivery.tag)
        self.stats.parked += 1

    def _requeue_later(self, link: _Link, tag: int, delay_s: float) -> None:
        """Hold the message unacked for ``delay_s``, then requeue it: no spinning on a fault."""

        def requeue() -> None:
            if link.jobs.is_open:
                link.jobs.basic_nack(tag, requeue=True)
                self.stats.requeued += 1

        link.connection.call_later(delay_s, requeue)


@contextlib.asynccontextmanager
async def running_ingress(
    amqp_url: str, mapper: JobMapper, *, prefetch: int = DEFAULT_PREFETCH
) -> AsyncIterator[Ingress]:
    """An `Ingress` consuming on its thread while the block runs; stopped (drained) after."""
    ingress = Ingress(amqp_url, mapper.decide, asyncio.get_running_loop(), prefetch=prefetch)
    ingress.start()
    try:
        yield ingress
    finally:
        # Off the loop: the decisions being drained need the loop to finish.
        await asyncio.to_thread(ingress.stop)
