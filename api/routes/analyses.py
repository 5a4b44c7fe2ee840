"""Video analyses: start, read (progress or the result document), list, holds, cancel.

Each analysis is a `VideoAnalysisWorkflow`; this router only checks, records and forwards. The
database row is the climber's index of their analyses (ownership, listing, quota); the workflow
is the source of truth while it runs (progress, the holds awaiting validation).
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import logging
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, status
from pydantic import BaseModel, Field
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from api.deps import CurrentUser, Principal, Resources, Session
from api.errors import ApiError, not_found, responses
from api.metrics import Metrics
from api.progress import read_progress
from api.results import StoredDocument, make_document
from core.analyses import (
    RUNNING,
    AnalysisHandle,
    analysis_handle,
    analysis_input,
    query_status,
    start_or_attach,
    submit_hold_map,
)
from core.storage import ObjectNotFound
from schema import names
from schema.analysis import (
    CancelInput,
    Morphology,
    StartAnalysisInput,
    Status,
)
from schema.holds import (
    MAX_HOLD_MAP_BYTES,
    MAX_HOLD_TEXT,
    MAX_HOLDS,
    MAX_OUTLINE_POINTS,
    MAX_TOTAL_POINTS,
    HoldMap,
    hold_map_from_dict,
    hold_map_size_problems,
)
from schema.models import Analysis, AnalysisPublic, Role, Route, UsageQuota, User, Video, utcnow

log = logging.getLogger("ascension.api")
router = APIRouter(prefix="/analysis/video", tags=["analyses"])

#: What a corrected hold map may hold at most (the `details` of `hold_map_too_large`).
HOLD_MAP_BOUNDS = {
    "max_holds": MAX_HOLDS,
    "max_outline_points_per_hold": MAX_OUTLINE_POINTS,
    "max_total_points": MAX_TOTAL_POINTS,
    "max_text_length": MAX_HOLD_TEXT,
    "max_bytes": MAX_HOLD_MAP_BYTES,
}


# --- contract -----------------------------------------------------------------------------------
class MorphologyIn(BaseModel):
    height_cm: float | None = Field(default=None, ge=100, le=250)
    arm_span_cm: float | None = Field(default=None, ge=100, le=270)
    weight_kg: float | None = Field(default=None, ge=25, le=250)


class StartRequest(BaseModel):
    video_id: uuid.UUID
    #: The wall: a route whose photo was uploaded, or one with a validated hold map.
    route_id: uuid.UUID
    #: Compute the ghost climber (premium and infinity plans).
    ghost: bool = False
    morphology: MorphologyIn | None = None


class StartedAnalysis(BaseModel):
    analysis_id: uuid.UUID
    #: The seed's name for the same id (RabbitMQ events carry it as `job_id`).
    job_id: uuid.UUID
    workflow_id: str
    status: Status


class Progress(BaseModel):
    percent: float
    step_done: int | None = None
    step_total: int | None = None
    step_attempt: int | None = None
    validation_deadline: str | None = None
    holds_awaiting_validation: bool = False
    last_error: str | None = None


class AnalysisState(BaseModel):
    """What GET answers until the result document exists."""

    analysis_id: uuid.UUID
    status: Status
    stage: str | None
    failure_reason: str | None = None
    progress: Progress | None = None
    created_at: datetime
    updated_at: datetime


class AnalysisPage(BaseModel):
    items: list[AnalysisPublic]
    #: Pass as `cursor` for the next page; null on the last page.
    next_cursor: str | None


class HoldsState(BaseModel):
    #: "awaiting_validation", "validated" or "not_ready".
    state: str
    hold_map: HoldMap | None = None
    validation_deadline: str | None = None


class HoldsCorrection(BaseModel):
    hold_map: HoldMap


# --- helpers ------------------------------------------------------------------------------------
async def _own_analysis(session: Session, principal: Principal, analysis_id: uuid.UUID) -> Analysis:
    analysis = await session.get(Analysis, analysis_id)
    if analysis is None or (
        analysis.user_id != principal.user_id and principal.role is not Role.SUPPORT
    ):
        raise not_found("this analysis")
    return analysis


def _period(now: datetime) -> str:
    return now.strftime("%Y-%m")


def _next_month(now: datetime) -> str:
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return datetime(year, month, 1, tzinfo=UTC).strftime("%-d %B %Y")


async def _consume_quota(session: Session, user: User) -> None:
    """One atomic upsert: counts the start, or changes nothing when the month's quota is spent."""
    limit = user.subscription_tier.monthly_analyses
    now = utcnow()
    dialect = (await session.connection()).dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = UsageQuota.__table__  # type: ignore[attr-defined]
    upsert = (
        insert(table)
        .values(user_id=user.id, period=_period(now), used=1)
        .on_conflict_do_update(
            index_elements=[table.c.user_id, table.c.period],
            set_={"used": table.c.used + 1},
            where=table.c.used < limit,
        )
        .returning(table.c.used)
    )
    used = (await session.exec(upsert)).scalar_one_or_none()
    if used is None:
        raise ApiError(
            402,
            "quota_exceeded",
            f"you have used all {limit} analyses of the {user.subscription_tier.value} plan "
            f"this month; upgrade your plan or wait until {_next_month(now)}",
            details={"limit": limit, "tier": user.subscription_tier.value},
        )


