"""A worker's Prometheus endpoint after real workflows: the Temporal SDK's metrics and ours.

The production CPU worker runs one completed and one failed analysis on the dev server through a
client connected with a metrics bind address (`core.telemetry`); the endpoint is then scraped
over HTTP as Prometheus would. The dashboard shipped in deploy/observability is checked against
what this scrape and the API's registry actually export.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import socket
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import Client, WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from api.metrics import ApiMetrics
from core.analyses import start_or_attach
from core.logs import make_handler
from core.storage import make_object_store
from core.telemetry import (
    GPU_UTILIZATION,
    MetricsEndpointError,
    client_meter,
    process_runtime,
    sample_once,
    task_queue_backlog,
)
from core.temporal_client import connect_temporal
from schema import names
from tests.utils.pipeline import FakePipeline, analysis_input, gpu_worker
from tests.utils.records import seed_analysis
from worker_cpu.main import run_cpu_worker
from worker_cpu.worker import CpuResources, build_cpu_worker, open_cpu_resources
from workflows.video_analysis import VideoAnalysisWorkflow

pytestmark = pytest.mark.integration

#: The analyses `scraped` ran: the completed one, then the failed one.
RUNS: list[str] = []
OBSERVABILITY = Path(__file__).resolve().parents[2] / "deploy" / "observability"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _scrape(bind: str) -> str:
    with urllib.request.urlopen(f"http://{bind}/metrics", timeout=10) as response:
        assert response.status == 200
        return str(response.read().decode())


def _families(text: str) -> dict[str, list]:
    return {
        family.name: family.samples
        for family in text_string_to_metric_families(text)
        if family.samples
    }


def _total(text: str, name: str, **labels: str) -> float:
    """Sum of the samples named ``name`` whose labels include ``labels``."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


@pytest.fixture(scope="module")
def bind() -> str:
    return f"127.0.0.1:{_free_port()}"


@pytest.fixture(scope="module")
async def resources(stack_settings) -> AsyncIterator[CpuResources]:
    async with open_cpu_resources(stack_settings, create_tables=True) as res:
        await res.store.ensure_bucket(stack_settings.bucket)
        yield res


@pytest.fixture(scope="module")
async def client(temporal_dev_env: WorkflowEnvironment, stack_settings, resources, bind) -> Client:
    target = temporal_dev_env.client.service_client.config.target_host
    return await connect_temporal(stack_settings, resources.store, target=target, metrics_bind=bind)


@pytest.fixture(scope="module")
def run_logs() -> Iterator[io.StringIO]:
    """Every record of the module's workers, as ASCENSION_LOG_FORMAT=json writes it."""
    stream = io.StringIO()
    handler = make_handler("json", stream)
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


@pytest.fixture(scope="module")
async def scraped(
    client: Client, resources: CpuResources, stack_settings, bind, run_logs: io.StringIO
) -> str:
    """The endpoint's text after one completed and one failed analysis on the real worker."""
    task_queue = "tq-metrics"
    outcomes = []
    RUNS.clear()
    for bad_input in (False, True):
        seeded = await seed_analysis(resources.engine)
        await resources.store.put_bytes(stack_settings.bucket, seeded.video_key, b"video")
        fake = FakePipeline(skeleton_bad_input=bad_input, store=make_object_store(stack_settings))
        params = analysis_input(
            task_queue,
            analysis_id=seeded.analysis_id,
            user_id=seeded.user_id,
            video_id=seeded.video_id,
            video_key=seeded.video_key,
            route_id=seeded.route_id,
            bucket=stack_settings.bucket,
            route_hold_map=fake.hold_map,  # a validated route: no waiting for the climber
        )
        async with (
            build_cpu_worker(client, resources, task_queue=params.cpu_task_queue),
            gpu_worker(client, task_queue, fake),
        ):
            handle = await start_or_attach(client, params)
            RUNS.append(seeded.analysis_id)
            try:
                outcomes.append((await handle.result()).status.value)
            except WorkflowFailureError:
                outcomes.append("failed")
        assert fake.store is not None
        await fake.store.close()
    assert outcomes == ["completed", "failed"]
    # The core exports on its own schedule; wait (bounded) until both outcomes are counted.
    for _ in range(100):
        text = _scrape(bind)
        if _total(text, "ascension_analyses_finished_total", status="failed") >= 1:
            return text
        await asyncio.sleep(0.1)
    return text


