"""`ascension bench api`: latency and throughput of the mobile API on the real stack.

Throwaway PostgreSQL, MinIO, Temporal dev server (and RabbitMQ, for the WebSocket figure) start
in a temporary folder; the API (`api.app:create_app`) is served by uvicorn in a subprocess, so
the load generator never shares its event loop or its core. Climbers are registered through the
API; each gets a video really uploaded through its presigned URL, a route with a validated hold
map (starts need no GPU; no worker runs, workflows are only scheduled) and one completed analysis
with a stored ~50 KB gzip result document.

Per concurrency level (closed loop: each client sends its next request when the last answered):
``POST request-upload``, ``POST start`` and ``GET`` of the completed analysis, each against the
app's bare ``/healthz`` measured in the same run at the same concurrency, the floor any request
through this server pays. Then the WebSocket latency from an `analysis.completed` event's
publication to its arrival at a connected client (`ascension.bench.ws_latency`).

Client and server CPU use are reported with every figure: at ~100 % of a core the load
generator (or the single server process) was the bottleneck and the latency is mostly queueing.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gzip
import json
import logging
import math
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from ascension.bench.report import BenchReport, summary
from ascension.servers import MinioServer, PostgresServer, RabbitMQServer, free_port
from ascension.servers.temporal import start_dev_server
from ascension.toolchain import components
from core.db import make_engine, migrate, session_scope
from core.settings import Settings
from core.storage import S3ObjectStore
from schema import names
from schema.analysis import Status, Tier
from schema.holds import Hold, HoldMap
from schema.models import Analysis, Route, User

GOAL_P95_MS = 20.0
GOAL_RATIO_VS_HEALTHZ = 2.0
GOAL_WS_P95_MS = 100.0
RESULT_DOCUMENT_BYTES = 50 * 1024
#: Starts one climber may make in the benchmark (the infinity plan allows 100 a month).
STARTS_PER_CLIMBER = 90
PASSWORD = "bench password 123"
OPERATIONS = ("request_upload", "start", "get_result")
LABELS = {
    "healthz": "GET /healthz (bare)",
    "request_upload": "POST request-upload",
    "start": "POST start",
    "get_result": "GET completed analysis (50 KB gzip)",
}


# --- load generation ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Call:
    """One request, plain data so it can be sent to a load process."""

    method: str
    path: str
    expect: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None


@dataclass
class LoadResult:
    latencies_s: list[float]
    errors: int
    first_error: str | None
    #: Wall-clock (time.time) bounds of the measured part, comparable across processes.
    began: float
    ended: float
    client_cpu_s: float


async def run_load(
    base_url: str, warmup: list[Call], calls: list[Call], concurrency: int
) -> LoadResult:
    """Closed loop with ``concurrency`` clients, each with its own keep-alive connection (as
    phones have); the warm-up calls open the connections and are not measured.

    One `httpx.AsyncClient` per simulated client, not one shared pool: httpx's pool scans its
    connections on every request, which at 200 connections costs more than the server does.
    """
    latencies: list[float] = []
    problems: list[str] = []

    async def client_loop(client: httpx.AsyncClient, work: Iterator[Call], record: bool) -> None:
        for call in work:  # one shared iterator: every call is taken exactly once
            begin = time.perf_counter()
            try:
                response = await client.request(
                    call.method, call.path, headers=call.headers, json=call.body
                )
                problem = (
                    None
                    if response.status_code == call.expect
                    else f"{call.method} {call.path}: {response.status_code} {response.text[:200]}"
                )
            except httpx.HTTPError as exc:
                problem = f"{call.method} {call.path}: {type(exc).__name__} {exc}"
            elapsed = time.perf_counter() - begin
            if record:
                latencies.append(elapsed)
                if problem:
                    problems.append(problem)

    one_connection = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=base_url, limits=one_connection, timeout=120)
            )
            for _ in range(concurrency)
        ]
        warm = iter(warmup)
        await asyncio.gather(*(client_loop(client, warm, False) for client in clients))
        cpu, began = time.process_time(), time.time()
        work = iter(calls)
        await asyncio.gather(*(client_loop(client, work, True) for client in clients))
        ended = time.time()
    return LoadResult(
        latencies,
        len(problems),
        problems[0] if problems else None,
        began,
        ended,
        time.process_time() - cpu,
    )


def _load_process(
    base_url: str, warmup: list[Call], calls: list[Call], concurrency: int
) -> LoadResult:
    """Entry point of a load process (spawned: no state shared with the parent)."""
    return asyncio.run(run_load(base_url, warmup, calls, concurrency))


def _ready_process() -> bool:
    return True


@dataclass
class Measured:
    latencies_s: list[float]
    errors: int
    first_error: str | None
    wall_s: float
    #: Busiest load process's CPU time over its wall time (1.0 = one core saturated).
    client_cpu: float
    #: The API process's CPU time (all its threads) over the row's wall time.
    server_cpu: float | None
    #: Share of all the machine's cores busy during the row (every server, client, database).
    machine_busy: float | None


class LoadGenerator:
    """Simulated clients on the bench's own event loop, or spread over spawned processes."""

    def __init__(self, base_url: str, processes: int) -> None:
        self.base_url = base_url
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> LoadGenerator:
        if self.processes > 1:
            self._pool = ProcessPoolExecutor(self.processes, mp_context=get_context("spawn"))
            # Start every process now: interpreter start-up must not land in a measurement.
            for future in [self._pool.submit(_ready_process) for _ in range(self.processes)]:
                future.result()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    async def run(
        self, warmup: list[Call], calls: list[Call], concurrency: int, server_pid: int
    ) -> Measured:
        cpu_before, machine_before, began = _process_cpu_s(server_pid), _machine_cpu(), time.time()
        if self._pool is None:
            results = [await run_load(self.base_url, warmup, calls, concurrency)]
        else:
            n = self.processes
            loop = asyncio.get_running_loop()
            futures = [
                loop.run_in_executor(
                    self._pool,
                    _load_process,
                    self.base_url,
                    warmup[i::n],
                    calls[i::n],
                    max(1, concurrency // n),
                )
                for i in range(n)
            ]
            results = list(await asyncio.gather(*futures))
        cpu_after, machine_after, ended = _process_cpu_s(server_pid), _machine_cpu(), time.time()
        wall = max(r.ended for r in results) - min(r.began for r in results)
        server_cpu = None
        if cpu_before is not None and cpu_after is not None:
            # Over warm-up and measurement together: the server's CPU is read from here.
            server_cpu = (cpu_after - cpu_before) / (ended - began)
        return Measured(
            latencies_s=[x for r in results for x in r.latencies_s],
            errors=sum(r.errors for r in results),
            first_error=next((r.first_error for r in results if r.first_error), None),
            wall_s=wall,
            client_cpu=max(r.client_cpu_s / max(r.ended - r.began, 1e-9) for r in results),
            server_cpu=server_cpu,
            machine_busy=_busy_share(machine_before, machine_after),
        )


def _process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (Linux /proc); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_cpu() -> tuple[int, int] | None:
    """(busy, total) jiffies of all cores so far (Linux /proc/stat); None elsewhere."""
    try:
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values) - idle, sum(values)