async def _refund_quota(session: Session, user_id: uuid.UUID, when: datetime) -> None:
    quota = await session.get(UsageQuota, (user_id, _period(when)))
    if quota is not None and quota.used > 0:
        quota.used -= 1
        session.add(quota)


def _workflow_input(
    resources: Resources,
    analysis: Analysis,
    user: User,
    video: Video,
    route: Route,
    body: StartRequest | None,
) -> StartAnalysisInput:
    morphology = body.morphology if body and body.morphology else MorphologyIn()
    return analysis_input(
        analysis,
        user,
        route,
        resources.settings,
        video_key=analysed_video_key(video, analysis),
        morphology=Morphology(**morphology.model_dump()),
    )


def analysed_video_key(video: Video, analysis: Analysis) -> str:
    """The object the analysis reads: its own copy of an upload (`names.pinned_video_key`), or
    the saved video, which no client can write."""
    if video.storage_url.startswith(names.UPLOADS_PREFIX):
        return names.pinned_video_key(str(video.user_id), str(video.id), str(analysis.id))
    return video.storage_url


async def _pin_video(resources: Resources, video: Video, analysis: Analysis) -> None:
    """Copy the upload, server-side, to the key only this analysis reads.

    The presigned PUT can be replayed until it expires; whatever arrives after this copy is
    never analysed. The copy is one object version as the store had it at this moment.
    """
    target = analysed_video_key(video, analysis)
    if target == video.storage_url:
        return
    try:
        await resources.store.copy(resources.settings.bucket, video.storage_url, target)
    except ObjectNotFound:
        raise ApiError(
            409,
            "video_not_uploaded",
            "the video has not arrived yet: PUT it to the upload URL first "
            "(or it expired after 7 days unsaved)",
        ) from None


async def _start_workflow(resources: Resources, params: StartAnalysisInput) -> None:
    client = await resources.temporal.client()
    # A retried start (same analysis) attaches to the run that is going, or starts it again
    # when its run closed without recording anything (the row still says pending).
    await start_or_attach(client, params, start_again_if_closed=True)


async def _handle(resources: Resources, analysis: Analysis) -> AnalysisHandle:
    client = await resources.temporal.client()
    return analysis_handle(client, str(analysis.id))


def _started(analysis: Analysis) -> StartedAnalysis:
    return StartedAnalysis(
        analysis_id=analysis.id,
        job_id=analysis.id,
        workflow_id=names.analysis_workflow_id(str(analysis.id)),
        status=analysis.status,
    )


