"""The API against this run's real PostgreSQL, MinIO, RabbitMQ and Temporal dev server.

`api` is one app for the whole session (its lifespan runs once) reached through httpx's ASGI
transport; `live_api` serves the same app over TCP with uvicorn for WebSocket clients and
plain-HTTP checks. `climber()` registers a new account through the API, so every test gets users
of its own and nothing leaks between tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import update
from temporalio.testing import WorkflowEnvironment

from api.app import create_app, uvicorn_options
from ascension.servers.process import free_port
from core.db import session_scope
from core.settings import Settings
from core.storage import make_object_store
from core.temporal_client import connect_temporal
from schema.analysis import Tier
from schema.models import Role, User
from tests.utils.pipeline import FakePipeline, gpu_worker
from worker_cpu.worker import build_cpu_worker, open_cpu_resources

_QUEUES = f"api-{uuid.uuid4().hex[:8]}"


def api_queue_prefix() -> str:
    """Task queues of the session's API: workers started by tests serve these."""
    return _QUEUES


@pytest.fixture(scope="session")
def api_settings(
    stack_settings: Settings, temporal_dev_env: WorkflowEnvironment, tmp_path_factory
) -> Settings:
    address = temporal_dev_env.client.service_client.config.target_host
    queues = api_queue_prefix()
    return stack_settings.model_copy(
        update={
            "temporal_address": address,
            "temporal_namespace": temporal_dev_env.client.namespace,
            "data_dir": Path(tmp_path_factory.mktemp("api-data")),
            # `tests.utils.pipeline.gpu_worker(client, prefix, fake)` serves f"{prefix}-gpu".
            "cpu_task_queue": f"{queues}-cpu",
            "gpu_task_queue": f"{queues}-gpu",
            # Tests register many accounts from one address; the limiter has tests of its own.
            "rate_limit_login_per_min": 0,
            "rate_limit_register_per_min": 0,
            "rate_limit_upload_per_min": 0,
        }
    )


@pytest.fixture(scope="session")
async def api_app(api_settings: Settings) -> AsyncIterator[FastAPI]:
    from core.db import make_engine, migrate

    engine = make_engine(api_settings.effective_database_url)
    await migrate(engine)  # what `ascension migrate` does in a deployment
    await engine.dispose()
    app = create_app(api_settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
async def api(api_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=api_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client


@dataclass
class LiveApi:
    base_url: str
    ws_url: str


@contextlib.asynccontextmanager
async def served(app: FastAPI, settings: Settings) -> AsyncIterator[str]:
    """``app`` behind uvicorn on a loopback port, configured as `ascension api` does (its
    lifespan is the caller's business); yields the base URL."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
        ws="websockets-sansio",
        **uvicorn_options(settings),
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, timeout=10)


@pytest.fixture(scope="session")
async def live_api(api_app: FastAPI) -> AsyncIterator[LiveApi]:
    """The session's app served by uvicorn on a loopback port (its lifespan already ran)."""
    async with served(api_app, api_app.state.settings) as base_url:
        yield LiveApi(base_url, "ws" + base_url.removeprefix("http"))


@dataclass
class Climber:
    id: uuid.UUID
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


ClimberFactory = Callable[..., Awaitable[Climber]]


@pytest.fixture(scope="session")
def climber(api: httpx.AsyncClient, api_app: FastAPI) -> ClimberFactory:
    """Register a fresh account (optionally on a tier or with a role) and sign it in."""

    async def make(tier: Tier = Tier.FREEMIUM, role: Role = Role.USER) -> Climber:
        email = f"climber-{uuid.uuid4().hex[:12]}@example.com"
        password = "correct horse battery"
        response = await api.post(
            "/api/v1/auth/register", json={"email": email, "password": password}
        )
        assert response.status_code == 201, response.text
        body = response.json()
        user_id = uuid.UUID(body["user"]["id"])
        if tier is not Tier.FREEMIUM or role is not Role.USER:
            # Tiers change through billing and roles through staff tooling, not this API.
            async with session_scope(api_app.state.resources.engine) as session:
                await session.exec(
                    update(User)
                    .where(User.id == user_id)  # type: ignore[arg-type]
                    .values(subscription_tier=tier, role=role)
                )
                await session.commit()
            if role is not Role.USER:
                response = await api.post(
                    "/api/v1/auth/login", json={"email": email, "password": password}
                )
                body = response.json()
        return Climber(user_id, email, password, body["access_token"], body["refresh_token"])

    return make


@pytest.fixture(scope="module")
async def pipeline(api_settings: Settings, temporal_dev_env) -> AsyncIterator[FakePipeline]:
    """The production CPU worker and a fake GPU worker serving the API's task queues."""
    store = make_object_store(api_settings)
    fake = FakePipeline(store=store)
    async with open_cpu_resources(api_settings) as resources:
        target = temporal_dev_env.client.service_client.config.target_host
        client = await connect_temporal(api_settings, resources.store, target=target)
        async with (
            build_cpu_worker(client, resources, task_queue=api_settings.cpu_task_queue),
            gpu_worker(client, api_queue_prefix(), fake),
        ):
            yield fake
    await store.close()