def _busy_share(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    if before is None or after is None or after[1] == before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


# --- the stack ------------------------------------------------------------------------------------
@dataclass
class Stack:
    settings: Settings
    engine: AsyncEngine
    store: S3ObjectStore
    amqp_url: str | None


def _require(report: components.ComponentReport) -> None:
    if not report.found:
        raise SystemExit(f"{report.name} is missing. Fix: {report.fix}")


@contextlib.asynccontextmanager
async def real_stack(settings: Settings, folder: Path, *, broker: bool) -> AsyncIterator[Stack]:
    """PostgreSQL, MinIO, Temporal (and RabbitMQ) on loopback, as tests/conftest.py starts them."""
    for report in (
        components.report_postgres(settings),
        components.report_minio(settings),
        components.report_temporal_cli(settings),
    ):
        _require(report)
    with contextlib.ExitStack() as servers:
        bin_dir = components.postgres_bin_dir(settings)
        minio_binary = components.minio_path(settings)
        assert bin_dir is not None and minio_binary is not None
        postgres = PostgresServer(bin_dir, folder / "postgres")
        postgres.start()
        servers.callback(postgres.stop)
        database_url = postgres.create_database("ascension_bench")
        minio = MinioServer(minio_binary, folder / "minio")
        minio.start()
        servers.callback(minio.stop)
        amqp_url = None
        rabbit_report = components.report_rabbitmq(settings)
        if broker and rabbit_report.found and rabbit_report.path is not None:
            rabbit = RabbitMQServer(rabbit_report.path, folder / "rabbitmq")
            rabbit.start()
            servers.callback(rabbit.stop)
            amqp_url = rabbit.url()
        env = await start_dev_server(settings)
        try:
            queue = f"bench-{uuid.uuid4().hex[:8]}"
            api_settings = settings.model_copy(
                update={
                    "data_dir": folder / "api-data",
                    "database_url": database_url,
                    "object_store": "s3",
                    "s3_endpoint": minio.endpoint,
                    "s3_access_key": minio.access_key,
                    "s3_secret_key": minio.secret_key,
                    "s3_secure": False,
                    "amqp_url": amqp_url,
                    "temporal_address": env.client.service_client.config.target_host,
                    "temporal_namespace": env.client.namespace,
                    # No worker listens: starts are scheduled, never run.
                    "cpu_task_queue": f"{queue}-cpu",
                    "gpu_task_queue": f"{queue}-gpu",
                    "rate_limit_login_per_min": 0,
                    "rate_limit_register_per_min": 0,
                    "rate_limit_upload_per_min": 0,
                }
            )
            engine = make_engine(database_url)
            await migrate(engine)
            store = S3ObjectStore(minio.endpoint, minio.access_key, minio.secret_key, secure=False)
            await store.ensure_bucket(api_settings.bucket)
            try:
                yield Stack(api_settings, engine, store, amqp_url)
            finally:
                await store.close()
                await engine.dispose()
        finally:
            await env.shutdown()


def _server_env(settings: Settings) -> dict[str, str]:
    """The API process's settings, as ``ASCENSION_*`` variables (its only configuration)."""
    measured = settings.model_copy(
        update={
            "s3_secure": False,
            "rate_limit_login_per_min": 0,
            "rate_limit_register_per_min": 0,
            "rate_limit_upload_per_min": 0,
            "jwt_secret": SecretStr(secrets.token_urlsafe(48)),
        }
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASCENSION_")}
    env.update(measured.as_environment(_SERVER_FIELDS))
    return env


_SERVER_FIELDS = (
    "data_dir",
    "database_url",
    "object_store",
    "s3_endpoint",
    "s3_access_key",
    "s3_secret_key",
    "s3_secure",
    "bucket",
    "payload_bucket",
    "amqp_url",
    "temporal_address",
    "temporal_namespace",
    "cpu_task_queue",
    "gpu_task_queue",
    "rate_limit_login_per_min",
    "rate_limit_register_per_min",
    "rate_limit_upload_per_min",
    "jwt_secret",
    "cache_dir",
)


@contextlib.asynccontextmanager
async def api_server(settings: Settings, folder: Path) -> AsyncIterator[tuple[str, int]]:
    """``uvicorn api.app:create_app --factory`` in a subprocess; yields (base URL, pid)."""
    port = free_port()
    repo = Path(__file__).resolve().parents[2]
    log_path = folder / "api.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.app:create_app",
                "--factory",
                "--app-dir",
                str(repo),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
                # As `ascension api` serves it with no trusted proxy configured.
                "--no-proxy-headers",
                # Longer than the slowest warm-up round: an idle client must not find its
                # connection closed under it when the measured round starts.
                "--timeout-keep-alive",
                "75",
            ],
            env=_server_env(settings),
            cwd=folder,  # no stray .env file: the environment above is the whole configuration
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            await _wait_ready(base_url, process, log_path)
            yield base_url, process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def _wait_ready(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 90
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"the API process exited ({process.returncode}):\n{tail}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get("/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"the API was not ready within 90 s; see {log_path}")


# --- data ---------------------------------------------------------------------------------------
@dataclass
class Climber:
    user_id: str
    token: str
    video_id: str = ""
    route_id: str = ""
    completed_analysis_id: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def result_document(analysis_id: str, target_bytes: int = RESULT_DOCUMENT_BYTES) -> bytes:
    """A result-shaped document (33 landmarks per frame) whose gzip is about ``target_bytes``."""
    rng = random.Random(7)
    frames: list[list[float]] = []
    data = b""
    while len(data) < target_bytes:
        for _ in range(10):
            frames.append([round(rng.random(), 3) for _ in range(33 * 3)])
        document = {
            "schema_version": 1,
            "analysis_id": analysis_id,
            "skeleton": {"fps": 15, "landmarks": 33, "frames": frames},
            "advice": [{"move": i, "text": "keep your hips close to the wall"} for i in range(8)],
        }
        data = gzip.compress(json.dumps(document, separators=(",", ":")).encode(), 6)
    return data


async def prepare_climbers(
    stack: Stack, client: httpx.AsyncClient, count: int, document: bytes
) -> list[Climber]:
    """Register ``count`` climbers on the infinity plan, each with an uploaded video, a route
    with a validated hold map and one completed analysis with its stored result document."""
    climbers: list[Climber] = []
    for _ in range(count):
        email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
        response = await client.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
        )
        response.raise_for_status()
        body = response.json()
        climbers.append(Climber(body["user"]["id"], body["access_token"]))
    video = secrets.token_bytes(1024)
    hold_map = dataclasses.asdict(HoldMap(1920, 1080, [Hold("h1", 0.5, 0.5, "jug")]))
    async with session_scope(stack.engine) as session:
        await session.exec(
            update(User)
            .where(User.id.in_([uuid.UUID(c.user_id) for c in climbers]))  # type: ignore[attr-defined]
            .values(subscription_tier=Tier.INFINITY)
        )
        await session.commit()
    async with httpx.AsyncClient(timeout=30) as uploader:
        for climber in climbers:
            response = await client.post(
                "/api/v1/analysis/video/request-upload",
                json={"content_type": "video/mp4", "size_bytes": len(video)},
                headers=climber.headers,
            )
            response.raise_for_status()
            upload = response.json()
            put = await uploader.put(
                upload["upload_url"],
                content=video,
                headers={"Content-Type": upload["headers"]["Content-Type"]},
            )
            put.raise_for_status()
            climber.video_id = upload["video_id"]
    async with session_scope(stack.engine) as session:
        routes = [
            Route(
                user_id=uuid.UUID(climber.user_id),
                name="bench wall",
                hold_map=hold_map,
                hold_map_validated_at=datetime.now(UTC),
            )
            for climber in climbers
        ]
        session.add_all(routes)
        await session.flush()  # no ORM relationships order the inserts: routes first
        for climber, route in zip(climbers, routes, strict=True):
            analysis = Analysis(
                video_id=uuid.UUID(climber.video_id),
                user_id=uuid.UUID(climber.user_id),
                route_id=route.id,
                status=Status.COMPLETED,
                completed_at=datetime.now(UTC),
                result_json={"status": "completed", "result_document_bytes": len(document)},
            )
            session.add(analysis)
            climber.route_id = str(route.id)
            climber.completed_analysis_id = str(analysis.id)
        await session.commit()
    for climber in climbers:
        key = names.result_key(climber.completed_analysis_id, "result")
        await stack.store.put_bytes(
            stack.settings.bucket, key, document, content_type="application/json"
        )
    return climbers


