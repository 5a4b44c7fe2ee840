"""`ascension stack up | down | status`: the real stack on this machine, without containers.

`up` starts the four servers from the bootstrap's cache and Debian's packages (in parallel: on
2 cores their start-ups overlap well), creates the database role and database, applies the
migrations, creates both buckets, then starts the CPU and GPU workers, the ingress and the API
as processes of their own, and returns once every component passes its health probe. Each
component logs to its own file under the state folder and keeps running after `up` exits;
`down` stops them newest first, through the record in ``stack.json``.

The servers are the very runners the test harness uses (`ascension.servers`), so the tests
exercise what an operator runs.
"""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ascension.servers import MinioServer, PostgresServer, RabbitMQServer
from ascension.servers.process import ManagedProcess, log_tail, port_open
from ascension.servers.rabbitmq import stop_epmd
from ascension.servers.temporal import TemporalDevServer
from ascension.stack import state
from ascension.stack.config import StackPlan
from ascension.stack.health import Health, probe
from ascension.stack.state import Component
from ascension.toolchain import components
from core.db import make_engine, migrate
from core.storage import S3ObjectStore

SERVER_TIMEOUT_S = 120.0
#: The GPU worker imports torch and starts its pose processes before it polls.
APP_TIMEOUT_S = 300.0

#: The application processes, in start order: `ascension` sub-commands.
APPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("worker-cpu", ("worker", "cpu")),
    ("worker-gpu", ("worker", "gpu")),
    ("ingress", ("worker", "ingress")),
    ("api", ("api",)),
)

Say = Callable[[str], None]


class StackError(RuntimeError):
    """`stack up` could not bring the stack up; the message says which part and why."""


class _Server(Protocol):
    @property
    def pid(self) -> int | None: ...
    @property
    def log_path(self) -> Path: ...
    def start(self, timeout: float = ...) -> None: ...


@dataclass(frozen=True)
class StopReport:
    name: str
    outcome: str  # "stopped", "killed" or "was not running"


def _binaries(plan: StackPlan) -> tuple[Path, Path, Path, Path]:
    settings = plan.settings
    reports = {
        "postgresql": components.report_postgres(settings),
        "rabbitmq": components.report_rabbitmq(settings),
        "minio": components.report_minio(settings),
        "temporal": components.report_temporal_cli(settings),
    }
    missing = [f"{r.name} (fix: {r.fix})" for r in reports.values() if not r.found]
    if missing:
        raise StackError("missing: " + "; ".join(missing))
    pg_bin = components.postgres_bin_dir(settings)
    rabbit = reports["rabbitmq"].path
    minio = components.minio_path(settings)
    temporal = components.temporal_cli_path(settings)
    assert pg_bin and rabbit and minio and temporal
    return pg_bin, rabbit, minio, temporal


def _ports_free(plan: StackPlan) -> None:
    wanted = {
        "ASCENSION_DATABASE_URL": plan.postgres.port,
        "ASCENSION_AMQP_URL": plan.rabbitmq.port,
        "ASCENSION_S3_ENDPOINT": plan.minio_port,
        "ASCENSION_TEMPORAL_ADDRESS": plan.temporal_port,
        "ASCENSION_TEMPORAL_UI_PORT": plan.temporal_ui_port,
        "ASCENSION_API_PORT": plan.settings.api_port,
    }
    busy = [f"{port} ({name})" for name, port in wanted.items() if port_open(port)]
    if busy:
        raise StackError("ports already in use: " + ", ".join(busy))


def _reachable_by_postgres(state_dir: Path) -> None:
    """As root, PostgreSQL runs as `postgres`, which must be able to walk down to its data."""
    if os.geteuid() != 0:
        return
    for folder in [*reversed(state_dir.parents)]:
        if folder.exists() and not folder.stat().st_mode & stat.S_IXOTH:
            raise StackError(
                f"{folder} is closed to other users, and PostgreSQL runs as `postgres` when the "
                "stack runs as root: choose a state folder outside it (ASCENSION_DATA_DIR, "
                "e.g. /var/lib/ascension, or --state-dir)"
            )


def _servers(plan: StackPlan) -> list[tuple[str, _Server]]:
    pg_bin, rabbit, minio, temporal = _binaries(plan)
    root, settings = plan.state_dir, plan.settings
    return [
        (
            "postgresql",
            PostgresServer(
                pg_bin, root / "postgres", port=plan.postgres.port, host_auth="scram-sha-256"
            ),
        ),
        (
            "rabbitmq",
            RabbitMQServer(
                rabbit,
                root / "rabbitmq",
                port=plan.rabbitmq.port,
                user=plan.rabbitmq.user,
                password=plan.rabbitmq.password,
                vhost=plan.rabbitmq.vhost,
            ),
        ),
        (
            "minio",
            MinioServer(
                minio,
                root / "minio",
                access_key=settings.s3_access_key,
                secret_key=settings.s3_secret_key,
                port=plan.minio_port,
            ),
        ),
        (
            "temporal",
            TemporalDevServer(
                temporal,
                root / "temporal",
                port=plan.temporal_port,
                namespace=settings.temporal_namespace,
                ui_port=plan.temporal_ui_port,
                ui_codec_endpoint=f"{plan.api_url}/codec",
            ),
        ),
    ]


def _port_of(name: str, plan: StackPlan) -> int | None:
    return {
        "postgresql": plan.postgres.port,
        "rabbitmq": plan.rabbitmq.port,
        "minio": plan.minio_port,
        "temporal": plan.temporal_port,
        "api": plan.settings.api_port,
    }.get(name)


