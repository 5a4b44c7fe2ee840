"""``POST /analysis/video/start``: check, count, record, pin the video, then start the run.

Everything that can refuse the start (ownership, plan, the uploads having arrived, the quota)
happens before the analysis is committed; the run is started through `core.analyses` after it.
An `Idempotency-Key` makes a repeated request answer with the first one's analysis and never
count twice; without one, a start Temporal refused is taken back so it costs nothing.
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Response, status
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from api.deps import CurrentUser, Principal, Resources, Session
from api.errors import ApiError, not_found, responses
from api.metrics import Metrics
from api.pinned import analysed_video_key, pin_video
from api.quota import consume_quota, refund_quota
from api.resources import ApiResources
from api.schemas.analyses import MorphologyIn, StartedAnalysis, StartRequest
from core.analyses import analysis_input, start_or_attach
from core.logs import bind_log_fields
from core.routes import running_route_holds
from schema import names
from schema.analysis import Morphology, Status
from schema.models import Analysis, Route, User, Video

log = logging.getLogger("ascension.api")
router = APIRouter(prefix="/analysis/video", tags=["analyses"])


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

    user, video, route = await _startable(resources, session, principal, body)
    await consume_quota(session, user)
    analysis = Analysis(
        video_id=video.id,
        user_id=user.id,
        route_id=route.id,
        idempotency_key=idempotency_key,
        ghost_requested=body.ghost,
    )
    # Before the commit: a pin that fails leaves no analysis and spends no quota.
    await pin_video(resources, video, analysis)
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

    try:
        await _start_run(resources, analysis, user, video, route, body.morphology)
    except Exception as exc:
        if idempotency_key is None:
            # Nothing will retry this analysis: take it back so it does not cost a start.
            await refund_quota(session, user.id, analysis.created_at)
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


async def _startable(
    resources: ApiResources, session: Session, principal: Principal, body: StartRequest
) -> tuple[User, Video, Route]:
    """The caller's account, video and route, once every check a start needs has passed."""
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
    return user, video, route


async def _start_run(
    resources: ApiResources,
    analysis: Analysis,
    user: User,
    video: Video,
    route: Route,
    morphology: MorphologyIn | None,
) -> None:
    params = analysis_input(
        analysis,
        user,
        route,
        resources.settings,
        video_key=analysed_video_key(video, analysis),
        morphology=Morphology(**(morphology or MorphologyIn()).model_dump()),
    )
    client = await resources.temporal.client()
    if params.route_hold_map is None:
        # The route's own detection is going (detecting, or awaiting the climber): the analysis
        # waits for its map instead of detecting the same photo again.
        params.route_holds_workflow_id = await running_route_holds(client, str(route.id))
    # A retried start (same analysis) attaches to the run that is going, or starts it again
    # when its run closed without recording anything (the row still says pending).
    await start_or_attach(client, params, start_again_if_closed=True)


async def _by_idempotency_key(session: Session, user_id: uuid.UUID, key: str) -> Analysis | None:
    statement = select(Analysis).where(Analysis.user_id == user_id, Analysis.idempotency_key == key)
    return (await session.exec(statement)).first()


async def _ensure_started(
    resources: ApiResources, session: Session, analysis: Analysis
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
                await pin_video(resources, video, analysis)
            try:
                await _start_run(resources, analysis, user, video, route, None)
            except Exception as exc:
                log.warning("could not start analysis %s: %s", analysis.id, exc)
                raise ApiError(
                    503, "unavailable", "the analysis could not be started right now; try again"
                ) from None
    return _started(analysis)


def _started(analysis: Analysis) -> StartedAnalysis:
    workflow_id = names.analysis_workflow_id(str(analysis.id))
    # The request's log line names the analysis it started (or found again).
    bind_log_fields(analysis_id=str(analysis.id), workflow_id=workflow_id)
    return StartedAnalysis(
        analysis_id=analysis.id,
        job_id=analysis.id,
        workflow_id=workflow_id,
        status=analysis.status,
    )
