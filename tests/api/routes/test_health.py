"""Liveness and readiness of the API against a real database and Temporal server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from ascension.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
async def api_client(
    postgres_url: str, temporal_dev_env: WorkflowEnvironment
) -> AsyncIterator[httpx.AsyncClient]:
    address = temporal_dev_env.client.service_client.config.target_host
    app = create_app(Settings(database_url=postgres_url, temporal_address=address))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield client


async def test_healthz(api_client: httpx.AsyncClient) -> None:
    response = await api_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_checks_database_and_temporal(api_client: httpx.AsyncClient) -> None:
    response = await api_client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {"ready": True, "checks": {"database": "ok", "temporal": "ok"}}
