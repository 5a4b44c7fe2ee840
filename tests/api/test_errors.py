"""One error format everywhere, and no stack trace ever reaches a client."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from api.errors import install_error_handlers


@pytest.mark.unit
async def test_unexpected_failure_answers_500_with_a_reference_not_a_traceback() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        response = await client.get("/boom", headers={"X-Request-ID": "req-42"})
        missing = await client.get("/nowhere")
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "internal_error"
    assert "req-42" in error["message"]
    assert "hunter2" not in response.text and "Traceback" not in response.text
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


@pytest.mark.integration
async def test_openapi_documents_every_route_and_the_error_shape(api: httpx.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()
    paths = document["paths"]
    for path in (
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/analysis/video/request-upload",
        "/api/v1/analysis/video/start",
        "/api/v1/analysis/video/{analysis_id}",
        "/api/v1/analysis/video/{analysis_id}/holds",
    ):
        assert path in paths, path
    assert "ErrorResponse" in document["components"]["schemas"]
