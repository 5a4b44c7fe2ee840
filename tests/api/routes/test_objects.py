"""The folder store's signed URLs, served by the API (issue 18 item 1): the embedded default's
uploads and downloads keep the guarantees of MinIO's presigned URLs.

The app runs on the embedded default (SQLite, folder store, no broker) behind uvicorn, so the
uploads are real HTTP bodies streamed over a socket.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from api.app import create_app
from core.settings import Settings
from core.storage.local import LengthMismatch, LocalObjectStore
from tests.api.conftest import served

pytestmark = pytest.mark.integration


@dataclass
class Embedded:
    base_url: str
    store: LocalObjectStore
    bucket: str
    headers: dict[str, str]


@pytest.fixture(scope="module")
async def embedded(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Embedded]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path_factory.mktemp("embedded"),
        object_store="local",
        database_url=None,
        amqp_url=None,
        rate_limit_register_per_min=0,
        rate_limit_upload_per_min=0,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app), served(app, settings) as base_url:
        async with httpx.AsyncClient(base_url=base_url) as http:
            registered = await http.post(
                "/api/v1/auth/register",
                json={"email": "objects@example.com", "password": "correct horse battery"},
            )
            assert registered.status_code == 201, registered.text
            token = registered.json()["access_token"]
        yield Embedded(
            base_url,
            LocalObjectStore(settings.local_store_dir),
            settings.bucket,
            {"Authorization": f"Bearer {token}"},
        )


async def _request_upload(http: httpx.AsyncClient, env: Embedded, size: int) -> dict:
    response = await http.post(
        "/api/v1/analysis/video/request-upload",
        json={"content_type": "video/mp4", "size_bytes": size},
        headers=env.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_request_upload_gives_a_url_that_takes_exactly_the_signed_file(
    embedded: Embedded,
) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)  # beyond the API's 1 MiB JSON body limit
    async with httpx.AsyncClient(base_url=embedded.base_url) as http:
        upload = await _request_upload(http, embedded, len(data))
        url = upload["upload_url"]
        assert url.startswith(embedded.base_url + "/api/v1/objects/")
        put = await http.put(url, content=data, headers=upload["headers"])
        assert put.status_code == 200, put.text
    stored = await embedded.store.get_bytes(embedded.bucket, upload["key"])
    assert stored == data


async def test_an_upload_unlike_the_signed_one_is_refused_and_nothing_is_written(
    embedded: Embedded,
) -> None:
    data = os.urandom(4096)
    async with httpx.AsyncClient(base_url=embedded.base_url) as http:
        upload = await _request_upload(http, embedded, len(data))
        url, key = upload["upload_url"], upload["key"]
        other_type = await http.put(url, content=data, headers={"Content-Type": "video/quicktime"})
        assert other_type.status_code == 403
        assert other_type.json()["error"]["code"] == "header_mismatch"
        other_size = await http.put(url, content=data + b"x", headers={"Content-Type": "video/mp4"})
        assert other_size.status_code == 403
        assert other_size.json()["error"]["code"] == "header_mismatch"
        # Another key under the same signature: a neighbour's upload, or one outside uploads/.
        elsewhere = url.replace(key, key.replace(".mp4", "-2.mp4"))
        forged = await http.put(elsewhere, content=data, headers=upload["headers"])
        assert forged.status_code == 403
        assert forged.json()["error"]["code"] == "invalid_signature"
        longer_life = url.replace("X-Expires=", "X-Expires=9")
        extended = await http.put(longer_life, content=data, headers=upload["headers"])
        assert extended.status_code == 403
        assert extended.json()["error"]["code"] == "invalid_signature"
    assert not await embedded.store.exists(embedded.bucket, key)
    assert not await embedded.store.exists(embedded.bucket, key.replace(".mp4", "-2.mp4"))


async def test_an_expired_url_is_refused(embedded: Embedded) -> None:
    key = "uploads/someone/expired.mp4"
    url = await embedded.store.presigned_put(
        embedded.bucket,
        key,
        expires=timedelta(seconds=-1),
        content_type="video/mp4",
        content_length=3,
    )
    assert url is not None
    async with httpx.AsyncClient(base_url=embedded.base_url) as http:
        put = await http.put(url, content=b"abc", headers={"Content-Type": "video/mp4"})
    assert put.status_code == 403
    assert put.json()["error"]["code"] == "url_expired"
    assert not await embedded.store.exists(embedded.bucket, key)


async def test_an_interrupted_upload_leaves_nothing(embedded: Embedded) -> None:
    size = 2 * 1024 * 1024
    async with httpx.AsyncClient(base_url=embedded.base_url) as http:
        upload = await _request_upload(http, embedded, size)
    target = urlsplit(upload["upload_url"])
    _reader, writer = await asyncio.open_connection(target.hostname, target.port)
    head = (
        f"PUT {target.path}?{target.query} HTTP/1.1\r\nHost: {target.netloc}\r\n"
        f"Content-Type: video/mp4\r\nContent-Length: {size}\r\n\r\n"
    )
    writer.write(head.encode() + os.urandom(size // 2))
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    folder = embedded.store.path_of(embedded.bucket, upload["key"]).parent

    def partial_files() -> list[Path]:
        return [p for p in folder.iterdir() if p.name.startswith(".upload-")]

    for _ in range(200):  # the server notices the disconnect and removes its partial file
        if not partial_files():
            break
        await asyncio.sleep(0.05)
    assert partial_files() == []
    assert not await embedded.store.exists(embedded.bucket, upload["key"])


async def test_write_stream_counts_bytes_as_they_arrive(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    sent: list[int] = []

    async def chunks(count: int) -> AsyncIterator[bytes]:
        for index in range(count):
            sent.append(index)
            yield b"x" * 10

    with pytest.raises(LengthMismatch):
        await store.write_stream("b", "k/too-long", chunks(100), length=25)
    # Refused at the third chunk, the first one past the length: the rest was never read.
    assert len(sent) == 3
    with pytest.raises(LengthMismatch):
        await store.write_stream("b", "k/too-short", chunks(2), length=25)
    await store.write_stream("b", "k/exact", chunks(3), length=30)
    assert await store.get_bytes("b", "k/exact") == b"x" * 30
    assert sorted(p.name for p in (tmp_path / "b" / "k").iterdir()) == ["exact"]


async def test_signed_download_reads_that_object_only(embedded: Embedded) -> None:
    data = os.urandom(10_000)
    key = "thumbnails/some-video.jpg"
    await embedded.store.put_bytes(embedded.bucket, key, data)
    url = await embedded.store.presigned_get(embedded.bucket, key, expires=timedelta(minutes=5))
    assert url is not None
    async with httpx.AsyncClient(base_url=embedded.base_url) as http:
        got = await http.get(url)
        assert got.status_code == 200
        assert got.content == data
        assert got.headers["content-type"] == "image/jpeg"
        part = await http.get(url, headers={"Range": "bytes=100-199"})
        assert part.status_code == 206 and part.content == data[100:200]
        neighbour = await http.get(url.replace("some-video", "other-video"))
        assert neighbour.status_code == 403
        as_upload = await http.put(url, content=b"x", headers={"Content-Type": "image/jpeg"})
        assert as_upload.status_code == 403
    assert await embedded.store.get_bytes(embedded.bucket, key) == data


async def test_with_an_s3_store_the_api_serves_no_objects(api: httpx.AsyncClient) -> None:
    # The session's app stores in MinIO: its presigned URLs point there, never here.
    response = await api.get("/api/v1/objects/ascension-videos/thumbnails/x.jpg?X-Expires=1")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
