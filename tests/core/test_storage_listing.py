"""`ObjectStore.list_keys` (the daily cleanup's look for orphaned payloads) on MinIO and on the
local-folder store: every key under the prefix, sorted, nothing for a missing bucket."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from core.settings import Settings
from core.storage import LocalObjectStore, ObjectStore, make_object_store

pytestmark = pytest.mark.integration


async def _check(store: ObjectStore) -> None:
    bucket = f"listing-{uuid.uuid4().hex[:8]}"
    assert await store.list_keys(bucket, "") == []
    await store.ensure_bucket(bucket)
    for key in ["b/1", "a/2/x", "a/1", "ab"]:
        await store.put_bytes(bucket, key, b"x")
    assert await store.list_keys(bucket, "a/") == ["a/1", "a/2/x"]
    assert await store.list_keys(bucket, "") == ["a/1", "a/2/x", "ab", "b/1"]
    await store.delete_prefix(bucket, "a/")
    assert await store.list_keys(bucket, "a") == ["ab"]


async def test_on_minio(stack_settings: Settings) -> None:
    store = make_object_store(stack_settings)
    try:
        await _check(store)
    finally:
        await store.close()


async def test_on_the_local_folder(tmp_path: Path) -> None:
    await _check(LocalObjectStore(tmp_path))