def calls_for(operation: str, climbers: list[Climber], count: int) -> list[Call]:
    """``count`` requests of one operation, spread round-robin over the climbers."""
    calls = []
    for i in range(count):
        climber = climbers[i % len(climbers)]
        if operation == "healthz":
            calls.append(Call("GET", "/healthz", 200))
        elif operation == "request_upload":
            calls.append(
                Call(
                    "POST",
                    "/api/v1/analysis/video/request-upload",
                    201,
                    climber.headers,
                    {"content_type": "video/mp4", "size_bytes": 4_000_000},
                )
            )
        elif operation == "start":
            calls.append(
                Call(
                    "POST",
                    "/api/v1/analysis/video/start",
                    202,
                    climber.headers,
                    {"video_id": climber.video_id, "route_id": climber.route_id, "ghost": False},
                )
            )
        elif operation == "get_result":
            headers = {**climber.headers, "Accept-Encoding": "gzip"}
            path = f"/api/v1/analysis/video/{climber.completed_analysis_id}"
            calls.append(Call("GET", path, 200, headers))
        else:  # pragma: no cover - the operations are ours
            raise ValueError(operation)
    return calls


def _pct(share: float | None) -> float | None:
    return None if share is None else 100 * share


# --- the benchmark ------------------------------------------------------------------------------
@dataclass
class Figure:
    operation: str
    clients: int
    measured: Measured

    @property
    def stats(self) -> dict[str, float]:
        return summary(self.measured.latencies_s)

    def as_json(self, floor: Figure | None) -> dict[str, Any]:
        stats = self.stats
        figure: dict[str, Any] = {
            "n": stats["n"],
            "p50_ms": stats["p50"] * 1000,
            "p95_ms": stats["p95"] * 1000,
            "p99_ms": stats["p99"] * 1000,
            "mean_ms": stats["mean"] * 1000,
            "requests_per_s": stats["n"] / self.measured.wall_s,
            "errors": self.measured.errors,
            "client_cpu_pct": 100 * self.measured.client_cpu,
            "server_cpu_pct": _pct(self.measured.server_cpu),
            "machine_busy_pct": _pct(self.measured.machine_busy),
        }
        if self.measured.first_error:
            figure["first_error"] = self.measured.first_error
        if floor is not None:
            figure["p95_vs_healthz"] = stats["p95"] / floor.stats["p95"]
        return figure