def test_the_sdk_metrics_are_served(scraped: str) -> None:
    families = _families(scraped)
    # Workflow and activity task processing of the runs above, with their task queue.
    assert _total(scraped, "temporal_workflow_completed_total") >= 1
    assert _total(scraped, "temporal_workflow_failed_total") >= 1
    assert (
        _total(
            scraped,
            "temporal_activity_execution_latency_count",
            task_queue="tq-metrics-gpu",
        )
        >= 4
    )
    assert "temporal_worker_task_slots_available" in families


def test_the_failed_steps_log_line_names_its_analysis(scraped: str, run_logs) -> None:
    """The SDK's own warning about the failed skeleton step, as one JSON line with the ids."""
    _, failed = RUNS
    lines = [json.loads(line) for line in run_logs.getvalue().splitlines()]
    mine = [line for line in lines if line.get("analysis_id") == failed]
    assert mine, "no JSON line carried the failed analysis' id"
    assert all(line["workflow_id"] == names.analysis_workflow_id(failed) for line in mine)
    assert any(line.get("activity_type") == "extract_skeleton" for line in mine)


def test_our_analysis_counters_are_served_with_the_activity_labels(scraped: str) -> None:
    assert _total(scraped, "ascension_analyses_finished_total", status="completed") == 1
    assert _total(scraped, "ascension_analyses_finished_total", status="failed") == 1
    assert _total(scraped, "ascension_analyses_finished_total", task_queue="tq-metrics-cpu") == 2
    # Processing time of the completed one only (a failed analysis has none).
    assert _total(scraped, "ascension_analysis_processing_seconds_count") == 1
    assert _total(scraped, "ascension_analysis_processing_seconds_bucket", le="+Inf") == 1
    # The video-sized buckets of `core.telemetry`, not the SDK's default ones (which end at 10).
    assert _total(scraped, "ascension_analysis_processing_seconds_bucket", le="1200") == 1


async def test_backlog_is_sampled_from_the_server(client: Client, bind: str) -> None:
    """A workflow started on a queue nobody polls is one waiting workflow task."""
    idle_queue = "tq-metrics-nobody-polls"
    params = analysis_input(idle_queue, bucket="unused")
    await client.start_workflow(
        VideoAnalysisWorkflow.run,
        params,
        id=names.analysis_workflow_id(params.analysis_id),
        task_queue=params.cpu_task_queue,
    )
    for _ in range(100):  # the server's stats follow the task's creation closely, not at once
        if await task_queue_backlog(client, params.cpu_task_queue, "workflow") == 1:
            break
        await asyncio.sleep(0.1)
    queues = [(params.cpu_task_queue, "workflow"), (params.cpu_task_queue, "activity")]
    await sample_once(client, client_meter(client), queues, gpu=False)
    for _ in range(100):
        text = _scrape(bind)
        if _total(text, "ascension_task_queue_backlog", task_queue=params.cpu_task_queue):
            break
        await asyncio.sleep(0.1)
    backlog = "ascension_task_queue_backlog"
    assert _total(text, backlog, task_queue=params.cpu_task_queue, task_type="workflow") == 1
    assert _total(text, backlog, task_queue=params.cpu_task_queue, task_type="activity") == 0
    await client.get_workflow_handle(names.analysis_workflow_id(params.analysis_id)).terminate()


