"""Issue 14, at the edge: what a hostile client sends is refused with a 4xx in the error shape,
never a 500; secrets never reach the log; forwarded addresses are believed only from configured
proxies; ``/metrics`` is private.

Each test names the finding of issue 14 it covers.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from api.app import create_app, uvicorn_options
from core.db import session_scope
from core.settings import Settings
from schema.models import Analysis, Route, Video
from tests.api.conftest import ClimberFactory, LiveApi, served

AUTH = "/api/v1/auth"
PASSWORD = "correct horse battery"


def _json(value: Any) -> bytes:
    """JSON as a hostile client may send it: ``ensure_ascii`` escapes lone surrogates
    (``\\ud800``) and NUL (``\\u0000``) instead of failing to encode them."""
    return json.dumps(value).encode()


def _post_json(client: httpx.AsyncClient, path: str, value: Any, **kwargs: Any) -> Any:
    headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
    return client.post(path, content=_json(value), headers=headers, **kwargs)


HOSTILE_TEXT = [
    pytest.param("\x00", id="nul"),
    pytest.param("\ud800", id="lone-high-surrogate"),
    pytest.param("\udfff", id="lone-low-surrogate"),
]


# --- finding 1: NUL bytes and lone surrogates ---------------------------------------------------
@pytest.mark.integration
@pytest.mark.parametrize("hostile", HOSTILE_TEXT)
async def test_finding1_nul_and_lone_surrogates_in_emails_are_refused_with_422(
    api: httpx.AsyncClient, hostile: str
) -> None:
    email = f"climber{hostile}{uuid.uuid4().hex[:8]}@example.com"
    for action in ("register", "login"):
        response = await _post_json(api, f"{AUTH}/{action}", {"email": email, "password": PASSWORD})
        assert response.status_code == 422, (action, response.text)
        error = response.json()["error"]
        assert error["code"] == "invalid_request"
        assert error["details"][0]["field"] == "body.email"
    # The same in a password: refused, not hashed (argon2 cannot encode a lone surrogate).
    response = await _post_json(
        api,
        f"{AUTH}/register",
        {"email": f"c-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD + hostile},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == "body.password"


@pytest.mark.integration
@pytest.mark.parametrize("hostile", HOSTILE_TEXT)
async def test_finding1_nul_and_lone_surrogates_in_a_route_name_are_refused_with_422(
    api: httpx.AsyncClient, climber: ClimberFactory, hostile: str
) -> None:
    someone = await climber()
    response = await _post_json(
        api,
        "/api/v1/routes/request-photo-upload",
        {"size_bytes": 1000, "name": f"the {hostile} wall"},
        headers=someone.headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == "body.name"


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.lower().split(": ", 1) for line in lines[1:] if line)
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, body


@pytest.mark.integration
async def test_finding1_a_refused_request_keeps_the_keep_alive_connection(
    live_api: LiveApi,
) -> None:
    host, port = live_api.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        body = _json({"email": "nul\x00@example.com", "password": PASSWORD})
        writer.write(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: api\r\n"
            b"Content-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        await writer.drain()
        status, answer = await asyncio.wait_for(_read_response(reader), 20)
        assert status == 422, answer
        # Same connection, next request: the server did not hang up after the refusal.
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: api\r\n\r\n")
        await writer.drain()
        status, answer = await asyncio.wait_for(_read_response(reader), 20)
        assert status == 200, answer
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


# --- finding 2: a cursor whose timestamp has no timezone ----------------------------------------
def _cursor(created: str, last_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{created}|{last_id}".encode()).decode()


@pytest.mark.integration
async def test_finding2_a_cursor_without_a_timezone_is_read_as_utc(
    api: httpx.AsyncClient, api_app: FastAPI, climber: ClimberFactory
) -> None:
    someone = await climber()
    video = Video(user_id=someone.id, storage_url=f"uploads/{someone.id}/v.mp4")
    route = Route(user_id=someone.id)
    older = Analysis(
        video_id=video.id,
        user_id=someone.id,
        route_id=route.id,
        created_at=datetime(2025, 6, 1, tzinfo=UTC),
    )
    newer = Analysis(
        video_id=video.id,
        user_id=someone.id,
        route_id=route.id,
        created_at=datetime(2027, 6, 1, tzinfo=UTC),
    )
    async with session_scope(api_app.state.resources.engine) as session:
        session.add_all([video, route])
        await session.flush()
        session.add_all([older, newer])
        await session.commit()

    last = uuid.uuid4()
    pages = {}
    for name, created in (("naive", "2026-01-01T00:00:00"), ("utc", "2026-01-01T00:00:00+00:00")):
        response = await api.get(
            "/api/v1/analysis/video",
            params={"cursor": _cursor(created, last)},
            headers=someone.headers,
        )
        assert response.status_code == 200, (name, response.text)
        pages[name] = response.json()
    assert pages["naive"] == pages["utc"]
    assert [item["id"] for item in pages["naive"]["items"]] == [str(older.id)]

    # A timestamp that leaves the calendar once turned into UTC is refused, not a crash.
    for created in ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"):
        response = await api.get(
            "/api/v1/analysis/video",
            params={"cursor": _cursor(created, last)},
            headers=someone.headers,
        )
        assert response.status_code == 422, (created, response.text)
        assert response.json()["error"]["code"] == "invalid_request"


# --- finding 3: last_event_id out of range ------------------------------------------------------
@pytest.mark.integration
async def test_finding3_an_out_of_range_last_event_id_closes_with_4400_without_a_traceback(
    live_api: LiveApi, climber: ClimberFactory, caplog: pytest.LogCaptureFixture
) -> None:
    someone = await climber()
    caplog.set_level(logging.INFO)
    # Beyond BIGINT, and digits str.isdigit() accepts that int() does not (superscript two).
    for last_event_id in (str(10**30), str(2**63), "\u00b2", "\uff11\uff12"):
        url = f"{live_api.ws_url}/api/v1/ws?token={someone.access_token}"
        async with connect(f"{url}&last_event_id={last_event_id}") as socket:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), 10)
        assert closed.value.rcvd is not None, last_event_id
        assert closed.value.rcvd.code == 4400, (last_event_id, closed.value.rcvd)
        assert "last_event_id" in closed.value.rcvd.reason
    assert "Traceback" not in caplog.text
    assert "OverflowError" not in caplog.text


# --- finding 4: the request-body limit ----------------------------------------------------------
@pytest.mark.integration
async def test_finding4_a_body_over_the_limit_is_refused_with_413_before_parsing(
    api: httpx.AsyncClient, api_settings: Settings
) -> None:
    limit = api_settings.max_request_body_bytes
    assert 1024 * 1024 <= limit <= 2 * 1024 * 1024
    padding = "a" * (limit + 1)
    # A declared Content-Length over the limit: refused before a byte of the body is read.
    response = await _post_json(api, f"{AUTH}/login", {"email": padding, "password": PASSWORD})
    assert response.status_code == 413, response.text[:200]
    assert response.json()["error"]["code"] == "too_large"

    # A streamed body (no Content-Length) is counted as it arrives and cut off at the limit.
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"email": "'
        for _ in range(4 * limit // 65536):
            sent += 65536
            yield b"a" * 65536
        yield b'", "password": "x"}'

    response = await api.post(
        f"{AUTH}/login", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413, response.text[:200]
    assert response.json()["error"]["code"] == "too_large"
    assert sent <= limit + 2 * 65536  # reading stopped at the limit

    # A body under the limit is untouched.
    response = await _post_json(
        api, f"{AUTH}/login", {"email": "nobody@example.com", "password": PASSWORD}
    )
    assert response.status_code == 401, response.text


# --- finding 1 (log half): no SQL parameters, hashes or tokens in the log -----------------------
@pytest.mark.integration
async def test_finding1_a_database_failure_logs_no_password_hash(
    api_app: FastAPI, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from api.routes import auth

    real_hash = auth.hash_password

    async def poisoned(password: str) -> str:
        # PostgreSQL refuses a NUL in text: the INSERT fails with the hash among its parameters.
        return await real_hash(password) + "\x00"

    monkeypatch.setattr(auth, "hash_password", poisoned)
    caplog.set_level(logging.DEBUG)
    transport = httpx.ASGITransport(app=api_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        response = await client.post(
            f"{AUTH}/register",
            json={"email": f"log-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD},
        )
    assert response.status_code == 500
    assert "internal_error" in response.text
    assert "unhandled error" in caplog.text  # the failure was logged, with its traceback
    assert "$argon2" not in caplog.text
    assert PASSWORD not in caplog.text


@pytest.mark.integration
async def test_finding1_the_websocket_token_never_reaches_the_server_log(
    live_api: LiveApi, climber: ClimberFactory, caplog: pytest.LogCaptureFixture
) -> None:
    someone = await climber()
    # uvicorn's loggers do not propagate to the root logger: listen on them directly.
    server_log = logging.getLogger("uvicorn")
    server_log.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="uvicorn.error")
    try:
        url = f"{live_api.ws_url}/api/v1/ws?token={someone.access_token}"
        async with connect(url) as socket:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(socket.recv(), 0.3)
    finally:
        server_log.removeHandler(caplog.handler)
    assert "WebSocket /api/v1/ws" in caplog.text  # the connection was logged...
    assert someone.access_token not in caplog.text  # ...without its token
    assert someone.access_token.split(".")[2] not in caplog.text


# --- finding 8: X-Forwarded-For only from configured proxies ------------------------------------
@pytest.mark.integration
@pytest.mark.parametrize(
    ("trusted", "third_answer"),
    [
        pytest.param([], 429, id="default-no-proxy-trusted"),
        pytest.param(["127.0.0.1"], 401, id="loopback-proxy-configured"),
    ],
)
async def test_finding8_a_spoofed_forwarded_for_does_not_change_the_rate_limit_key(
    api_settings: Settings, api_app: FastAPI, trusted: list[str], third_answer: int
) -> None:
    settings = api_settings.model_copy(
        update={"rate_limit_login_per_min": 2, "trusted_proxies": trusted}
    )
    app = create_app(settings)
    guess = {"email": "victim@example.com", "password": "guess"}
    async with (
        app.router.lifespan_context(app),
        served(app, settings) as base_url,
        httpx.AsyncClient(base_url=base_url) as client,
    ):
        codes = [
            (
                await client.post(
                    f"{AUTH}/login", json=guess, headers={"X-Forwarded-For": f"203.0.113.{n}"}
                )
            ).status_code
            for n in range(3)
        ]
    # Untrusted peer: the header is ignored, so three guesses share one key and the third is
    # limited. A configured proxy: each forwarded client has a window of its own.
    assert codes == [401, 401, third_answer]


@pytest.mark.unit
def test_finding8_uvicorn_trusts_no_proxy_headers_unless_configured() -> None:
    assert uvicorn_options(Settings(_env_file=None)) == {  # type: ignore[call-arg]
        "proxy_headers": False,
        "forwarded_allow_ips": [],
    }
    configured = Settings(_env_file=None, trusted_proxies=["10.0.0.5"])  # type: ignore[call-arg]
    assert uvicorn_options(configured) == {
        "proxy_headers": True,
        "forwarded_allow_ips": ["10.0.0.5"],
    }


# --- finding 11: /metrics is private --------------------------------------------------------------
@pytest.fixture
def quiet_settings(tmp_path: Any) -> Iterator[Settings]:
    yield Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]


@pytest.mark.unit
async def test_finding11_metrics_are_off_without_a_token_and_need_it_when_set(
    quiet_settings: Settings,
) -> None:
    async def scrape(app: FastAPI, **headers: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return await client.get("/metrics", headers=headers)

    off = await scrape(create_app(quiet_settings))
    assert off.status_code == 404
    assert off.json()["error"]["code"] == "not_found"

    token = "m" * 40
    app = create_app(quiet_settings.model_copy(update={"metrics_token": SecretStr(token)}))
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {token}"}):
        refused = await scrape(app, **headers)
        assert refused.status_code == 401, headers
        assert refused.json()["error"]["code"] == "unauthorized"
    allowed = await scrape(app, Authorization=f"Bearer {token}")
    assert allowed.status_code == 200
    assert "ascension_http_requests_in_flight" in allowed.text
    # /docs stays public on purpose (README, Security): it documents the contract, no data.
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        assert (await client.get("/docs")).status_code == 200