async def bench_api(
    settings: Settings,
    *,
    clients: list[int],
    requests: int,
    load_processes: int = 1,
    ws_samples: int = 50,
    warmup: int = 50,
) -> BenchReport:
    # A log line per request would cost the load generator more than some requests do.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    warmup = min(warmup, requests)
    starts = (requests + warmup) * len(clients)
    folder = Path(tempfile.mkdtemp(prefix="ascension-bench-api-"))
    folder.chmod(0o755)  # PostgreSQL runs as `postgres` and must reach its folder
    try:
        async with real_stack(settings, folder, broker=ws_samples > 0) as stack:
            async with api_server(stack.settings, folder) as (base_url, pid):
                document = result_document(str(uuid.uuid4()))
                async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
                    count = max(1, math.ceil(starts / STARTS_PER_CLIMBER))
                    climbers = await prepare_climbers(stack, client, count, document)
                figures: list[Figure] = []
                with LoadGenerator(base_url, load_processes) as load:
                    for concurrency in clients:
                        for operation in ("healthz", *OPERATIONS):
                            measured = await load.run(
                                calls_for(operation, climbers, warmup),
                                calls_for(operation, climbers, requests),
                                concurrency,
                                pid,
                            )
                            figures.append(Figure(operation, concurrency, measured))
                ws, ws_problem = await _ws_latency(stack, base_url, ws_samples)
            broker = stack.amqp_url is not None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return _report(
        figures,
        clients=clients,
        requests=requests,
        load_processes=load_processes,
        document_bytes=len(document),
        ws=ws,
        ws_problem=ws_problem,
        broker=broker,
    )


