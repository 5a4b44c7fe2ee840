"""`ascension worker cpu`: run the CPU worker until SIGINT/SIGTERM, then drain and stop."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from temporalio.service import RPCError

from core.cleanup import ensure_cleanup_schedule
from core.settings import Settings
from core.signals import stop_on_signals
from core.telemetry import sample_worker_metrics
from core.temporal_client import connect_temporal, temporal_target
from worker_cpu.worker import build_cpu_worker, open_cpu_resources

log = logging.getLogger(__name__)


async def run_cpu_worker(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    stop = stop or stop_on_signals()
    async with open_cpu_resources(settings, create_tables=settings.database_url is None) as res:
        client = await connect_temporal(
            settings, res.store, metrics_bind=settings.cpu_worker_metrics_bind
        )
        try:
            await ensure_cleanup_schedule(client, settings)
        except RPCError as err:  # the worker's own job goes on; the next start tries again
            log.warning("the daily storage cleanup schedule could not be set: %s", err)
        worker = build_cpu_worker(
            client,
            res,
            task_queue=settings.cpu_task_queue,
            graceful_shutdown_timeout=timedelta(seconds=settings.worker_graceful_shutdown_s),
        )
        log.info("CPU worker polling %s on %s", settings.cpu_task_queue, temporal_target(settings))
        if settings.cpu_worker_metrics_bind:
            log.info("CPU worker metrics at http://%s/metrics", settings.cpu_worker_metrics_bind)
        # Backlog of both task types of the queue: workflow tasks wait when workers are short,
        # activity tasks when the bookkeeping (database, storage, broker) is slow.
        queues = [(settings.cpu_task_queue, "workflow"), (settings.cpu_task_queue, "activity")]
        interval = settings.metrics_sample_interval_s
        async with worker, sample_worker_metrics(client, queues, interval_s=interval):
            await stop.wait()
        log.info("CPU worker stopped")
