"""Presigned GETs from the MinIO store: a plain HTTP client (a browser's ``<video>``) reads one
object with the URL and nothing else, and only that object, only with an intact signature."""

from __future__ import annotations

import os
from datetime import timedelta

import httpx
import pytest

from core.settings import Settings
from core.storage import make_object_store

pytestmark = pytest.mark.integration


async def test_presigned_get_reads_that_object_only(stack_settings: Settings) -> None:
    store = make_object_store(stack_settings)
    bucket = stack_settings.bucket
    await store.ensure_bucket(bucket)
    data = os.urandom(50_000)
    await store.put_bytes(bucket, "saved/user-9/video-9.mp4", data, content_type="video/mp4")
    try:
        url = await store.presigned_get(
            bucket, "saved/user-9/video-9.mp4", expires=timedelta(minutes=5)
        )
        assert url is not None
        async with httpx.AsyncClient() as http:
            got = await http.get(url)
            assert got.status_code == 200
            assert got.content == data
            # Range requests are how a <video> seeks: the signature allows them.
            part = await http.get(url, headers={"Range": "bytes=100-199"})
            assert part.status_code == 206 and part.content == data[100:200]
            neighbour = await http.get(url.replace("video-9", "video-8"))
            assert neighbour.status_code == 403
            forged = await http.get(url[:-4] + ("0000" if not url.endswith("0000") else "1111"))
            assert forged.status_code == 403
    finally:
        await store.delete(bucket, "saved/user-9/video-9.mp4")
        await store.close()
