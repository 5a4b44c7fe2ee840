"""Worker metrics: the Temporal SDK's and Ascension's own, on one Prometheus endpoint per worker.

The SDK's Rust core serves Prometheus itself when the process's `Runtime` is built with a bind
address. Ascension's worker metrics are created on that same runtime's meter (an activity gets it
from `temporalio.activity.metric_meter()`, already labelled with namespace, task queue and
activity type), so one scrape of a worker returns ``temporal_*`` and ``ascension_*`` together:
one port per worker to open, one scrape job, one ``up`` to alert on. prometheus-client stays
the API's exposition (`api.metrics`), where the SDK's endpoint does not exist.

A `Runtime` owns a thread pool and, here, a listening socket: there is one per process and bind
address (`process_runtime`), made where every client is made (`core.temporal_client`).

Figures that no activity produces are sampled every ``metrics_sample_interval_s``
(`sample_worker_metrics`): the task queue's backlog from the server (DescribeTaskQueue's
approximate backlog count, what KEDA's Temporal scaler reads too) and, on the GPU worker, the
utilisation NVML reports. With no NVIDIA driver the GPU series is absent, never zero.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import subprocess
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

from temporalio import activity
from temporalio.api.enums.v1 import TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.common import MetricMeter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

log = logging.getLogger(__name__)

#: Names as scraped (counters get ``_total``, durations are in seconds).
ANALYSES_FINISHED = "ascension_analyses_finished"
PROCESSING_SECONDS = "ascension_analysis_processing_seconds"
TASK_QUEUE_BACKLOG = "ascension_task_queue_backlog"
GPU_UTILIZATION = "ascension_gpu_utilization_ratio"
#: A video's processing time: most take 30-90 s (seed: 45 s target), the longest several minutes.
PROCESSING_BUCKETS = (5.0, 10.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0, 1200.0)

_runtimes: dict[str, Runtime] = {}


class MetricsEndpointError(RuntimeError):
    """The worker's metrics endpoint could not be served at the configured address."""


def process_runtime(bind: str | None) -> Runtime | None:
    """The process's runtime serving Prometheus at ``bind`` (host:port); None = the SDK's default
    runtime, without an endpoint. Asking again for the same address returns the same runtime."""
    if not bind:
        return None
    runtime = _runtimes.get(bind)
    if runtime is None:
        config = PrometheusConfig(
            bind_address=bind,
            counters_total_suffix=True,
            durations_as_seconds=True,
            histogram_bucket_overrides={PROCESSING_SECONDS: list(PROCESSING_BUCKETS)},
        )
        try:
            runtime = Runtime(telemetry=TelemetryConfig(metrics=config))
        except Exception as err:  # the core's message names the problem (port taken, bad host)
            raise MetricsEndpointError(f"cannot serve worker metrics at {bind!r}: {err}") from None
        _runtimes[bind] = runtime
    return runtime


def client_meter(client: Client) -> MetricMeter:
    """The meter of the runtime ``client`` was connected with (a no-op one without metrics)."""
    runtime = client.service_client.config.runtime or Runtime.default()
    return runtime.metric_meter


# --- Recorded by activities --------------------------------------------------------------------


def count_finished_analysis(status: str) -> None:
    """Count an analysis reaching a final status (completed, failed, cancelled): the seed's
    "failed jobs". Activities run at least once, so a retried write may count twice."""
    counter = activity.metric_meter().create_counter(
        ANALYSES_FINISHED, "Analyses that reached a final status, by status."
    )
    counter.add(1, {"status": status})


def observe_processing_time(processing_time_ms: int | None) -> None:
    """Record a completed analysis' processing time (upload notified to result stored)."""
    if processing_time_ms is None:
        return
    histogram = activity.metric_meter().create_histogram_timedelta(
        PROCESSING_SECONDS, "Processing time of completed video analyses."
    )
    histogram.record(timedelta(milliseconds=processing_time_ms))


# --- Sampled by each worker --------------------------------------------------------------------

_TYPES = {
    "workflow": TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    "activity": TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
}


async def task_queue_backlog(client: Client, task_queue: str, task_type: str) -> int:
    """The server's approximate count of tasks waiting on ``task_queue`` (of one type)."""
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
            task_queue_type=_TYPES[task_type],
            report_stats=True,
        )
    )
    return int(response.stats.approximate_backlog_count)


def gpu_utilization() -> list[float] | None:
    """Utilisation of each NVIDIA GPU over the driver's last sample period (0..1), from NVML
    when its Python binding is installed, else from ``nvidia-smi``; None where neither exists
    (no driver, no GPU), so the metric is left out rather than reported as idle."""
    try:
        import pynvml
    except ImportError:
        return _nvidia_smi_utilization()
    pynvml.nvmlInit()
    try:
        count = pynvml.nvmlDeviceGetCount()
        return [
            pynvml.nvmlDeviceGetUtilizationRates(pynvml.nvmlDeviceGetHandleByIndex(i)).gpu / 100
            for i in range(count)
        ]
    finally:
        pynvml.nvmlShutdown()


def _nvidia_smi_utilization() -> list[float] | None:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    query = [smi, "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"]
    done = subprocess.run(query, capture_output=True, text=True, timeout=10, check=False)
    if done.returncode != 0:
        return None
    values = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    try:
        return [float(value) / 100 for value in values] or None
    except ValueError:  # "[N/A]" on devices that do not report it
        return None


async def sample_once(
    client: Client, meter: MetricMeter, queues: Sequence[tuple[str, str]], *, gpu: bool
) -> None:
    """Set the backlog gauge of each (task queue, task type), and the GPU's when asked; a failed
    sample is logged and leaves the previous value (the next interval tries again)."""
    backlog = meter.create_gauge(TASK_QUEUE_BACKLOG, "Tasks waiting on a task queue (approx.).")
    for task_queue, task_type in queues:
        try:
            count = await task_queue_backlog(client, task_queue, task_type)
        except Exception as err:  # RPCError, a server without stats: metrics never stop work
            log.warning("task queue %s (%s) backlog not sampled: %s", task_queue, task_type, err)
            continue
        backlog.set(count, {"task_queue": task_queue, "task_type": task_type})
    if gpu:
        try:
            values = await asyncio.to_thread(gpu_utilization)
        except Exception as err:  # NVML errors, a hung nvidia-smi
            log.warning("GPU utilisation not sampled: %s", err)
            values = None
        utilization = meter.create_gauge_float(GPU_UTILIZATION, "GPU busy time (0..1).")
        for index, value in enumerate(values or []):
            utilization.set(value, {"gpu": str(index)})


@contextlib.asynccontextmanager
async def sample_worker_metrics(
    client: Client,
    queues: Sequence[tuple[str, str]],
    *,
    interval_s: float,
    gpu: bool = False,
) -> AsyncIterator[None]:
    """Sample in the background while the block runs (a worker's life). Nothing runs when the
    client's runtime has no metrics endpoint."""
    if client.service_client.config.runtime is None:
        yield
        return
    meter = client_meter(client)

    async def loop() -> None:
        while True:
            await sample_once(client, meter, queues, gpu=gpu)
            await asyncio.sleep(interval_s)

    task = asyncio.create_task(loop(), name="worker-metrics-sampler")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
