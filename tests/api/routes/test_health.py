"""Liveness and readiness of the API against this run's real servers, and against dead ports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from ascension.servers.process import free_port
from core.settings import Settings

pytestmark = pytest.mark.integration


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An app of its own (lifespan included) for settings the session's app does not have."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield client


async def test_healthz(api: httpx.AsyncClient) -> None:
    response = await api.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_checks_every_dependency(api: httpx.AsyncClient) -> None:
    response = await api.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "ready": True,
        "checks": {"database": "ok", "temporal": "ok", "object_store": "ok", "broker": "ok"},
    }


async def test_readyz_without_a_broker_is_ready(api_settings: Settings, api_app: FastAPI) -> None:
    async with serving(api_settings.model_copy(update={"amqp_url": None})) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["checks"]["broker"] == "not configured"


async def test_readyz_names_what_is_down_without_a_traceback(api_settings: Settings) -> None:
    # Nothing listens on these ports: connections are refused (or time out) at once.
    dead = free_port()
    settings = api_settings.model_copy(
        update={
            "database_url": f"postgresql+asyncpg://nobody:secret@127.0.0.1:{dead}/nothing",
            "temporal_address": f"127.0.0.1:{dead}",
            "amqp_url": f"amqp://guest:guest@127.0.0.1:{dead}/%2F",
        }
    )
    async with serving(settings) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False
    checks = body["checks"]
    assert checks["object_store"] == "ok"
    for name in ("database", "temporal", "broker"):
        assert checks[name].startswith("unavailable: "), checks
    # Short reasons only: no traceback, no credentials from the URLs.
    assert "Traceback" not in response.text
    assert "secret" not in response.text
