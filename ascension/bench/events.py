"""`ascension bench events`: what publishing the seed's events costs, and how soon a consumer has
them.

On a throwaway RabbitMQ node (own ports and data folder, removed afterwards), with one consumer
on a durable queue bound to ``ascension.events`` with ``#`` (as an existing seed consumer binds):

- confirmed publish throughput through the production `EventPublisher`: persistent messages,
  one broker confirm per event, sequential, exactly what the ``publish_event`` activity does;
- completion → consumer latency: from the event's ``occurred_at`` (stamped just before publishing,
  as the workflow stamps a completion) to the consumer's callback, p50/p95;
- the same-run baseline: raw pika ``basic_publish`` of the same bodies and properties without
  confirms, ended by one synchronous round trip so the time covers the broker having them all.
  Its ratio to the confirmed rate is what the at-least-once guarantee costs.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pika
from pika.adapters.blocking_connection import BlockingChannel

from ascension.bench.report import BenchReport, summary
from ascension.servers import RabbitMQServer
from ascension.toolchain import components
from core.events import EventPublisher, declare_topology
from core.settings import Settings
from schema import names
from schema.analysis import Stage, Status
from schema.events import AnalysisEvent, event_body

#: Seed 000: WebSocket notification < 100 ms after completion; the broker hop is part of it.
GOAL_LATENCY_P95_MS = 100.0
CONSUMER_QUEUE = "bench.events"
_STAGES = (Stage.HOLD_DETECTION, Stage.SKELETON, Stage.ADVICE, Stage.GHOST, Stage.ANALYSIS)


def _event(index: int) -> AnalysisEvent:
    """A distinct completion event (own analysis, so its message id is unique), stamped now."""
    analysis_id = str(uuid.uuid4())
    return AnalysisEvent(
        job_id=analysis_id,
        analysis_id=analysis_id,
        user_id=str(uuid.UUID(int=index)),
        stage=_STAGES[index % len(_STAGES)],
        outcome="completed",
        status=Status.PROCESSING,
        occurred_at=datetime.now(UTC).isoformat(),
    )


class _Consumer:
    """A seed-style consumer on its own thread: notes when each event arrives and how late."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self.latencies_s: list[float] = []
        self._thread = threading.Thread(target=self._run, name="bench-consumer", daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the bench consumer did not start")

    def _run(self) -> None:
        connection = pika.BlockingConnection(pika.URLParameters(self._url))
        try:
            channel = connection.channel()
            declare_topology(channel)
            channel.queue_declare(CONSUMER_QUEUE, durable=True)
            channel.queue_bind(CONSUMER_QUEUE, names.EVENTS_EXCHANGE, routing_key="#")
            channel.basic_qos(prefetch_count=500)
            self._ready.set()
            for method, _, body in channel.consume(CONSUMER_QUEUE, inactivity_timeout=0.05):
                if method is not None:
                    received = time.time()
                    occurred = datetime.fromisoformat(json.loads(body)["occurred_at"]).timestamp()
                    with self._lock:
                        self.latencies_s.append(received - occurred)
                    channel.basic_ack(method.delivery_tag)
                if self._stop.is_set():
                    break
            channel.cancel()
        finally:
            connection.close()

    def take(self, count: int, timeout: float = 60.0) -> list[float]:
        """Wait until ``count`` events arrived; return their latencies and forget them."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if len(self.latencies_s) >= count:
                    taken, self.latencies_s = self.latencies_s[:count], self.latencies_s[count:]
                    return taken
            if time.monotonic() > deadline:
                raise RuntimeError(f"the consumer got {len(self.latencies_s)} of {count} events")
            time.sleep(0.01)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)


def _publish_confirmed(publisher: EventPublisher, count: int) -> tuple[float, list[float]]:
    """Total seconds and each publish's seconds, through the production publisher."""
    each = []
    begin = time.perf_counter()
    for index in range(count):
        event = _event(index)
        start = time.perf_counter()
        publisher.publish(event)
        each.append(time.perf_counter() - start)
    return time.perf_counter() - begin, each


def _publish_raw(channel: BlockingChannel, count: int) -> float:
    """Total seconds for the same messages without confirms, until the broker has them all."""
    events = [_event(index) for index in range(count)]
    begin = time.perf_counter()
    for event in events:
        body = json.dumps(event_body(event), separators=(",", ":")).encode()
        properties = pika.BasicProperties(
            content_type="application/json",
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=event.message_id,
            type=event.routing_key.rsplit(".", 1)[0],
            app_id="ascension",
        )
        channel.basic_publish(names.EVENTS_EXCHANGE, event.routing_key, body, properties)
    # The broker handles a channel's frames in order: its answer means every publish arrived.
    channel.queue_declare(CONSUMER_QUEUE, passive=True)
    return time.perf_counter() - begin


def _measure(url: str, events: int, warmup: int) -> BenchReport:
    consumer = _Consumer(url)
    consumer.start()
    publisher = EventPublisher(url)
    raw_connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        # Warm-up: connections, topology declarations, the broker's first writes.
        _publish_confirmed(publisher, warmup)
        consumer.take(warmup)
        confirmed_s, each_s = _publish_confirmed(publisher, events)
        latencies_s = consumer.take(events)
        raw_s = _publish_raw(raw_connection.channel(), events)
        consumer.take(events)
    finally:
        raw_connection.close()
        publisher.close()
        consumer.stop()
    return _report(events, confirmed_s, each_s, latencies_s, raw_s)


def _ms(values: dict[str, float]) -> dict[str, float]:
    return {key: value if key == "n" else value * 1000 for key, value in values.items()}


def _report(
    events: int, confirmed_s: float, each_s: list[float], latencies_s: list[float], raw_s: float
) -> BenchReport:
    confirmed_rate = events / confirmed_s
    raw_rate = events / raw_s
    publish_ms = _ms(summary(each_s))
    latency_ms = _ms(summary(latencies_s))
    report = BenchReport(
        name="events",
        title=f"Events: {events} completion events on ascension.events (persistent, durable queue)",
        columns=["figure", "value", "p50 ms", "p95 ms", "note"],
    )
    report.rows = [
        [
            "confirmed publish (EventPublisher)",
            f"{confirmed_rate:,.0f} events/s",
            f"{publish_ms['p50']:.2f}",
            f"{publish_ms['p95']:.2f}",
            "one broker confirm per event",
        ],
        [
            "completion → consumer latency",
            "",
            f"{latency_ms['p50']:.2f}",
            f"{latency_ms['p95']:.2f}",
            f"goal p95 < {GOAL_LATENCY_P95_MS:g} ms",
        ],
        [
            "baseline: raw basic_publish, no confirms",
            f"{raw_rate:,.0f} events/s",
            "",
            "",
            "same bodies, same run",
        ],
        ["confirm cost (raw / confirmed rate)", f"{raw_rate / confirmed_rate:.1f}x", "", "", ""],
    ]
    report.figures = {
        "events": events,
        "publish_confirmed_events_per_s": confirmed_rate,
        "publish_confirmed_ms": publish_ms,
        "consumer_latency_ms": latency_ms,
    }
    report.baselines = {"raw_publish_no_confirm_events_per_s": raw_rate}
    report.ratios = {"confirm_cost": raw_rate / confirmed_rate}
    report.goals = {
        "consumer_latency_p95_ms": GOAL_LATENCY_P95_MS,
        "consumer_latency_p95_met": latency_ms["p95"] <= GOAL_LATENCY_P95_MS,
    }
    report.notes.append(
        "latency is measured while publishing back to back with confirms; the consumer acks "
        "each event (prefetch 500) on a durable queue bound with '#'"
    )
    return report


def bench_events(settings: Settings, *, events: int = 2000, warmup: int = 50) -> BenchReport:
    """Start a throwaway RabbitMQ node, measure, stop it; the figures come back as a report."""
    found = components.report_rabbitmq(settings)
    if not found.found or found.path is None:
        raise SystemExit(f"RabbitMQ is missing. Fix: {found.fix}")
    with tempfile.TemporaryDirectory(prefix="ascension-bench-events-") as folder:
        base = Path(folder)
        base.chmod(0o755)
        server = RabbitMQServer(found.path, base / "rabbitmq")
        server.start()
        try:
            return _measure(server.url(), events, warmup)
        finally:
            server.stop()
