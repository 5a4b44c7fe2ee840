"""Objects round-trip through a real MinIO with miniopy-async and presigned URLs."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from miniopy_async import Minio
from miniopy_async.error import S3Error

from schema.names import upload_key
from tests.utils.servers import S3Target

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def minio(s3: S3Target) -> AsyncIterator[Minio]:
    client = Minio(s3.endpoint, s3.access_key, s3.secret_key, secure=s3.secure)
    if not await client.bucket_exists(s3.bucket):
        await client.make_bucket(s3.bucket)
    yield client


async def test_object_round_trips(minio: Minio, s3: S3Target) -> None:
    data = os.urandom(300_000)
    key = upload_key("user-1", "video-1")
    await minio.put_object(s3.bucket, key, io.BytesIO(data), len(data), content_type="video/mp4")
    stat = await minio.stat_object(s3.bucket, key)
    assert stat.size == len(data)
    assert stat.content_type == "video/mp4"
    response = await minio.get_object(s3.bucket, key)
    try:
        assert await response.read() == data
    finally:
        response.close()


async def test_presigned_put_by_plain_http_then_presigned_get(minio: Minio, s3: S3Target) -> None:
    key = upload_key("user-2", "video-2")
    video = os.urandom(64_000)
    put_url = await minio.presigned_put_object(s3.bucket, key, expires=timedelta(minutes=15))
    async with httpx.AsyncClient() as http:
        # Exactly what the phone does: a bare PUT of the bytes, no S3 library, no credentials.
        put = await http.put(put_url, content=video)
        assert put.status_code == 200, put.text
        get_url = await minio.presigned_get_object(s3.bucket, key, expires=timedelta(minutes=5))
        got = await http.get(get_url)
        assert got.status_code == 200
        assert got.content == video
        # A presigned URL grants one object, not its neighbours.
        tampered = get_url.replace("video-2", "video-3")
        denied = await http.get(tampered)
        assert denied.status_code == 403


async def test_missing_object_is_a_clear_error(minio: Minio, s3: S3Target) -> None:
    with pytest.raises(S3Error) as caught:
        await minio.stat_object(s3.bucket, "uploads/nobody/nothing.mp4")
    assert caught.value.code == "NoSuchKey"