async def _ws_latency(
    stack: Stack, base_url: str, samples: int
) -> tuple[list[float] | None, str | None]:
    """WebSocket latencies (ms) of `samples` events, or why they could not be measured."""
    if samples <= 0:
        return None, "skipped (--ws-samples 0)"
    from ascension.bench.ws_latency import measure_ws_latency, production_publish
    from core.events import EventPublisher

    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        email = f"bench-ws-{uuid.uuid4().hex[:12]}@example.com"
        response = await client.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
        )
        response.raise_for_status()
        body = response.json()
    publisher = EventPublisher(stack.amqp_url) if stack.amqp_url else None
    ws_url = base_url.replace("http://", "ws://", 1)
    try:
        publish = production_publish(stack.engine, publisher, body["user"]["id"])
        return await measure_ws_latency(ws_url, body["access_token"], publish, samples), None
    except Exception as exc:
        return None, f"not measured: {type(exc).__name__}: {exc}"[:300]
    finally:
        if publisher is not None:
            await asyncio.to_thread(publisher.close)


def _report(
    figures: list[Figure],
    *,
    clients: list[int],
    requests: int,
    load_processes: int,
    document_bytes: int,
    ws: list[float] | None,
    ws_problem: str | None,
    broker: bool,
) -> BenchReport:
    report = BenchReport(
        name="api",
        title=(
            f"API on real servers: uvicorn in 1 subprocess; {requests} requests per row; "
            f"load: {load_processes} process(es) of httpx.AsyncClient"
        ),
        columns=[
            "operation",
            "clients",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "req/s",
            "p95 / healthz p95",
            "errors",
            "client CPU %",
            "server CPU %",
            "machine busy %",
        ],
    )
    floors = {f.clients: f for f in figures if f.operation == "healthz"}
    operations: dict[str, dict[str, Any]] = {op: {} for op in OPERATIONS}
    baselines: dict[str, dict[str, Any]] = {"healthz": {}}
    ratios: dict[str, dict[str, float]] = {f"{op}_p95_vs_healthz": {} for op in OPERATIONS}
    met: dict[str, dict[str, bool]] = {op: {} for op in OPERATIONS}
    saturated_client = False
    for figure in figures:
        floor = floors.get(figure.clients)
        is_floor = figure.operation == "healthz"
        data = figure.as_json(None if is_floor else floor)
        key = str(figure.clients)
        if is_floor:
            baselines["healthz"][key] = data
        else:
            operations[figure.operation][key] = data
            ratio = data["p95_vs_healthz"]
            ratios[f"{figure.operation}_p95_vs_healthz"][key] = ratio
            met[figure.operation][key] = (
                ratio <= GOAL_RATIO_VS_HEALTHZ and data["p95_ms"] < GOAL_P95_MS
            )
        saturated_client = saturated_client or figure.measured.client_cpu >= 0.9
        server, machine = data["server_cpu_pct"], data["machine_busy_pct"]
        report.rows.append(
            [
                LABELS[figure.operation],
                key,
                f"{data['p50_ms']:.1f}",
                f"{data['p95_ms']:.1f}",
                f"{data['p99_ms']:.1f}",
                f"{data['requests_per_s']:.0f}",
                "1.00 (floor)" if is_floor else f"{data['p95_vs_healthz']:.2f}",
                str(data["errors"]),
                f"{data['client_cpu_pct']:.0f}",
                "" if server is None else f"{server:.0f}",
                "" if machine is None else f"{machine:.0f}",
            ]
        )
    ws_figures = None
    if ws:
        stats = summary(ws)  # already milliseconds
        ws_figures = dict(stats)
        report.rows.append(
            [
                "WebSocket: event sent → received",
                "1",
                f"{stats['p50']:.1f}",
                f"{stats['p95']:.1f}",
                f"{stats['p99']:.1f}",
                "",
                "",
                "0",
                "",
                "",
                "",
            ]
        )
    report.figures = {
        "requests_per_row": requests,
        "clients": clients,
        "load_generator": {
            "processes": load_processes,
            "client": "one httpx.AsyncClient (one keep-alive connection) per simulated client",
            "saturated": saturated_client,
        },
        "server": {
            "processes": 1,
            "server": "uvicorn (uvloop, httptools)",
            "cores": os.cpu_count(),
        },
        "result_document_gzip_bytes": document_bytes,
        "operations": operations,
        "ws_latency_ms": ws_figures,
        "ws_transport": "rabbitmq" if broker else "table poll",
    }
    report.baselines = baselines
    report.ratios = ratios
    report.goals = {
        "p95_ms": GOAL_P95_MS,
        "p95_vs_healthz_max": GOAL_RATIO_VS_HEALTHZ,
        "ws_p95_ms": GOAL_WS_P95_MS,
        "met": met,
        "ws_met": None if ws_figures is None else ws_figures["p95"] < GOAL_WS_P95_MS,
    }
    report.notes.append(
        "closed loop: each client sends its next request when the previous one answered; "
        "the floor is the app's bare GET /healthz on the same server at the same concurrency"
    )
    report.notes.append(
        f"goals: p95 < {GOAL_P95_MS:g} ms and <= {GOAL_RATIO_VS_HEALTHZ:g}x the floor's p95; "
        f"WebSocket p95 < {GOAL_WS_P95_MS:g} ms"
    )
    if saturated_client:
        report.notes.append(
            "the load generator used ~100 % of a core in some rows: it was (part of) the "
            "bottleneck there; try --load-processes 2 on a machine with spare cores"
        )
    if ws_problem:
        report.notes.append(f"WebSocket latency {ws_problem}")
    return report