async def test_the_production_worker_serves_and_samples_on_its_own(
    temporal_dev_env: WorkflowEnvironment, stack_settings
) -> None:
    """`ascension worker cpu` as deployed: the endpoint at its setting, the backlog of its own
    queue sampled every interval without anyone asking; no GPU series on a CPU worker."""
    bind = f"127.0.0.1:{_free_port()}"
    settings = stack_settings.model_copy(
        update={
            "temporal_address": temporal_dev_env.client.service_client.config.target_host,
            "temporal_namespace": temporal_dev_env.client.namespace,
            "cpu_task_queue": "tq-metrics-production",
            "cpu_worker_metrics_bind": bind,
            "metrics_sample_interval_s": 0.2,
        }
    )
    stop = asyncio.Event()
    worker = asyncio.create_task(run_cpu_worker(settings, stop=stop))
    text = ""
    try:
        for _ in range(300):
            await asyncio.sleep(0.1)
            assert not worker.done(), worker.exception()
            try:
                text = _scrape(bind)
            except OSError:  # not listening yet
                continue
            if 'task_queue="tq-metrics-production"' in text and "ascension_task_queue" in text:
                break
    finally:
        stop.set()
        await worker
    backlog = "ascension_task_queue_backlog"
    for task_type in ("workflow", "activity"):
        assert _total(text, backlog, task_queue="tq-metrics-production", task_type=task_type) == 0
    assert _total(text, "temporal_worker_start_total", task_queue="tq-metrics-production") == 1
    assert GPU_UTILIZATION not in text


def test_a_second_connect_reuses_the_process_runtime(bind: str) -> None:
    assert process_runtime(bind) is process_runtime(bind)
    assert process_runtime(None) is None


def test_an_address_taken_by_another_process_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        with pytest.raises(MetricsEndpointError, match=re.escape(address)):
            process_runtime(address)


# --- deploy/observability ----------------------------------------------------------------------

_METRIC = re.compile(r"\b((?:ascension|temporal)_[a-z0-9_]+)\b")


def _exported_names(*texts: str) -> set[str]:
    names_: set[str] = set()
    for text in texts:
        for family in text_string_to_metric_families(text):
            names_.add(family.name)
            names_.update(sample.name for sample in family.samples)
    return names_


def _dashboard_queries() -> list[str]:
    """The expressions of every dashboard panel and every alerting rule."""
    dashboard = json.loads((OBSERVABILITY / "grafana" / "ascension.json").read_text())
    alerts = yaml.safe_load((OBSERVABILITY / "alerts.yml").read_text())
    return [
        target["expr"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
        if "expr" in target
    ] + [rule["expr"] for group in alerts["groups"] for rule in group["rules"]]


async def test_every_metric_the_dashboard_queries_is_exported(
    scraped: str, client: Client, bind: str
) -> None:
    # What a running worker's sampler adds to the activity-made series.
    queues = [("tq-metrics-cpu", "workflow"), ("tq-metrics-gpu", "activity")]
    await sample_once(client, client_meter(client), queues, gpu=False)
    for _ in range(100):
        worker = _scrape(bind)
        if "ascension_task_queue_backlog{" in worker:
            break
        await asyncio.sleep(0.1)
    api = ApiMetrics()
    # Labelled API series appear once observed: one of each, as a running API would have.
    api.observe("GET", "/api/v1/auth/me", "2xx", 0.01)
    api.analysis_started("premium")
    api.analyses.labels("completed").set(1)
    exported = _exported_names(scraped, worker, api.exposition().decode())
    # The GPU gauge exists only where a driver reports utilisation (never faked): its name is
    # the one `core.telemetry` sets.
    exported.add(GPU_UTILIZATION)
    queries = _dashboard_queries()
    assert len(queries) >= 8
    queried = {name for expr in queries for name in _METRIC.findall(expr)}
    missing = sorted(queried - exported)
    assert missing == []
    # Every seed key metric has a panel: rate, errors, latency, sockets, backlog, GPU, ...
    for needed in (
        "ascension_http_requests_total",
        "ascension_http_request_duration_seconds_bucket",
        "ascension_websocket_connections",
        "ascension_analyses",
        "ascension_analyses_finished_total",
        "ascension_analysis_processing_seconds_bucket",
        "ascension_task_queue_backlog",
        "ascension_gpu_utilization_ratio",
    ):
        assert needed in queried, needed


def test_prometheus_scrapes_the_api_with_its_token_and_both_workers() -> None:
    config = yaml.safe_load((OBSERVABILITY / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) >= {"ascension-api", "ascension-worker-cpu", "ascension-worker-gpu"}
    api = jobs["ascension-api"]
    assert api["metrics_path"] == "/metrics"
    assert api["authorization"]["type"] == "Bearer" and api["authorization"]["credentials_file"]
    for job in ("ascension-worker-cpu", "ascension-worker-gpu"):
        assert jobs[job]["static_configs"][0]["targets"]
