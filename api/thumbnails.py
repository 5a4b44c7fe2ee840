"""Thumbnail URLs for the app's lists and details: presigned GETs of ``thumbnails/{video_id}.jpg``.

The GPU steps write the thumbnail (`activities.thumbnails`); the API only signs a URL for it, and
only when it exists, so the app never shows a broken picture for a video whose analysis has not
reached the skeleton step. The existence checks of a page run concurrently.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from datetime import timedelta

from fastapi import Request

from api.resources import ApiResources
from api.routes.objects import absolute_url
from schema import names

#: How long a thumbnail URL works: long enough for the app to keep a list on screen and scroll.
THUMBNAIL_URL_TTL = timedelta(hours=1)

#: The header carrying the thumbnail URL beside a completed analysis' result document, which is
#: stored and served as it is (with its ETag), so a URL that expires cannot be inside it.
THUMBNAIL_HEADER = "X-Thumbnail-Url"


async def thumbnail_url(
    request: Request, resources: ApiResources, video_id: uuid.UUID
) -> str | None:
    """A presigned GET of the video's thumbnail, or None when there is none (yet)."""
    bucket, key = resources.settings.bucket, names.thumbnail_key(str(video_id))
    if not await resources.store.exists(bucket, key):
        return None
    url = await resources.store.presigned_get(bucket, key, expires=THUMBNAIL_URL_TTL)
    return None if url is None else absolute_url(request, url)


async def thumbnail_urls(
    request: Request, resources: ApiResources, video_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, str | None]:
    """`thumbnail_url` of each video, looked up concurrently."""
    unique = list(dict.fromkeys(video_ids))
    urls = await asyncio.gather(*(thumbnail_url(request, resources, v) for v in unique))
    return dict(zip(unique, urls, strict=True))
