"""`/metrics`: request counts by route template, in-flight requests, business counters.

Each test builds an app of its own (with `install_metrics`, which is idempotent, so this holds
whether or not `create_app` installs it already): counts then start from zero.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from api.app import create_app
from api.metrics import UNMATCHED, ApiMetrics, get_metrics, install_metrics
from core.settings import Settings

pytestmark = pytest.mark.integration

#: `/metrics` is off unless a scrape token is configured (tests/api/test_hardening.py).
SCRAPE_TOKEN = "scrape-" + "t" * 32


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scrape: str, name: str, **labels: str) -> float | None:
    return samples(scrape).get((name, frozenset(labels.items())))


@pytest.fixture
async def metered_app(api_settings: Settings, api_app: FastAPI) -> AsyncIterator[FastAPI]:
    # `api_app` migrated the session's database; this app shares it.
    app = create_app(api_settings.model_copy(update={"metrics_token": SecretStr(SCRAPE_TOKEN)}))
    # Routes that let a test hold a request open, and fail one, before the app first answers.
    gate = asyncio.Event()
    app.state.gate = gate

    async def held() -> dict[str, str]:
        await gate.wait()
        return {"status": "released"}

    async def broken() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/test/held", held, include_in_schema=False)
    app.add_api_route("/test/broken/{thing}", broken, include_in_schema=False)
    install_metrics(app)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(metered_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # The app's 500 answer is what a phone sees; don't re-raise the exception into the test.
    transport = httpx.ASGITransport(app=metered_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        yield http


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_requests_are_counted_by_route_template(client: httpx.AsyncClient) -> None:
    email = f"metrics-{uuid.uuid4().hex[:10]}@example.com"
    registered = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": "correct horse battery"}
    )
    assert registered.status_code == 201, registered.text
    headers = {"Authorization": f"Bearer {registered.json()['access_token']}"}
    for _ in range(2):
        assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
    missing = uuid.uuid4()
    response = await client.get(f"/api/v1/analysis/video/{missing}", headers=headers)
    assert response.status_code == 404
    assert (await client.get(f"/no/such/{uuid.uuid4()}")).status_code == 404
    assert (await client.get("/test/broken/x")).status_code == 500

    text = await scrape(client)
    total = "ascension_http_requests_total"
    assert value(text, total, method="GET", route="/api/v1/auth/me", status="2xx") == 2
    assert value(text, total, method="POST", route="/api/v1/auth/register", status="2xx") == 1
    template = "/api/v1/analysis/video/{analysis_id}"
    assert value(text, total, method="GET", route=template, status="4xx") == 1
    assert value(text, total, method="GET", route=UNMATCHED, status="4xx") == 1
    assert value(text, total, method="GET", route="/test/broken/{thing}", status="5xx") == 1
    latency = "ascension_http_request_duration_seconds_count"
    assert value(text, latency, method="GET", route="/api/v1/auth/me", status="2xx") == 2
    # Ids never become label values; the scrape itself is not counted.
    assert str(missing) not in text
    assert 'route="/metrics"' not in text
    assert value(text, "ascension_http_requests_in_flight") == 0


async def test_in_flight_rises_while_a_request_runs_and_returns_to_zero(
    client: httpx.AsyncClient, metered_app: FastAPI
) -> None:
    pending = asyncio.create_task(client.get("/test/held"))
    for _ in range(200):  # until the request reached its handler
        if value(await scrape(client), "ascension_http_requests_in_flight") == 1:
            break
        await asyncio.sleep(0.01)
    assert value(await scrape(client), "ascension_http_requests_in_flight") == 1
    metered_app.state.gate.set()
    assert (await pending).status_code == 200
    text = await scrape(client)
    assert value(text, "ascension_http_requests_in_flight") == 0
    assert value(
        text, "ascension_http_requests_total", method="GET", route="/test/held", status="2xx"
    )


async def test_business_counters(client: httpx.AsyncClient, metered_app: FastAPI) -> None:
    metrics = get_metrics(metered_app)
    metrics.analysis_started("premium")
    metrics.analysis_started("premium")
    metrics.analysis_started("freemium")
    with pytest.raises(ConnectionResetError), metrics.websocket_connection():
        text = await scrape(client)
        assert value(text, "ascension_websocket_connections") == 1
        raise ConnectionResetError  # a client that vanished still leaves the gauge
    text = await scrape(client)
    assert value(text, "ascension_analyses_started_total", tier="premium") == 2
    assert value(text, "ascension_analyses_started_total", tier="freemium") == 1
    assert value(text, "ascension_websocket_connections") == 0


async def test_metrics_stay_out_of_the_openapi_schema(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert "/metrics" not in paths


def test_each_app_has_its_own_registry() -> None:
    # The global registry would raise "Duplicated timeseries" on the second set.
    first, second = ApiMetrics(), ApiMetrics()
    first.analysis_started("infinity")
    assert b'tier="infinity"' in first.exposition()
    assert b'tier="infinity"' not in second.exposition()