# --- start --------------------------------------------------------------------------------------
@router.post(
    "/start",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=StartedAnalysis,
    responses={200: {"model": StartedAnalysis}, **responses(401, 402, 403, 404, 409, 422, 503)},
)
async def start_analysis(
    body: StartRequest,
    response: Response,
    principal: CurrentUser,
    resources: Resources,
    session: Session,
    metrics: Metrics,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> StartedAnalysis:
    """Start the analysis of an uploaded video on a route.

    Send an `Idempotency-Key` header: repeating the request with the same key (after a timeout,
    say) returns the analysis the first request created, with status 200, and never counts
    twice against the monthly quota.
    """
    if idempotency_key:
        existing = await _by_idempotency_key(session, principal.user_id, idempotency_key)
        if existing is not None:
            response.status_code = status.HTTP_200_OK
            return await _ensure_started(resources, session, existing)

    user = await session.get(User, principal.user_id)
    video = await session.get(Video, body.video_id)
    route = await session.get(Route, body.route_id)
    if user is None:
        raise not_found("your account")
    if video is None or video.user_id != user.id:
        raise not_found("this video")
    if route is None or route.user_id != user.id:
        raise not_found("this route")
    if body.ghost and not user.subscription_tier.includes_ghost:
        raise ApiError(
            403,
            "ghost_not_in_plan",
            "the ghost climber is part of the premium and infinity plans; "
            "start the analysis without it or upgrade",
        )
    bucket = resources.settings.bucket
    if not await resources.store.exists(bucket, video.storage_url):
        raise ApiError(
            409,
            "video_not_uploaded",
            "the video has not arrived yet: PUT it to the upload URL first "
            "(or it expired after 7 days unsaved)",
        )
    if route.hold_map is None and not (
        route.photo_key and await resources.store.exists(bucket, route.photo_key)
    ):
        raise ApiError(
            409,
            "photo_not_uploaded",
            "this route has no wall photo yet: PUT it to the photo upload URL first",
        )

    await _consume_quota(session, user)
    analysis = Analysis(
        video_id=video.id,
        user_id=user.id,
        route_id=route.id,
        idempotency_key=idempotency_key,
        ghost_requested=body.ghost,
    )
    # Before the commit: a pin that fails leaves no analysis and spends no quota.
    await _pin_video(resources, video, analysis)
    session.add(analysis)
    try:
        await session.commit()
    except IntegrityError:
        # The same key raced in from a second request: answer with the winner's analysis.
        await session.rollback()
        existing = await _by_idempotency_key(session, user.id, idempotency_key or "")
        if existing is None:
            raise
        response.status_code = status.HTTP_200_OK
        return await _ensure_started(resources, session, existing)

    params = _workflow_input(resources, analysis, user, video, route, body)
    try:
        await _start_workflow(resources, params)
    except Exception as exc:
        if idempotency_key is None:
            # Nothing will retry this analysis: take it back so it does not cost a start.
            await _refund_quota(session, user.id, analysis.created_at)
            await session.delete(analysis)
            await session.commit()
        log.warning("could not start analysis %s: %s", analysis.id, exc)
        raise ApiError(
            503,
            "unavailable",
            "the analysis could not be started right now; try again in a minute"
            + (" with the same Idempotency-Key" if idempotency_key else ""),
        ) from None
    metrics.analysis_started(user.subscription_tier.value)
    return _started(analysis)


async def _by_idempotency_key(session: Session, user_id: uuid.UUID, key: str) -> Analysis | None:
    statement = select(Analysis).where(Analysis.user_id == user_id, Analysis.idempotency_key == key)
    return (await session.exec(statement)).first()


async def _ensure_started(
    resources: Resources, session: Session, analysis: Analysis
) -> StartedAnalysis:
    """A repeated start: make sure the first request's workflow exists (it may have failed)."""
    if analysis.status == Status.PENDING:
        user = await session.get(User, analysis.user_id)
        video = await session.get(Video, analysis.video_id)
        route = await session.get(Route, analysis.route_id) if analysis.route_id else None
        if user and video and route:
            if not await resources.store.exists(
                resources.settings.bucket, analysed_video_key(video, analysis)
            ):
                await _pin_video(resources, video, analysis)
            try:
                params = _workflow_input(resources, analysis, user, video, route, None)
                await _start_workflow(resources, params)
            except Exception as exc:
                log.warning("could not start analysis %s: %s", analysis.id, exc)
                raise ApiError(
                    503, "unavailable", "the analysis could not be started right now; try again"
                ) from None
    return _started(analysis)


# --- read ---------------------------------------------------------------------------------------
@router.get(
    "",
    response_model=AnalysisPage,
    responses=responses(401, 422),
)
async def list_analyses(
    principal: CurrentUser,
    session: Session,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AnalysisPage:
    """My analyses, newest first, a page at a time."""
    statement = select(Analysis).where(Analysis.user_id == principal.user_id)
    if cursor:
        created_at, last_id = _decode_cursor(cursor)
        statement = statement.where(
            (col(Analysis.created_at) < created_at)
            | ((col(Analysis.created_at) == created_at) & (col(Analysis.id) < last_id))
        )
    statement = statement.order_by(col(Analysis.created_at).desc(), col(Analysis.id).desc()).limit(
        limit + 1
    )
    rows = list((await session.exec(statement)).all())
    page, more = rows[:limit], len(rows) > limit
    return AnalysisPage(
        items=[AnalysisPublic.model_validate(row) for row in page],
        next_cursor=_encode_cursor(page[-1]) if more else None,
    )


def _encode_cursor(analysis: Analysis) -> str:
    raw = f"{analysis.created_at.isoformat()}|{analysis.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The cursor's position. A timestamp without a timezone is read as UTC (every stored time
    is UTC); one that leaves the calendar once in UTC is refused like any malformed cursor."""
    try:
        created, last = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        when = datetime.fromisoformat(created)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.astimezone(UTC), uuid.UUID(last)
    except Exception:
        raise ApiError(422, "invalid_request", "cursor: is not one this API returned") from None


@router.get(
    "/{analysis_id}",
    response_model=AnalysisState,
    responses={
        200: {
            "description": "While it runs: its state and progress (AnalysisState). Once "
            "completed: the result document (schema/json/analysis_result.schema.json), "
            "gzip-encoded for clients that accept it, with an ETag.",
        },
        304: {"description": "Not modified (If-None-Match matched the ETag)."},
        **responses(401, 404, 422),
    },
)
async def get_analysis(
    analysis_id: uuid.UUID,
    request: Request,
    principal: CurrentUser,
    resources: Resources,
    session: Session,
) -> Any:
    """The analysis: its progress while it runs, the result document when it is done."""
    analysis = await _own_analysis(session, principal, analysis_id)
    if analysis.status == Status.COMPLETED:
        document = await _result_document(resources, analysis)
        if document is not None:
            return _serve_document(request, document)
    progress, stage = None, analysis.stage
    if analysis.status in RUNNING:
        live = await _live_progress(resources, analysis)
        if live is not None:
            progress, stage = live
    return AnalysisState(
        analysis_id=analysis.id,
        status=analysis.status,
        stage=stage,
        failure_reason=analysis.failure_reason,
        progress=progress,
        created_at=analysis.created_at,
        updated_at=analysis.updated_at,
    )


async def _result_document(resources: Resources, analysis: Analysis) -> StoredDocument | None:
    key = names.result_key(str(analysis.id), "result")
    cached = resources.results.get(key)
    if cached is not None:
        return cached
    try:
        document = make_document(await resources.store.get_bytes(resources.settings.bucket, key))
    except ObjectNotFound:
        return None
    resources.results.put(key, document)
    return document


def _serve_document(request: Request, document: StoredDocument) -> Response:
    headers = {
        "ETag": document.etag,
        "Vary": "Accept-Encoding",
        # Private: the document belongs to one climber; it never changes, so revalidation is
        # cheap (304) and the phone may keep it.
        "Cache-Control": "private, max-age=0, must-revalidate",
    }
    if document.etag in _etags(request.headers.get("if-none-match")):
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        headers["Content-Encoding"] = "gzip"
        return Response(document.gzip_bytes, media_type="application/json", headers=headers)
    return Response(
        gzip.decompress(document.gzip_bytes), media_type="application/json", headers=headers
    )


def _etags(header: str | None) -> set[str]:
    if not header:
        return set()
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


async def _live_progress(resources: Resources, analysis: Analysis) -> tuple[Progress, str] | None:
    """The running workflow's progress and stage. The row's stage changes only with the status
    (it read ``hold_validation`` through skeleton, advice and ghost); the workflow's is live."""
    try:
        client = await resources.temporal.client()
        handle = analysis_handle(client, str(analysis.id))
        live = await asyncio.wait_for(read_progress(handle, client.data_converter), timeout=2)
    except Exception as exc:  # the row still answers; progress is a refinement
        log.info("no live progress for %s: %s", analysis.id, exc)
        return None
    progress = Progress(
        percent=live.percent,
        step_done=live.step_done,
        step_total=live.step_total,
        step_attempt=live.step_attempt,
        validation_deadline=live.validation_deadline,
        holds_awaiting_validation=live.holds_awaiting_validation is not None,
        last_error=live.last_error,
    )
    return progress, live.stage.value


# --- holds --------------------------------------------------------------------------------------
@router.get("/{analysis_id}/holds", response_model=HoldsState, responses=responses(401, 404, 422))
async def get_holds(
    analysis_id: uuid.UUID, principal: CurrentUser, resources: Resources, session: Session
) -> HoldsState:
    """The detected holds while they await the climber's validation, or the validated map."""
    analysis = await _own_analysis(session, principal, analysis_id)
    if analysis.status == Status.AWAITING_HOLD_VALIDATION:
        handle = await _handle(resources, analysis)
        try:
            live = await query_status(handle)
        except RPCError:
            live = None
        if live is not None and live.holds_awaiting_validation is not None:
            return HoldsState(
                state="awaiting_validation",
                hold_map=live.holds_awaiting_validation,
                validation_deadline=live.validation_deadline,
            )
    route = await session.get(Route, analysis.route_id) if analysis.route_id else None
    if route is not None and route.hold_map is not None:
        return HoldsState(state="validated", hold_map=hold_map_from_dict(route.hold_map))
    return HoldsState(state="not_ready")


@router.post(
    "/{analysis_id}/holds",
    response_model=HoldsState,
    responses=responses(401, 404, 409, 422),
)
async def validate_holds(
    analysis_id: uuid.UUID,
    body: HoldsCorrection,
    principal: CurrentUser,
    resources: Resources,
    session: Session,
) -> HoldsState:
    """Send the corrected hold map; the analysis goes on with it.

    The workflow checks the map (ids, coordinates, types) and refuses it with every problem at
    once (422); nothing changes then, and the climber can send a corrected map again. A map
    beyond the bounds (holds, outline points in all and per hold, text lengths, bytes; see the
    error's `details`) is refused by the API itself with `hold_map_too_large`.
    """
    analysis = await _own_analysis(session, principal, analysis_id)
    if analysis.user_id != principal.user_id:  # support staff read analyses; only owners act
        raise not_found("this analysis")
    if analysis.status != Status.AWAITING_HOLD_VALIDATION:
        raise ApiError(
            409,
            "holds_not_awaiting_validation",
            f"the holds are not awaiting validation (the analysis is {analysis.status.value})",
        )
    # Bounded here, before the Update: a map of tens of MB decoded in the workflow's sandbox
    # stalls its task past the deadlock detector and stays in the payload bucket.
    too_big = hold_map_size_problems(body.hold_map)
    if too_big:
        raise ApiError(
            422,
            "hold_map_too_large",
            "the hold map is too large: " + "; ".join(too_big),
            details=HOLD_MAP_BOUNDS,
        )
    handle = await _handle(resources, analysis)
    try:
        accepted = await submit_hold_map(handle, body.hold_map)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause)
        if isinstance(cause, ApplicationError) and cause.type == names.INVALID_HOLD_MAP:
            raise ApiError(422, "invalid_hold_map", message) from None
        raise ApiError(409, "holds_not_awaiting_validation", message) from None
    except RPCError:
        raise ApiError(
            409, "holds_not_awaiting_validation", "this analysis is no longer running"
        ) from None
    return HoldsState(state="validated", hold_map=accepted)


