"""`ascension worker gpu`: run the vision worker until SIGINT/SIGTERM, then drain and stop."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from core.settings import Settings
from core.signals import stop_on_signals
from core.storage import make_object_store
from core.telemetry import sample_worker_metrics
from core.temporal_client import connect_temporal, temporal_target
from worker_gpu.worker import activity_slots, build_gpu_worker, cuda_available, start_pose_pool

log = logging.getLogger(__name__)


async def run_gpu_worker(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    stop = stop or stop_on_signals()
    store = make_object_store(settings)
    pose_pool = None
    try:
        client = await connect_temporal(
            settings, store, metrics_bind=settings.gpu_worker_metrics_bind
        )
        # Before polling: the first video should not pay for the processes' start-up either.
        pose_pool = await asyncio.to_thread(start_pose_pool, settings)
        worker = build_gpu_worker(
            client,
            store,
            settings,
            task_queue=settings.gpu_task_queue,
            pose_pool=pose_pool,
            # SIGTERM (a pod's eviction): running steps get this long to finish; past it they
            # are cancelled and Temporal retries them on another worker (a skeleton resumes
            # from its stored chunks).
            graceful_shutdown_timeout=timedelta(seconds=settings.worker_graceful_shutdown_s),
        )
        log.info(
            "GPU worker polling %s on %s (%s, %d slots, %d pose processes)",
            settings.gpu_task_queue,
            temporal_target(settings),
            "CUDA" if cuda_available() else "CPU",
            activity_slots(settings),
            pose_pool.workers if pose_pool else 1,
        )
        if settings.gpu_worker_metrics_bind:
            log.info("GPU worker metrics at http://%s/metrics", settings.gpu_worker_metrics_bind)
        # The vision queue's activity backlog is what the autoscaler reads (seed: > 50 scales
        # out); GPU utilisation is sampled only where a driver reports it.
        queues = [(settings.gpu_task_queue, "activity")]
        sampling = sample_worker_metrics(
            client, queues, interval_s=settings.metrics_sample_interval_s, gpu=True
        )
        async with worker, sampling:
            await stop.wait()
    finally:
        if pose_pool is not None:
            await asyncio.to_thread(pose_pool.close)
        await store.close()
