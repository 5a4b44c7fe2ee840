"""`MinioServer.restart`: the same endpoint and data folder, and a client that was talking to the
old process keeps working with the new one (no stale pooled connection surfaces as an error)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest

from ascension.servers import MinioServer
from ascension.toolchain import components
from core.settings import Settings
from core.storage import S3ObjectStore

pytestmark = pytest.mark.integration


@pytest.fixture
def minio(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MinioServer]:
    binary = components.minio_path(settings)
    if binary is None:
        pytest.fail(f"minio is missing. Fix: {components.report_minio(settings).fix}")
    server = MinioServer(binary, tmp_path_factory.mktemp("minio-restart"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_restart_keeps_the_endpoint_the_objects_and_the_clients(minio: MinioServer) -> None:
    store = S3ObjectStore(minio.endpoint, minio.access_key, minio.secret_key)
    try:
        await store.ensure_bucket("kept")
        data = os.urandom(100_000)
        await store.put_bytes("kept", "before", data)
        endpoint, first_pid = minio.endpoint, minio.pid
        await asyncio.to_thread(minio.restart)
        assert minio.endpoint == endpoint and minio.pid != first_pid
        # The same client, its keep-alive connections to the old process now closed.
        assert await store.get_bytes("kept", "before") == data
        await store.put_bytes("kept", "after", b"new")
        assert await store.list_keys("kept", "") == ["after", "before"]
    finally:
        await store.close()