# --- cancel -------------------------------------------------------------------------------------
CLIMBER_CANCEL_REASON = CancelInput().reason


@router.post(
    "/{analysis_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AnalysisState,
    responses=responses(401, 404, 409),
)
async def cancel_analysis(
    analysis_id: uuid.UUID, principal: CurrentUser, resources: Resources, session: Session
) -> AnalysisState:
    """Stop a running analysis; it ends as `cancelled` (the monthly start stays counted)."""
    analysis = await _own_analysis(session, principal, analysis_id)
    if analysis.user_id != principal.user_id:  # support staff read analyses; only owners act
        raise not_found("this analysis")
    if analysis.status not in RUNNING:
        raise ApiError(
            409, "not_running", f"the analysis has already ended ({analysis.status.value})"
        )
    handle = await _handle(resources, analysis)
    try:
        # Temporal's own cancellation: the run records and publishes the end, then shows as
        # Canceled in the Web UI (the `cancel` signal, kept for older clients, ends it Completed).
        await handle.cancel(reason=CLIMBER_CANCEL_REASON)
    except RPCError:
        raise ApiError(409, "not_running", "the analysis has already ended") from None
    return AnalysisState(
        analysis_id=analysis.id,
        status=analysis.status,
        stage=analysis.stage,
        created_at=analysis.created_at,
        updated_at=analysis.updated_at,
    )


__all__ = ["router"]
