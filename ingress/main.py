"""`ascension worker ingress`: run the legacy bridge until SIGINT/SIGTERM, then drain and stop.

The bridge is its own process beside the two Temporal workers: it polls no task queue, it only
turns the seed's RabbitMQ jobs into workflow starts (`ingress.jobs` decides, `ingress.consumer`
carries the decision out on the broker).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from temporalio.client import Client

from core.db import make_engine
from core.events import EventPublisher
from core.settings import Settings
from core.signals import stop_on_signals
from core.storage import ObjectStore, make_object_store
from core.temporal_client import connect_temporal, temporal_target
from ingress.consumer import DEFAULT_PREFETCH, running_ingress
from ingress.decisions import Backoff
from ingress.jobs import JobMapper

log = logging.getLogger(__name__)


async def _connect_until_up(
    settings: Settings, store: ObjectStore, stop: asyncio.Event
) -> Client | None:
    """Temporal, once it is up (None if stopped first): consuming before it is up is pointless."""
    backoff = Backoff(initial_s=1.0, maximum_s=30.0)
    while not stop.is_set():
        try:
            return await connect_temporal(settings, store)
        except RuntimeError as err:
            delay = backoff.next_delay()
            target = temporal_target(settings)
            log.warning("Temporal at %s unreachable (%s); retry in %.0f s", target, err, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
    return None


async def run_ingress(
    settings: Settings, *, stop: asyncio.Event | None = None, prefetch: int = DEFAULT_PREFETCH
) -> None:
    """Run the bridge until SIGINT/SIGTERM (or ``stop``), then drain and stop."""
    if not settings.amqp_url:
        raise SystemExit("the ingress needs RabbitMQ: set ASCENSION_AMQP_URL")
    stop = stop or stop_on_signals()
    engine = make_engine(settings.effective_database_url)
    store = make_object_store(settings)
    try:
        client = await _connect_until_up(settings, store, stop)
        if client is None:
            return
        # Its own connection: jobs for finished analyses are answered with their events.
        publisher = EventPublisher(settings.amqp_url)
        mapper = JobMapper(client, engine, store, settings, publisher=publisher)
        try:
            async with running_ingress(settings.amqp_url, mapper, prefetch=prefetch):
                await stop.wait()
        finally:
            await asyncio.to_thread(publisher.close)
        log.info("ingress stopped")
    finally:
        await store.close()
        await engine.dispose()
