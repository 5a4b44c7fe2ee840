"""Session fixtures: each real server is started once per run on free loopback ports.

Isolation per run: a fresh PostgreSQL database, a private RabbitMQ node (its own vhost, ports and
epmd), a bucket of our own on MinIO and a fresh Temporal dev server. With
``ASCENSION_TEST_REUSE_SERVERS=1`` the servers named by settings are used instead and each run still
gets its own database, bucket and Temporal namespace. Nothing is downloaded at run time: a missing
binary fails the fixture with the doctor's fix.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from ascension.servers import MinioServer, PostgresServer, RabbitMQServer
from ascension.servers.temporal import start_dev_server, start_time_skipping_server
from ascension.toolchain import components
from core.settings import Settings
from tests.utils.servers import S3Target

RUN_ID = uuid.uuid4().hex[:8]
# Records the refused requests of every test: the README's bad-input table (issue 18 item 7).
pytest_plugins = ("tests.utils.bad_inputs",)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def run_dir() -> Iterator[Path]:
    # Under /tmp, not the repo or $HOME: PostgreSQL runs as `postgres` and must reach it.
    path = Path(tempfile.mkdtemp(prefix=f"ascension-test-{RUN_ID}-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _require(report: components.ComponentReport) -> None:
    if not report.found:
        pytest.fail(f"{report.name} is missing. Fix: {report.fix}", pytrace=False)


# --- PostgreSQL -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url(settings: Settings, run_dir: Path) -> Iterator[str]:
    """URL of an empty database that belongs to this run."""
    if settings.test_reuse_servers and settings.database_url:
        yield _reuse_postgres(settings.database_url)
        return
    _require(components.report_postgres(settings))
    bin_dir = components.postgres_bin_dir(settings)
    assert bin_dir is not None
    server = PostgresServer(bin_dir, run_dir / "postgres")
    server.start()
    try:
        yield server.create_database(f"ascension_test_{RUN_ID}")
    finally:
        server.stop()


def _reuse_postgres(url: str) -> str:
    import asyncio

    import asyncpg

    base, _, _ = url.rpartition("/")
    name = f"ascension_test_{RUN_ID}"

    async def create() -> None:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return f"{base}/{name}"


# --- RabbitMQ ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def rabbitmq(settings: Settings, run_dir: Path) -> Iterator[RabbitMQServer | None]:
    if settings.test_reuse_servers and settings.amqp_url:
        yield None
        return
    report = components.report_rabbitmq(settings)
    _require(report)
    assert report.path is not None
    server = RabbitMQServer(report.path, run_dir / "rabbitmq")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def amqp_url(settings: Settings, rabbitmq: RabbitMQServer | None) -> str:
    if rabbitmq is None:
        assert settings.amqp_url
        return settings.amqp_url
    return rabbitmq.url()


# --- MinIO ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3(settings: Settings, run_dir: Path) -> Iterator[S3Target]:
    """An S3 endpoint with a bucket name this run owns (the bucket is created by the user)."""
    bucket = f"ascension-test-{RUN_ID}"
    if settings.test_reuse_servers and settings.object_store == "s3":
        yield S3Target(
            settings.s3_endpoint,
            settings.s3_access_key,
            settings.s3_secret_key,
            bucket,
            settings.s3_secure,
        )
        return
    _require(components.report_minio(settings))
    binary = components.minio_path(settings)
    assert binary is not None
    server = MinioServer(binary, run_dir / "minio")
    server.start()
    try:
        yield S3Target(server.endpoint, server.access_key, server.secret_key, bucket)
    finally:
        server.stop()


# --- Temporal ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
async def temporal_dev_env(settings: Settings) -> AsyncIterator[WorkflowEnvironment]:
    """The real Temporal dev server (Updates, search attributes, visibility)."""
    if settings.test_reuse_servers and settings.temporal_address:
        client = await Client.connect(settings.temporal_address)
        namespace = f"ascension-test-{RUN_ID}"
        await _register_namespace(client, namespace)
        client = await Client.connect(settings.temporal_address, namespace=namespace)
        yield WorkflowEnvironment.from_client(client)
        return
    _require(components.report_temporal_cli(settings))
    env = await start_dev_server(settings)
    try:
        yield env
    finally:
        await env.shutdown()


async def _register_namespace(client: Client, namespace: str) -> None:
    from datetime import timedelta

    from google.protobuf.duration_pb2 import Duration
    from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest

    retention = Duration()
    retention.FromTimedelta(timedelta(days=1))
    await client.workflow_service.register_namespace(
        RegisterNamespaceRequest(namespace=namespace, workflow_execution_retention_period=retention)
    )


@pytest.fixture(scope="session")
async def time_skipping_env(settings: Settings) -> AsyncIterator[WorkflowEnvironment]:
    """The Java time-skipping test server: timers of days complete at once."""
    _require(components.report_test_server(settings))
    env = await start_time_skipping_server(settings)
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
def task_queue() -> str:
    """A fresh task queue per test, so workers of different tests never steal each other's tasks."""
    return f"tq-{uuid.uuid4().hex[:12]}"


# --- The whole stack, as a deployed process sees it -------------------------------------------


@pytest.fixture(scope="session")
def stack_settings(postgres_url: str, s3: S3Target, amqp_url: str) -> Settings:
    """Settings of a deployed worker/API: PostgreSQL, MinIO and RabbitMQ of this run."""
    return Settings(
        database_url=postgres_url,
        object_store="s3",
        s3_endpoint=s3.endpoint,
        s3_access_key=s3.access_key,
        s3_secret_key=s3.secret_key,
        s3_secure=s3.secure,
        bucket=s3.bucket,
        payload_bucket=f"{s3.bucket}-payloads",
        amqp_url=amqp_url,
    )
