"""WebSocket notification latency: from an `analysis.completed` event being sent to its arrival.

The seeds promise a notification < 100 ms after completion. Measured end to end through the
production path: the event is recorded and published exactly as the `publish_event` activity
does it (`record_and_publish`), crosses RabbitMQ (or the table poll without a broker), the API's
event hub and the socket, and is timed on arrival at a connected client. Both clocks are this
process's `time.perf_counter`, so the publishing side and the client must run here.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import connect

from activities.events import record_and_publish
from core.events import EventPublisher
from schema.analysis import Stage, Status
from schema.events import AnalysisEvent

#: Publishes one event and returns `time.perf_counter()` taken just before it was sent.
Publish = Callable[[], Awaitable[float]]


def production_publish(
    engine: AsyncEngine, publisher: EventPublisher | None, user_id: str
) -> Publish:
    """A `Publish` that sends a fresh `analysis.completed` event of ``user_id`` as the worker
    does (recorded in ``analysis_events``, then published with a broker confirm)."""

    async def publish() -> float:
        analysis_id = str(uuid.uuid4())
        event = AnalysisEvent(
            job_id=analysis_id,
            analysis_id=analysis_id,
            user_id=user_id,
            stage=Stage.ANALYSIS,
            outcome="completed",
            status=Status.COMPLETED,
            occurred_at=datetime.now(UTC).isoformat(),
        )
        started = time.perf_counter()
        await record_and_publish(engine, publisher, event)
        return started

    return publish


async def measure_ws_latency(
    ws_url: str, token: str, publish: Publish, samples: int, *, timeout_s: float = 10.0
) -> list[float]:
    """Milliseconds from each ``publish()`` to the `analysis_completed` frame it causes.

    Args:
        ws_url: the API's WebSocket base, e.g. ``ws://127.0.0.1:8000`` (``/api/v1/ws`` is added).
        token: an access token of the user the published events belong to; that user should
            have nothing else completing meanwhile (each arrival is paired with the next send).
        publish: sends one event (see `production_publish`) and returns its send time.
        samples: how many latencies to measure, one event at a time; one warm-up event sent
            first (not counted) proves the socket is subscribed.
        timeout_s: an event not seen within this raises `TimeoutError`.
    """
    url = f"{ws_url.rstrip('/')}/api/v1/ws?token={quote(token)}"
    arrivals: asyncio.Queue[float] = asyncio.Queue()
    async with connect(url, max_size=None) as socket:

        async def read() -> None:
            async for raw in socket:
                if json.loads(raw).get("type") == "analysis_completed":
                    arrivals.put_nowait(time.perf_counter())

        reader = asyncio.create_task(read())
        try:
            latencies: list[float] = []
            for index in range(samples + 1):
                sent = await publish()
                try:
                    arrived = await asyncio.wait_for(arrivals.get(), timeout_s)
                except TimeoutError:
                    if reader.done() and reader.exception() is not None:
                        raise ConnectionError("the WebSocket closed") from reader.exception()
                    raise TimeoutError(
                        f"event {index} not received within {timeout_s:g} s"
                    ) from None
                if index > 0:
                    latencies.append((arrived - sent) * 1000)
            return latencies
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
