"""Presigned URLs are signed for the host the phone sees (``ASCENSION_S3_PUBLIC_ENDPOINT``), while
the process itself keeps talking to the internal endpoint.

The real MinIO of the run is reached under two names: ``localhost:PORT`` plays the internal
endpoint (what the workers and the API use) and ``127.0.0.1:PORT`` the public one (what the phone
uses). A signature covers the Host header, so a URL built for the wrong host is refused: that is
the failure the setting exists to prevent, and the test shows both sides.
"""

from __future__ import annotations

import os
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from core.settings import Settings
from core.storage import S3ObjectStore, make_object_store
from tests.utils.servers import S3Target

pytestmark = pytest.mark.integration


def _two_names(s3: S3Target) -> tuple[str, str]:
    host, _, port = s3.endpoint.rpartition(":")
    assert host == "127.0.0.1", "the run's MinIO listens on loopback by address"
    return f"localhost:{port}", f"127.0.0.1:{port}"


def _settings(s3: S3Target, internal: str, public: str | None) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        object_store="s3",
        s3_endpoint=internal,
        s3_access_key=s3.access_key,
        s3_secret_key=s3.secret_key,
        s3_secure=False,
        s3_public_endpoint=public,
        bucket=s3.bucket,
    )


async def test_a_presigned_put_built_for_the_public_endpoint_uploads(s3: S3Target) -> None:
    internal, public = _two_names(s3)
    store = make_object_store(_settings(s3, internal, public))
    assert isinstance(store, S3ObjectStore)
    assert store.endpoint == internal
    key = "uploads/user-public/video-public.mp4"
    video = os.urandom(40_000)
    try:
        await store.ensure_bucket(s3.bucket)
        url = await store.presigned_put(
            s3.bucket,
            key,
            expires=timedelta(minutes=5),
            content_type="video/mp4",
            content_length=len(video),
        )
        assert url is not None
        assert urlsplit(url).netloc == public
        async with httpx.AsyncClient() as http:
            # What the phone does: a bare PUT with the signed headers, no credentials.
            put = await http.put(url, content=video, headers={"Content-Type": "video/mp4"})
            assert put.status_code == 200, put.text
        # The object is there, read back through the internal endpoint.
        assert await store.get_bytes(s3.bucket, key) == video
        get_url = await store.presigned_get(s3.bucket, key, expires=timedelta(minutes=5))
        assert get_url is not None and urlsplit(get_url).netloc == public
    finally:
        await store.delete(s3.bucket, key)
        await store.close()


async def test_a_url_signed_for_the_internal_host_is_refused_on_the_public_one(
    s3: S3Target,
) -> None:
    """Why the setting exists: without it the phone gets a URL for a host it cannot use, and
    sending it to the host it can reach breaks the signature."""
    internal, public = _two_names(s3)
    store = make_object_store(_settings(s3, internal, None))
    assert isinstance(store, S3ObjectStore)
    try:
        await store.ensure_bucket(s3.bucket)
        url = await store.presigned_put(
            s3.bucket, "uploads/user-public/other.mp4", expires=timedelta(minutes=5)
        )
        assert url is not None
        assert urlsplit(url).netloc == internal
        rerouted = url.replace(f"//{internal}/", f"//{public}/", 1)
        async with httpx.AsyncClient() as http:
            refused = await http.put(rerouted, content=b"x" * 100)
        assert refused.status_code == 403
        assert "SignatureDoesNotMatch" in refused.text
    finally:
        await store.close()


async def test_the_public_endpoint_is_a_bare_host_with_its_own_scheme() -> None:
    with pytest.raises(ValueError, match="without scheme or path"):
        Settings(_env_file=None, s3_public_endpoint="https://cdn.example.com/")  # type: ignore[call-arg]
    blank = Settings(_env_file=None, s3_public_endpoint="")  # type: ignore[call-arg]
    assert blank.s3_public_endpoint is None
    secure = Settings(
        _env_file=None,  # type: ignore[call-arg]
        s3_public_endpoint="storage.example.com",
        s3_public_secure=True,
    )
    store = S3ObjectStore(
        "minio:9000",
        "k",
        "s",
        public_endpoint=secure.s3_public_endpoint,
        public_secure=secure.s3_public_secure,
    )
    url = await store.presigned_put("b", "k.mp4", expires=timedelta(minutes=1))
    assert url is not None and url.startswith("https://storage.example.com/b/k.mp4?")
    assert store.endpoint == "minio:9000"
    await store.close()
