"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy import text
from temporalio.client import Client

router = APIRouter(tags=["health"])


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, str]


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


async def _check_database(request: Request) -> str:
    async with request.app.state.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    return "ok"


async def _check_temporal(request: Request) -> str:
    settings = request.app.state.settings
    address = settings.temporal_address or f"127.0.0.1:{settings.temporal_dev_port}"
    client = await Client.connect(address, namespace=settings.temporal_namespace)
    await client.service_client.check_health()
    return "ok"


@router.get("/readyz", response_model=Readiness)
async def readyz(request: Request, response: Response) -> Readiness:
    """Every dependency answers within two seconds."""
    checks: dict[str, str] = {}
    for name, check in (("database", _check_database), ("temporal", _check_temporal)):
        try:
            checks[name] = await asyncio.wait_for(check(request), timeout=2)
        except Exception as exc:
            checks[name] = f"unavailable: {type(exc).__name__}"
    ready = all(value == "ok" for value in checks.values())
    response.status_code = 200 if ready else 503
    return Readiness(ready=ready, checks=checks)
