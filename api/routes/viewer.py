"""The overlay viewer: a browser page that plays the climber's video with the analysis drawn on it.

How a browser gets in. The page's first load is a plain navigation, which cannot carry the
``Authorization`` header the API asks for. So the app (or support tooling), signed in, asks
``POST /api/v1/analysis/video/{id}/viewer-link`` and opens the link it gets back:
``/viewer/{id}#token=…``. The token is

- **in the fragment**, which browsers never send to a server: it stays out of access logs,
  proxies and ``Referer`` headers, unlike a query string. The page itself is static (it holds no
  data, so serving it to anyone reveals nothing); its script reads the fragment, drops it from
  the address bar, and calls the API with ``Authorization: Bearer <token>``;
- **a viewer token, not the access token**: it reads one analysis and nothing else (its own
  ``typ``, refused by every other route), for `VIEWER_LINK_TTL`, and it ends with the sign-in
  that issued it (logout, refresh-token reuse) — handing the 24 h access token that can delete
  videos to a URL would grant far more than a page that only watches.

Access is checked again on every call with the link: the analysis's owner, or a support account
(support reads any analysis, as in `api.routes.support`). The video itself never passes through
the API (seed 001): the page gets a presigned GET of the object the analysis read.
"""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime, timedelta
from importlib import resources as package_files
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from api.deps import CurrentUser, Principal, Resources, Session, signed_in
from api.errors import ApiError, not_found, responses, unauthorized
from api.pinned import analysed_video_key
from api.routes.analyses.access import ReadableAnalysis
from api.routes.analyses.read import _result_document, _serve_document
from api.security import InvalidToken
from schema.analysis import Status
from schema.models import Analysis, Role, Video

#: How long a viewer link opens the page: long enough to tap it, short enough that a link
#: pasted somewhere is soon worth nothing.
VIEWER_LINK_TTL: Final = timedelta(minutes=15)
#: How long the page's presigned video URL works: a browser fetches ranges of the video again
#: as the viewer seeks, well after the page opened.
VIDEO_URL_TTL: Final = timedelta(hours=1)

#: The page's files, shipped as package data of `api.viewer` (no build step, nothing remote).
_ASSETS: Final = {
    "viewer.js": "text/javascript; charset=utf-8",
    "viewer.css": "text/css; charset=utf-8",
}
#: Only our own script and style run; the video comes from the object store's presigned URL
#: (another origin); no framing, no referrer (the page's URL would be sent with the fragment
#: stripped anyway, but nothing else needs it).
_PAGE_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; media-src http: https: blob:; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}

api_router = APIRouter(tags=["viewer"])
page_router = APIRouter(include_in_schema=False)


class ViewerLink(BaseModel):
    #: Open this in a browser; the token after ``#`` is the link's only credential.
    url: str
    expires_at: datetime


class ViewerSession(BaseModel):
    analysis_id: uuid.UUID
    #: Where the page fetches the result document, with the same viewer token.
    document_url: str
    #: A presigned GET of the video the analysis read; None when it is no longer stored.
    video_url: str | None
    #: Why there is no video, in words for the viewer (the overlay is then drawn on a blank
    #: frame of the video's size).
    video_note: str | None = None
    expires_at: datetime


@api_router.post(
    "/analysis/video/{analysis_id}/viewer-link",
    status_code=status.HTTP_201_CREATED,
    response_model=ViewerLink,
    responses=responses(401, 404, 409, 422),
)
async def create_viewer_link(
    analysis: ReadableAnalysis, principal: CurrentUser, request: Request, resources: Resources
) -> ViewerLink:
    """A short-lived link to the overlay viewer of a completed analysis (owner or support)."""
    if analysis.status != Status.COMPLETED:
        raise ApiError(
            409,
            "analysis_not_completed",
            "the viewer shows a completed analysis; this one is "
            f"{analysis.status.value.replace('_', ' ')}",
        )
    token, grant = resources.tokens.viewer.issue(
        principal.user_id,
        principal.session_id,
        analysis.id,
        ttl_s=int(VIEWER_LINK_TTL.total_seconds()),
    )
    page = request.url_for("viewer_page", analysis_id=str(analysis.id))
    return ViewerLink(
        url=f"{page}#token={token}", expires_at=datetime.fromtimestamp(grant.expires_at, UTC)
    )


