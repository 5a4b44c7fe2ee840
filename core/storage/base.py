"""The object-storage interface (`ObjectStore`) and its one error (`ObjectNotFound`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import timedelta
from pathlib import Path


class ObjectNotFound(LookupError):
    """The object does not exist (a missing upload is bad input, not a transient failure)."""

    def __init__(self, bucket: str, key: str) -> None:
        super().__init__(f"no object {key!r} in bucket {bucket!r}")
        self.bucket = bucket
        self.key = key


class ObjectStore(ABC):
    """Async object storage. Keys use ``/`` separators; values are opaque bytes."""

    @abstractmethod
    async def ensure_bucket(self, bucket: str) -> None:
        """Create the bucket if it does not exist (idempotent)."""

    @abstractmethod
    async def bucket_exists(self, bucket: str) -> bool: ...

    @abstractmethod
    async def put_bytes(
        self, bucket: str, key: str, data: bytes, *, content_type: str = "application/octet-stream"
    ) -> None: ...

    @abstractmethod
    async def get_bytes(self, bucket: str, key: str) -> bytes:
        """The whole object; raises `ObjectNotFound`. For small documents only (not videos)."""

    @abstractmethod
    async def size(self, bucket: str, key: str) -> int | None:
        """Size in bytes, or None when the object does not exist."""

    async def exists(self, bucket: str, key: str) -> bool:
        return await self.size(bucket, key) is not None

    @abstractmethod
    async def delete(self, bucket: str, key: str) -> bool:
        """Delete the object; True if it existed."""

    @abstractmethod
    async def delete_prefix(self, bucket: str, prefix: str) -> int:
        """Delete every object whose key starts with ``prefix``; returns how many."""

    @abstractmethod
    async def list_keys(self, bucket: str, prefix: str) -> list[str]:
        """The keys of every object whose key starts with ``prefix``, sorted (the daily
        cleanup's look for orphans); an empty list for a missing bucket."""

    async def expire_prefix(self, bucket: str, prefix: str, days: int) -> None:  # noqa: B027
        """Have the store delete objects under ``prefix`` ``days`` after they were written.

        A lifecycle rule, enforced by S3/MinIO; the local quickstart store keeps everything."""

    @abstractmethod
    async def download_file(self, bucket: str, key: str, path: Path) -> int:
        """Stream the object to ``path`` (never whole in memory); returns its size."""

    @abstractmethod
    async def upload_file(
        self, bucket: str, key: str, path: Path, *, content_type: str = "application/octet-stream"
    ) -> None: ...

    @abstractmethod
    async def copy(self, bucket: str, source_key: str, target_key: str) -> None:
        """Server-side copy inside one bucket; raises `ObjectNotFound`."""

    async def presigned_put(
        self,
        bucket: str,
        key: str,
        *,
        expires: timedelta,
        content_type: str | None = None,
        content_length: int | None = None,
    ) -> str | None:  # pragma: no cover - overridden where supported
        """A URL a client can PUT the object to, or None when this store cannot presign.

        When given, the content type and exact length are part of the signature: the store
        refuses an upload whose headers differ."""
        return None

    async def presigned_get(
        self, bucket: str, key: str, *, expires: timedelta
    ) -> str | None:  # pragma: no cover - overridden where supported
        """A URL a client (a browser's ``<video>``, the app) can GET the object from, or None
        when this store cannot presign. Media never passes through the API (seed 001)."""
        return None

    async def close(self) -> None:  # noqa: B027 - most stores hold nothing to release
        """Release connections."""
