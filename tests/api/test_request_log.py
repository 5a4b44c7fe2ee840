"""The API's observability beyond traffic: one JSON log line per request with its ids, and the
analyses-by-status gauge read from the database at each scrape."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlmodel import update

from api.app import create_app
from core.db import session_scope
from core.logs import make_handler
from core.settings import Settings
from schema.analysis import Status
from schema.models import Analysis
from tests.utils.records import seed_analysis

pytestmark = pytest.mark.integration

SCRAPE_TOKEN = "scrape-" + "r" * 32


@pytest.fixture
async def app(api_settings: Settings, api_app: FastAPI) -> AsyncIterator[FastAPI]:
    # `api_app` migrated the session's database; this app shares it.
    app = create_app(api_settings.model_copy(update={"metrics_token": SecretStr(SCRAPE_TOKEN)}))
    handler_log = logging.getLogger("test.handler")

    async def logs_inside() -> dict[str, str]:
        handler_log.info("inside the handler")
        return {"ok": "yes"}

    app.add_api_route("/test/logs-inside", logs_inside, include_in_schema=False)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        yield http


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the API's request log and a handler's logger write, as ASCENSION_LOG_FORMAT=json."""
    stream = io.StringIO()
    handler = make_handler("json", stream)
    loggers = [logging.getLogger("ascension.api.requests"), logging.getLogger("test.handler")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    yield stream
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


def parsed(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_a_request_line_carries_the_analysis_id_of_its_path(
    client: httpx.AsyncClient, climber, json_lines: io.StringIO
) -> None:
    who = await climber()
    missing = uuid.uuid4()
    response = await client.get(
        f"/api/v1/analysis/video/{missing}",
        headers={**who.headers, "X-Request-ID": "req-abc.123"},
    )
    assert response.status_code == 404
    (line,) = [entry for entry in parsed(json_lines) if entry.get("request_id") == "req-abc.123"]
    assert line["logger"] == "ascension.api.requests" and line["level"] == "info"
    assert line["analysis_id"] == str(missing)
    assert line["route"] == "/api/v1/analysis/video/{analysis_id}"
    assert line["method"] == "GET" and line["status"] == 404
    assert isinstance(line["duration_ms"], float)
    assert who.access_token not in json_lines.getvalue()


async def test_lines_logged_by_a_handler_carry_the_request_id(
    client: httpx.AsyncClient, json_lines: io.StringIO
) -> None:
    # A forged id (newline, braces) is replaced, never copied into the logs.
    response = await client.get("/test/logs-inside", headers={"X-Request-ID": 'x"\n{}'})
    assert response.status_code == 200
    inside, request = parsed(json_lines)
    assert inside["message"] == "inside the handler"
    assert inside["request_id"] == request["request_id"]
    assert len(request["request_id"]) == 32 and request["status"] == 200
    assert request["route"] == "/test/logs-inside"


def _gauge(text: str) -> dict[str, float]:
    return {
        sample.labels["status"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "ascension_analyses"
    }


async def test_analyses_by_status_are_counted_from_the_database(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    headers = {"Authorization": f"Bearer {SCRAPE_TOKEN}"}
    before = _gauge((await client.get("/metrics", headers=headers)).text)
    assert set(before) == {status.value for status in Status}  # absent statuses read 0
    engine = app.state.engine
    pending = await seed_analysis(engine)
    failed = await seed_analysis(engine)
    async with session_scope(engine) as session:
        await session.exec(
            update(Analysis)
            .where(Analysis.id == uuid.UUID(failed.analysis_id))  # type: ignore[arg-type]
            .values(status=Status.FAILED)
        )
        await session.commit()
    assert pending.analysis_id != failed.analysis_id
    after = _gauge((await client.get("/metrics", headers=headers)).text)
    assert after["pending"] == before["pending"] + 1
    assert after["failed"] == before["failed"] + 1
    assert after["completed"] == before["completed"]