_viewer_bearer = HTTPBearer(auto_error=False, description="The token of a viewer link.")


async def viewed_analysis(
    analysis_id: uuid.UUID,
    resources: Resources,
    session: Session,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_viewer_bearer)],
) -> tuple[Analysis, datetime]:
    """The analysis a viewer link opens, with the link's expiry; checked on every call."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized("open the viewer through a viewer link: this needs its token")
    try:
        grant = resources.tokens.viewer.decode(credentials.credentials)
    except InvalidToken:
        raise unauthorized(
            "this viewer link is invalid or has expired; ask the app for a new one"
        ) from None
    if grant.analysis_id != analysis_id:
        raise not_found("this analysis")
    principal: Principal = await signed_in(session, grant.user_id, grant.session_id)
    analysis = await session.get(Analysis, analysis_id)
    if analysis is None or (
        analysis.user_id != principal.user_id and principal.role is not Role.SUPPORT
    ):
        raise not_found("this analysis")
    return analysis, datetime.fromtimestamp(grant.expires_at, UTC)


ViewedAnalysis = Annotated[tuple[Analysis, datetime], Depends(viewed_analysis)]


@api_router.get(
    "/viewer/{analysis_id}/session",
    response_model=ViewerSession,
    responses=responses(401, 404, 409, 422),
)
async def viewer_session(
    viewed: ViewedAnalysis, request: Request, resources: Resources, session: Session
) -> ViewerSession:
    """What the viewer page loads: where the document is and a presigned GET of the video."""
    analysis, expires_at = viewed
    video_url, note = None, None
    video = await session.get(Video, analysis.video_id)
    if video is not None:
        bucket = resources.settings.bucket
        # The copy the analysis read (while it is kept), else the video as stored now (the
        # saved copy, or the upload until its 7 days are up).
        for key in dict.fromkeys([analysed_video_key(video, analysis), video.storage_url]):
            if await resources.store.exists(bucket, key):
                video_url = await resources.store.presigned_get(bucket, key, expires=VIDEO_URL_TTL)
                if video_url is None:
                    note = "this server's object store cannot hand out video links"
                break
    if video_url is None and note is None:
        note = "the video is no longer stored: it was not saved and its upload has expired"
    return ViewerSession(
        analysis_id=analysis.id,
        document_url=str(request.url_for("viewer_document", analysis_id=str(analysis.id))),
        video_url=video_url,
        video_note=note,
        expires_at=expires_at,
    )


@api_router.get(
    "/viewer/{analysis_id}/document",
    responses={
        200: {"description": "The result document, as GET /analysis/video/{id} serves it."},
        304: {"description": "Not modified (If-None-Match matched the ETag)."},
        **responses(401, 404, 409, 422),
    },
)
async def viewer_document(
    viewed: ViewedAnalysis, request: Request, resources: Resources
) -> Response:
    """The analysis's result document, for the viewer page (gzip, ETag)."""
    analysis, _ = viewed
    document = None
    if analysis.status == Status.COMPLETED:
        document = await _result_document(resources, analysis)
    if document is None:
        raise ApiError(409, "analysis_not_completed", "this analysis has no result document")
    return _serve_document(request, document)


@page_router.get("/viewer/{analysis_id}", name="viewer_page", response_class=HTMLResponse)
async def viewer_page(analysis_id: uuid.UUID) -> HTMLResponse:
    """The page; it holds no data (the script fetches it with the link's token)."""
    return HTMLResponse(_asset("viewer.html"), headers=_PAGE_HEADERS)


@page_router.get("/viewer/assets/{name}")
async def viewer_asset(name: str) -> Response:
    media_type = _ASSETS.get(name)
    if media_type is None:
        raise not_found("this file")
    return Response(_asset(name), media_type=media_type, headers=_PAGE_HEADERS)


@functools.cache
def _asset(name: str) -> str:
    return package_files.files("api.viewer").joinpath(name).read_text(encoding="utf-8")
