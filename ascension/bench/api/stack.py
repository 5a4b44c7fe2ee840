"""The servers of `ascension bench api`: throwaway PostgreSQL, MinIO, Temporal dev server (and
RabbitMQ) on loopback, and the API served by uvicorn in a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from ascension.servers import MinioServer, PostgresServer, RabbitMQServer, free_port
from ascension.servers.temporal import start_dev_server
from ascension.toolchain import components
from core.db import make_engine, migrate
from core.settings import Settings
from core.storage import S3ObjectStore


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
    repo = Path(__file__).resolve().parents[3]
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
