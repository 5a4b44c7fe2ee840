"""Liveness and readiness probes.

``/healthz`` says the process answers and touches nothing else: a load balancer may call it
often, and the benchmark uses it as the floor any request pays. ``/readyz`` checks every
dependency the API needs, concurrently, each within `CHECK_TIMEOUT_S`, so a probe answers in
about that long even when everything hangs. It reuses the app's own connections (database pool,
Temporal client, object store) so a probe measures what requests will meet; only the broker is
reached with a short-lived connection, because the API process holds none of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

import pika
from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy import text

from api.deps import Resources
from api.resources import ApiResources

log = logging.getLogger("ascension.api")
router = APIRouter(tags=["health"])

CHECK_TIMEOUT_S = 2.0
OK = "ok"
NOT_CONFIGURED = "not configured"
#: Answers that count as ready: no broker configured means events are simply not sent.
READY_ANSWERS = frozenset({OK, NOT_CONFIGURED})

#: pika blocks; its probes get threads of their own, so a hanging broker can never take the
#: default executor's few threads from the rest of the app.
_BROKER_PROBES = ThreadPoolExecutor(max_workers=2, thread_name_prefix="readyz-amqp")


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    ready: bool
    #: One answer per dependency: "ok", "not configured" or "unavailable: <why>".
    checks: dict[str, str]


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


async def _check_database(resources: ApiResources) -> str:
    async with resources.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    return OK


async def _check_temporal(resources: ApiResources) -> str:
    client = await resources.temporal.client()
    await client.service_client.check_health()
    return OK


async def _check_object_store(resources: ApiResources) -> str:
    store, bucket = resources.store, resources.settings.bucket
    if not await store.bucket_exists(bucket):
        return f"unavailable: bucket {bucket} does not exist"
    return OK


def _amqp_ping(url: str) -> None:
    parameters = pika.URLParameters(url)
    parameters.connection_attempts = 1
    parameters.retry_delay = 0
    parameters.socket_timeout = CHECK_TIMEOUT_S
    parameters.stack_timeout = CHECK_TIMEOUT_S
    parameters.blocked_connection_timeout = CHECK_TIMEOUT_S
    connection = pika.BlockingConnection(parameters)
    connection.close()


async def _check_broker(resources: ApiResources) -> str:
    url = resources.settings.amqp_url
    if url is None:
        return NOT_CONFIGURED
    await asyncio.get_running_loop().run_in_executor(_BROKER_PROBES, _amqp_ping, url)
    return OK


CHECKS: dict[str, Callable[[ApiResources], Awaitable[str]]] = {
    "database": _check_database,
    "temporal": _check_temporal,
    "object_store": _check_object_store,
    "broker": _check_broker,
}


async def _bounded(
    name: str, check: Callable[[ApiResources], Awaitable[str]], resources: ApiResources
) -> str:
    try:
        return await asyncio.wait_for(check(resources), timeout=CHECK_TIMEOUT_S)
    except TimeoutError:
        answer = f"unavailable: no answer within {CHECK_TIMEOUT_S:g} s"
    except Exception as exc:
        # The exception's type is enough for an operator; its text may hold addresses or
        # credentials, and a traceback never leaves the process.
        answer = f"unavailable: {type(exc).__name__}"
        log.debug("readiness check %s failed", name, exc_info=True)
    log.warning("readiness check %s: %s", name, answer)
    return answer


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A dependency is unavailable."}},
)
async def readyz(resources: Resources, response: Response) -> Readiness:
    """Database, Temporal, object store and broker each answer within two seconds."""
    answers = await asyncio.gather(
        *(_bounded(name, check, resources) for name, check in CHECKS.items())
    )
    checks = dict(zip(CHECKS, answers, strict=True))
    ready = all(answer in READY_ANSWERS for answer in checks.values())
    response.status_code = 200 if ready else 503
    return Readiness(ready=ready, checks=checks)