async def _start_servers(plan: StackPlan, started: list[Component], say: Say) -> None:
    servers = _servers(plan)
    outcomes = await asyncio.gather(
        *(asyncio.to_thread(server.start, SERVER_TIMEOUT_S) for _, server in servers),
        return_exceptions=True,
    )
    for name, server in servers:
        if server.pid is not None and state.process_start_ticks(server.pid) is not None:
            extra: dict[str, int | None] = {}
            if isinstance(server, RabbitMQServer):
                extra["epmd_port"] = server.epmd_port
            if isinstance(server, PostgresServer):
                extra["stop_signal"] = int(signal.SIGINT)  # fast shutdown: no client to wait for
            started.append(
                state.record(name, server.pid, _port_of(name, plan), server.log_path, **extra)
            )
    state.save(plan.state_dir, started)
    errors = [str(o) for o in outcomes if isinstance(o, BaseException)]
    if errors:
        raise StackError("\n".join(errors))
    for name, _ in servers:
        say(f"{name:<12} started")
    postgres = servers[0][1]
    assert isinstance(postgres, PostgresServer)
    db = plan.postgres
    await postgres.ensure_role_and_database(db.role, db.password, db.database)
    engine = make_engine(plan.settings.database_url or "")
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
    say(f"{'postgresql':<12} role {db.role}, database {db.database}, migrations applied")
    settings = plan.settings
    store = S3ObjectStore(
        settings.s3_endpoint, settings.s3_access_key, settings.s3_secret_key, secure=False
    )
    try:
        for bucket in (settings.bucket, settings.payload_bucket):
            await store.ensure_bucket(bucket)
    finally:
        await store.close()
    say(f"{'minio':<12} buckets {settings.bucket}, {settings.payload_bucket}")


async def _until_healthy(plan: StackPlan, component: Component, timeout: float) -> Health:
    deadline = time.monotonic() + timeout
    health = Health(False, "not probed")
    while time.monotonic() < deadline:
        health = await probe(plan, component)
        if health.healthy:
            return health
        if not state.is_running(component):
            raise StackError(
                f"{component.name} exited while starting; log {component.log}:\n"
                f"{log_tail(Path(component.log))}"
            )
        await asyncio.sleep(0.5)
    raise StackError(
        f"{component.name} not healthy after {timeout:.0f} s ({health.detail}); "
        f"log {component.log}:\n{log_tail(Path(component.log))}"
    )


async def _start_apps(plan: StackPlan, started: list[Component], say: Say) -> None:
    logs = plan.state_dir / "logs"
    apps: list[Component] = []
    for name, args in APPS:
        log = logs / f"{name}.log"
        process = ManagedProcess(
            name,
            [sys.executable, "-m", "ascension.cli", *args],
            log,
            env=plan.env,
            cwd=plan.state_dir,  # no stray .env: the environment is the whole configuration
        )
        component = state.record(name, process.proc.pid, _port_of(name, plan), log)
        started.append(component)
        apps.append(component)
        state.save(plan.state_dir, started)
    for component, health in zip(
        apps,
        await asyncio.gather(*(_until_healthy(plan, c, APP_TIMEOUT_S) for c in apps)),
        strict=True,
    ):
        say(f"{component.name:<12} {health.detail}")


async def up(plan: StackPlan, say: Say = print) -> list[Component]:
    """Start everything, or nothing: on any failure what was started is stopped again."""
    running = [c for c in state.load(plan.state_dir) if state.is_running(c)]
    if running:
        names = ", ".join(f"{c.name} (pid {c.pid})" for c in running)
        raise StackError(
            f"a stack is already running from {plan.state_dir}: {names}; "
            "`ascension stack down` first"
        )
    _ports_free(plan)
    _reachable_by_postgres(plan.state_dir)
    plan.state_dir.mkdir(parents=True, exist_ok=True)
    started: list[Component] = []
    try:
        await _start_servers(plan, started, say)
        temporal = next(c for c in started if c.name == "temporal")
        say(f"{'temporal':<12} {(await _until_healthy(plan, temporal, SERVER_TIMEOUT_S)).detail}")
        await _start_apps(plan, started, say)
    except BaseException:
        await asyncio.to_thread(_stop_all, plan.state_dir, started)
        raise
    return started


def _stop_one(component: Component) -> StopReport:
    if not state.is_running(component):
        outcome = "was not running"
    else:
        outcome = "killed" if state.stop(component) else "stopped"
    if component.epmd_port is not None:
        stop_epmd(component.epmd_port)
    return StopReport(component.name, outcome)


def _stop_all(state_dir: Path, started: list[Component]) -> list[StopReport]:
    """The application processes first (they drain their work against live servers), then the
    servers; within each wave all at once, as none waits for another."""
    app_names = {name for name, _ in APPS}
    waves = [
        [c for c in reversed(started) if c.name in app_names],
        [c for c in reversed(started) if c.name not in app_names],
    ]
    reports: list[StopReport] = []
    with ThreadPoolExecutor(max_workers=len(APPS)) as pool:
        for wave in waves:
            reports += pool.map(_stop_one, wave)
    state.clear(state_dir)
    return reports


def down(state_dir: Path) -> list[StopReport]:
    """Stop every recorded component, the application processes before the servers."""
    return _stop_all(state_dir, state.load(state_dir))


async def status(plan: StackPlan) -> list[tuple[Component, Health]]:
    recorded = state.load(plan.state_dir)
    healths = await asyncio.gather(*(probe(plan, c) for c in recorded))
    return list(zip(recorded, healths, strict=True))
