"""Seed-000 ``vision.hold_detection`` jobs mapped onto `RouteHoldsWorkflow`.

The seed's job is ``{job_id, user_id, route_id, photo_url?, created_at?}`` (its worker read
``photo_url`` and ``route_id``). The photo detected is the route's own (``routes.photo_key``, the
API's ``routes/{user}/{route}.jpg``); a ``photo_url`` must point there, in our bucket. A job whose
user or route is unknown, or whose photo is not uploaded, is parked with the reason. The run is
the route's ``route-holds-{route_id}`` (`core.routes.start_or_attach_route_holds`), started with
the job's id so that ``hold_detection.completed.{job_id}`` answers it; the id also travels with
the start as the `attach_legacy_job` Signal, so a job that finds the run already going (the API's,
another job's) still gets its own event. A redelivery attaches to the run while it goes; once a
run that answered the job has closed, its event was already published, and the redelivery is
acked without a second run.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta
from typing import Final

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from core.db import session_scope
from core.routes import route_holds_handle, route_holds_input, start_or_attach_route_holds
from core.settings import Settings
from core.storage import ObjectStore
from schema import names
from schema.models import Route, User

log = logging.getLogger(__name__)

HOLD_DETECTION_QUEUE: Final = "vision.hold_detection"
#: The memo key naming the legacy job that started a route's run.
LEGACY_JOB_MEMO: Final = "legacy_job_id"


class LegacyHoldDetectionJob(BaseModel):
    """One hold detection job; unknown fields are ignored (producers add their own)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    job_id: uuid.UUID
    user_id: uuid.UUID
    route_id: uuid.UUID
    #: ``s3://{bucket}/{the route's photo key}``; optional, the route knows its photo.
    photo_url: str | None = None
    created_at: datetime | None = None


def parse_hold_detection_job(body: bytes, bad_job: type[Exception]) -> LegacyHoldDetectionJob:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise bad_job(f"not JSON: {err}") from None
    if not isinstance(data, dict):
        raise bad_job(f"not a JSON object but a {type(data).__name__}")
    try:
        return LegacyHoldDetectionJob.model_validate(data)
    except ValidationError as err:
        raise bad_job(
            "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or 'message'}: {error['msg']}"
                for error in err.errors()
            )
        ) from None


async def _closed_run_of(client: Client, route_id: str, job_id: str) -> bool:
    """Whether the route's latest run was this job's and has closed (its event is out)."""
    try:
        description = await route_holds_handle(client, route_id).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    if description.status == WorkflowExecutionStatus.RUNNING:
        return False
    memo = await description.memo()
    # The job that started it, or one that attached to it later (the run keeps their ids).
    attached = memo.get(names.LEGACY_JOB_IDS_MEMO) or []
    return memo.get(LEGACY_JOB_MEMO) == job_id or job_id in attached


async def map_hold_detection_job(
    body: bytes,
    *,
    client: Client,
    engine: AsyncEngine,
    store: ObjectStore,
    settings: Settings,
    bad_job: type[Exception],
    rpc_timeout: timedelta | None = None,
) -> tuple[str, str]:
    """Start (or attach to) the route's run; its workflow id and what happened. ``bad_job`` for
    a message that can never work (the consumer parks it with the text as the reason)."""
    job = parse_hold_detection_job(body, bad_job)
    async with session_scope(engine) as session:
        user = await session.get(User, job.user_id)
        if user is None:
            raise bad_job(f"user_id: unknown user {job.user_id}")
        route = await session.get(Route, job.route_id)
        if route is None or route.user_id != user.id:
            raise bad_job(f"route_id: user {user.id} has no route {job.route_id}")
    bucket = settings.bucket
    if not route.photo_key:
        raise bad_job(f"photo_url: route {route.id} has no photo")
    expected = f"s3://{bucket}/{route.photo_key}"
    if job.photo_url is not None and job.photo_url != expected:
        raise bad_job(f"photo_url: {job.photo_url!r} is not route {route.id}'s photo ({expected})")
    if not await store.exists(bucket, route.photo_key):
        raise bad_job(f"photo_url: no photo uploaded at {expected}")
    workflow_id = names.route_holds_workflow_id(str(route.id))
    if await _closed_run_of(client, str(route.id), str(job.job_id)):
        return workflow_id, "the job's run has already finished; its event was sent"
    params = route_holds_input(
        route_id=str(route.id),
        user_id=str(user.id),
        photo_key=route.photo_key,
        settings=settings,
        tier=user.subscription_tier,
        job_id=str(job.job_id),
    )
    await start_or_attach_route_holds(
        client,
        params,
        memo={LEGACY_JOB_MEMO: str(job.job_id), "legacy_queue": HOLD_DETECTION_QUEUE},
        rpc_timeout=rpc_timeout,
    )
    log.info("hold detection job %s → workflow %s", job.job_id, workflow_id)
    return workflow_id, "route hold detection started or attached"
