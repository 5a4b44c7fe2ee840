"""Presigned uploads: the phone sends video and photo bytes straight to object storage.

The API decides the key (always under the caller's own prefix, from ids it generates), and signs
the content type and the exact length, so the store refuses anything else. `start` checks the
object really arrived before any work is scheduled. With MinIO/S3 the API never sees the bytes;
the embedded default's folder store signs URLs that the API's own ``/objects`` routes honour with
the same guarantees (`api.routes.objects`), so the phone's code is the same against both.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from api.deps import CurrentUser, Resources, Session
from api.errors import ApiError, responses
from api.ratelimit import client_key
from api.routes.objects import absolute_url
from schema import names
from schema.models import Route, Video, utcnow

router = APIRouter(tags=["uploads"])

#: Unsaved uploads are deleted after this (seed 000's storage lifecycle).
UPLOAD_RETENTION = timedelta(days=7)

VideoType = Literal["video/mp4", "video/quicktime"]
PhotoType = Literal["image/jpeg", "image/png"]


class VideoUploadRequest(BaseModel):
    content_type: VideoType = "video/mp4"
    size_bytes: int = Field(gt=0, description="Exact size of the file; the upload must match it.")


class PhotoUploadRequest(BaseModel):
    content_type: PhotoType = "image/jpeg"
    size_bytes: int = Field(gt=0, description="Exact size of the file; the upload must match it.")
    name: str | None = Field(default=None, max_length=255, description="The route's name.")


class PresignedUpload(BaseModel):
    upload_url: str
    method: Literal["PUT"] = "PUT"
    #: Send exactly these headers with the PUT; the signature covers them.
    headers: dict[str, str]
    key: str
    expires_at: datetime


class VideoUpload(PresignedUpload):
    video_id: uuid.UUID


class PhotoUpload(PresignedUpload):
    route_id: uuid.UUID


def _check_size(size: int, limit: int, what: str) -> None:
    if size > limit:
        raise ApiError(
            413,
            "too_large",
            f"the {what} is {size / 1e6:.0f} MB; the limit is {limit / 1e6:.0f} MB",
        )


async def _presign(
    request: Request, resources: Resources, key: str, content_type: str, size: int
) -> PresignedUpload:
    ttl = timedelta(seconds=resources.settings.upload_url_ttl_s)
    url = await resources.store.presigned_put(
        resources.settings.bucket, key, expires=ttl, content_type=content_type, content_length=size
    )
    if url is None:
        raise ApiError(
            501,
            "uploads_unsupported",
            "this deployment's object store cannot take direct uploads; configure S3/MinIO",
        )
    return PresignedUpload(
        upload_url=absolute_url(request, url),
        headers={"Content-Type": content_type, "Content-Length": str(size)},
        key=key,
        expires_at=utcnow() + ttl,
    )


@router.post(
    "/analysis/video/request-upload",
    status_code=status.HTTP_201_CREATED,
    response_model=VideoUpload,
    responses=responses(401, 413, 422, 429, 501),
)
async def request_video_upload(
    body: VideoUploadRequest,
    request: Request,
    principal: CurrentUser,
    resources: Resources,
    session: Session,
) -> VideoUpload:
    """A 15-minute URL to PUT the climbing video to ``uploads/{user_id}/{video_id}.mp4``."""
    resources.limits.upload.hit(str(principal.user_id))
    resources.limits.upload.hit(client_key(request))
    _check_size(body.size_bytes, resources.settings.max_video_upload_bytes, "video")
    video = Video(user_id=principal.user_id, storage_url="", file_size_bytes=body.size_bytes)
    video.storage_url = names.upload_key(str(principal.user_id), str(video.id))
    video.expires_at = video.uploaded_at + UPLOAD_RETENTION
    upload = await _presign(
        request, resources, video.storage_url, body.content_type, body.size_bytes
    )
    session.add(video)
    await session.commit()
    return VideoUpload(video_id=video.id, **upload.model_dump())


@router.post(
    "/routes/request-photo-upload",
    status_code=status.HTTP_201_CREATED,
    response_model=PhotoUpload,
    responses=responses(401, 413, 422, 429, 501),
)
async def request_photo_upload(
    body: PhotoUploadRequest,
    request: Request,
    principal: CurrentUser,
    resources: Resources,
    session: Session,
) -> PhotoUpload:
    """A new route and a URL to PUT its wall photo to; ``POST /routes/{id}/detect`` then detects
    its holds (otherwise the first analysis on it does)."""
    resources.limits.upload.hit(str(principal.user_id))
    resources.limits.upload.hit(client_key(request))
    _check_size(body.size_bytes, resources.settings.max_photo_upload_bytes, "photo")
    route = Route(user_id=principal.user_id, name=body.name)
    extension = "png" if body.content_type == "image/png" else "jpg"
    route.photo_key = names.route_photo_key(str(principal.user_id), str(route.id), extension)
    upload = await _presign(request, resources, route.photo_key, body.content_type, body.size_bytes)
    session.add(route)
    await session.commit()
    return PhotoUpload(route_id=route.id, **upload.model_dump())
