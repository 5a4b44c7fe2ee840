"""Signed object URLs of the folder store: the embedded default's stand-in for MinIO's.

``ascension dev`` keeps objects in a folder (`core.storage.local`), so the URLs that
``request-upload`` (and the thumbnails, the viewer's video) hand out point here instead of at
MinIO. Each request is checked before a byte moves: the HMAC signature over method, bucket, key,
deadline, content type and length (`core.storage.signed`), then the deadline, then the upload's
``Content-Type`` and ``Content-Length`` against the signed ones. An upload is streamed to disk
and counted as it arrives; the first byte past the signed length ends it with 413, a short body
with 400, and either way nothing is kept. A refused URL answers 403, as S3 does.

With an S3 store these routes answer 404: presigned URLs point at the store itself. They are not
in the OpenAPI document; clients never build these URLs, they receive them signed.
"""

from __future__ import annotations

import mimetypes
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from starlette.requests import ClientDisconnect

from api.deps import Resources
from api.errors import ApiError
from core.storage.local import LengthMismatch, LocalObjectStore
from core.storage.signed import (
    OBJECTS_PATH,
    ExpiredSignedUrl,
    InvalidSignedUrl,
    ObjectGrant,
    verify_grant,
)

router = APIRouter(tags=["objects"], include_in_schema=False)

#: The path these routes are served under, for the edge (which lets their bodies stream).
OBJECTS_PREFIX = OBJECTS_PATH + "/"


def absolute_url(request: Request, url: str) -> str:
    """A presigned URL as the client can follow it: the folder store's path-absolute URLs are
    joined to the address this request reached the API at; an S3 URL is already absolute."""
    if url.startswith("/"):
        return str(request.base_url).rstrip("/") + url
    return url


def _folder_store(resources: Resources) -> LocalObjectStore:
    store = resources.store
    if not isinstance(store, LocalObjectStore):
        raise ApiError(404, "not_found", "this deployment serves objects from its object store")
    return store


def _grant(request: Request, store: LocalObjectStore, bucket: str, key: str) -> ObjectGrant:
    try:
        return verify_grant(
            store.signing_key(),
            method=request.method,
            bucket=bucket,
            key=key,
            query=dict(request.query_params),
            now=datetime.now(UTC),
        )
    except ExpiredSignedUrl as err:
        raise ApiError(403, "url_expired", str(err)) from None
    except InvalidSignedUrl as err:
        raise ApiError(403, "invalid_signature", str(err)) from None


@router.put("/objects/{bucket}/{key:path}", status_code=200)
async def put_object(bucket: str, key: str, request: Request, resources: Resources) -> Response:
    """Take a signed upload: exactly the signed type and length, streamed to the folder."""
    store = _folder_store(resources)
    grant = _grant(request, store, bucket, key)
    sent_type = request.headers.get("content-type", "")
    if sent_type.strip() != (grant.content_type or ""):
        raise ApiError(
            403,
            "header_mismatch",
            f"send the Content-Type the upload was signed for ({grant.content_type})",
        )
    if grant.content_length is None or request.headers.get("content-length") != str(
        grant.content_length
    ):
        raise ApiError(
            403,
            "header_mismatch",
            f"send the Content-Length the upload was signed for ({grant.content_length})",
        )
    try:
        await store.write_stream(bucket, key, request.stream(), length=grant.content_length)
    except LengthMismatch as err:
        if err.received > err.expected:
            raise ApiError(413, "too_large", str(err), headers={"Connection": "close"}) from None
        raise ApiError(400, "incomplete_upload", str(err)) from None
    except ClientDisconnect:
        # Nothing was kept; the client is gone, so nobody reads this answer.
        raise ApiError(400, "incomplete_upload", "the upload was interrupted") from None
    return Response(status_code=200)


@router.get("/objects/{bucket}/{key:path}")
async def get_object(bucket: str, key: str, request: Request, resources: Resources) -> Response:
    """Serve a signed download, with Range requests (a ``<video>`` seeks with them)."""
    store = _folder_store(resources)
    _grant(request, store, bucket, key)
    path = store.path_of(bucket, key)
    if not path.is_file():
        raise ApiError(404, "not_found", "this object was not found")
    media_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media_type)
