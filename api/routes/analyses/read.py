"""Reading analyses: the climber's list, and one analysis as progress or its result document.

While an analysis runs, GET answers its state with the run's live progress; once completed, it
answers the stored result document itself (gzip for clients that take it, with an ETag, cached
in the process), so the app's one URL serves both.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import logging
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import col, select

from api.deps import CurrentUser, Resources, Session
from api.errors import ApiError, responses
from api.progress import read_progress
from api.reconcile import reconciled
from api.resources import ApiResources
from api.results import StoredDocument, make_document
from api.routes.analyses.access import ReadableAnalysis
from api.schemas.analyses import AnalysisItem, AnalysisPage, AnalysisState, Progress
from api.thumbnails import THUMBNAIL_HEADER, thumbnail_url, thumbnail_urls
from core.analyses import RUNNING, analysis_handle
from core.storage import ObjectNotFound
from schema import names
from schema.analysis import Status
from schema.models import Analysis

log = logging.getLogger("ascension.api")
router = APIRouter(prefix="/analysis/video", tags=["analyses"])


@router.get(
    "",
    response_model=AnalysisPage,
    responses=responses(401, 422),
)
async def list_analyses(
    principal: CurrentUser,
    session: Session,
    request: Request,
    resources: Resources,
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
    thumbnails = await thumbnail_urls(request, resources, (row.video_id for row in page))
    return AnalysisPage(
        items=[
            AnalysisItem.model_validate(row, update={"thumbnail_url": thumbnails[row.video_id]})
            for row in page
        ],
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
    analysis: ReadableAnalysis, request: Request, resources: Resources, session: Session
) -> Any:
    """The analysis: its progress while it runs, the result document when it is done (its
    thumbnail's URL then in the X-Thumbnail-Url header). A run stopped by support or timed out
    answers as failed, with the reason."""
    analysis = await reconciled(resources, session, analysis)
    thumbnail = await thumbnail_url(request, resources, analysis.video_id)
    if analysis.status == Status.COMPLETED:
        document = await _result_document(resources, analysis)
        if document is not None:
            response = _serve_document(request, document)
            if thumbnail is not None:
                response.headers[THUMBNAIL_HEADER] = thumbnail
            return response
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
        thumbnail_url=thumbnail,
    )


async def _result_document(resources: ApiResources, analysis: Analysis) -> StoredDocument | None:
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


async def _live_progress(
    resources: ApiResources, analysis: Analysis
) -> tuple[Progress, str] | None:
    """The running workflow's progress and stage. The row's stage changes only with the status
    (it read ``hold_validation`` through skeleton, advice and ghost); the workflow's is live."""
    try:
        client = await resources.temporal.client()
        live = await asyncio.wait_for(
            read_progress(analysis_handle(client, str(analysis.id)), client.data_converter),
            timeout=2,
        )
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
        waiting_for=live.waiting_for,
    )
    return progress, live.stage.value
