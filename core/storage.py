"""Object storage behind one interface: MinIO/S3 in deployments, a folder for the quickstart.

Seed 004's storage abstraction: activities, the API and Temporal's external payload storage speak
to `ObjectStore`, so the embedded default runs without a MinIO process and every real deployment
(and the integration tests) uses S3 semantics through miniopy-async.

Objects are addressed by ``(bucket, key)`` because the workflow carries the bucket in its input and
Temporal's payload storage keeps its own bucket.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from datetime import timedelta
from pathlib import Path

from miniopy_async.api import Minio
from miniopy_async.commonconfig import ENABLED, CopySource, Filter
from miniopy_async.deleteobjects import DeleteObject
from miniopy_async.error import S3Error
from miniopy_async.lifecycleconfig import Expiration, LifecycleConfig, Rule

from core.settings import Settings
from core.sigv4 import presign

_MISSING_CODES = frozenset({"NoSuchKey", "NoSuchObject", "NoSuchBucket"})


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

    async def close(self) -> None:  # noqa: B027 - most stores hold nothing to release
        """Release connections."""


class S3ObjectStore(ObjectStore):
    """MinIO or any S3 endpoint, through miniopy-async."""

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        *,
        secure: bool = False,
        region: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._secure = secure
        self._access_key = access_key
        self._secret_key = secret_key
        self._region = region or "us-east-1"
        self._client = Minio(
            endpoint, access_key, secret_key, secure=secure, region=region or "us-east-1"
        )
        self._known_buckets: set[str] = set()

    async def ensure_bucket(self, bucket: str) -> None:
        if bucket in self._known_buckets:
            return
        if not await self._client.bucket_exists(bucket):
            try:
                await self._client.make_bucket(bucket)
            except S3Error as err:  # another process created it first
                if err.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                    raise
        self._known_buckets.add(bucket)

    async def bucket_exists(self, bucket: str) -> bool:
        return bool(await self._client.bucket_exists(bucket))

    async def put_bytes(
        self, bucket: str, key: str, data: bytes, *, content_type: str = "application/octet-stream"
    ) -> None:
        await self._client.put_object(
            bucket, key, io.BytesIO(data), len(data), content_type=content_type
        )

    async def get_bytes(self, bucket: str, key: str) -> bytes:
        try:
            response = await self._client.get_object(bucket, key)
        except S3Error as err:
            if err.code in _MISSING_CODES:
                raise ObjectNotFound(bucket, key) from None
            raise
        try:
            return bytes(await response.read())
        finally:
            response.close()

    async def size(self, bucket: str, key: str) -> int | None:
        try:
            stat = await self._client.stat_object(bucket, key)
        except S3Error as err:
            if err.code in _MISSING_CODES:
                return None
            raise
        return stat.size

    async def delete(self, bucket: str, key: str) -> bool:
        existed = await self.exists(bucket, key)
        if existed:
            await self._client.remove_object(bucket, key)
        return existed

    async def delete_prefix(self, bucket: str, prefix: str) -> int:
        if not prefix:
            raise ValueError("refusing to delete a whole bucket")
        listing = await self._client.list_objects(bucket, prefix=prefix, recursive=True)
        doomed = [DeleteObject(item.object_name) for item in listing if item.object_name]
        if doomed:
            errors = await self._client.remove_objects(bucket, doomed)
            if errors:
                raise RuntimeError(f"could not delete {len(errors)} objects under {prefix}")
        return len(doomed)

    async def expire_prefix(self, bucket: str, prefix: str, days: int) -> None:
        rule = Rule(
            ENABLED,
            rule_filter=Filter(prefix=prefix),
            rule_id=f"expire-{prefix.strip('/').replace('/', '-') or 'all'}",
            expiration=Expiration(days=days),
        )
        await self._client.set_bucket_lifecycle(bucket, LifecycleConfig([rule]))

    async def download_file(self, bucket: str, key: str, path: Path) -> int:
        try:
            stat = await self._client.fget_object(bucket, key, str(path))
        except S3Error as err:
            if err.code in _MISSING_CODES:
                raise ObjectNotFound(bucket, key) from None
            raise
        return int(stat.size or path.stat().st_size)

    async def upload_file(
        self, bucket: str, key: str, path: Path, *, content_type: str = "application/octet-stream"
    ) -> None:
        await self._client.fput_object(bucket, key, str(path), content_type=content_type)

    async def copy(self, bucket: str, source_key: str, target_key: str) -> None:
        try:
            await self._client.copy_object(bucket, target_key, CopySource(bucket, source_key))
        except S3Error as err:
            if err.code in _MISSING_CODES:
                raise ObjectNotFound(bucket, source_key) from None
            raise

    async def presigned_put(
        self,
        bucket: str,
        key: str,
        *,
        expires: timedelta,
        content_type: str | None = None,
        content_length: int | None = None,
    ) -> str | None:
        bound: dict[str, str] = {}
        if content_type is not None:
            bound["content-type"] = content_type
        if content_length is not None:
            bound["content-length"] = str(content_length)
        return presign(
            "PUT",
            endpoint=self.endpoint,
            secure=self._secure,
            bucket=bucket,
            key=key,
            access_key=self._access_key,
            secret_key=self._secret_key,
            region=self._region,
            expires=expires,
            headers=bound,
        )

    async def close(self) -> None:
        await self._client.close_session()


class LocalObjectStore(ObjectStore):
    """Objects as files under ``root/bucket/key``: the embedded quickstart's store.

    Writes go to a temporary file and are renamed into place, so a reader never sees half an
    object, as with S3.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, bucket: str, key: str) -> Path:
        path = (self.root / bucket / key).resolve()
        # Keys come from our own code, but a key must never escape its bucket folder.
        if not path.is_relative_to((self.root / bucket).resolve()):
            raise ValueError(f"object key escapes its bucket: {key!r}")
        return path

    async def ensure_bucket(self, bucket: str) -> None:
        await asyncio.to_thread((self.root / bucket).mkdir, parents=True, exist_ok=True)

    async def put_bytes(
        self, bucket: str, key: str, data: bytes, *, content_type: str = "application/octet-stream"
    ) -> None:
        await asyncio.to_thread(self._write, self._path(bucket, key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, path)

    async def bucket_exists(self, bucket: str) -> bool:
        return await asyncio.to_thread((self.root / bucket).is_dir)

    async def get_bytes(self, bucket: str, key: str) -> bytes:
        path = self._path(bucket, key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise ObjectNotFound(bucket, key) from None

    async def size(self, bucket: str, key: str) -> int | None:
        path = self._path(bucket, key)
        try:
            return (await asyncio.to_thread(path.stat)).st_size
        except FileNotFoundError:
            return None

    async def delete(self, bucket: str, key: str) -> bool:
        path = self._path(bucket, key)
        try:
            await asyncio.to_thread(path.unlink)
        except FileNotFoundError:
            return False
        return True

    async def delete_prefix(self, bucket: str, prefix: str) -> int:
        if not prefix:
            raise ValueError("refusing to delete a whole bucket")
        root = self._path(bucket, "")

        def remove() -> int:
            doomed = [
                p
                for p in root.rglob("*")
                if p.is_file() and p.relative_to(root).as_posix().startswith(prefix)
            ]
            for path in doomed:
                path.unlink(missing_ok=True)
            return len(doomed)

        return await asyncio.to_thread(remove) if root.exists() else 0

    async def download_file(self, bucket: str, key: str, path: Path) -> int:
        source = self._path(bucket, key)
        try:
            await asyncio.to_thread(shutil.copyfile, source, path)
        except FileNotFoundError:
            raise ObjectNotFound(bucket, key) from None
        return path.stat().st_size

    async def upload_file(
        self, bucket: str, key: str, path: Path, *, content_type: str = "application/octet-stream"
    ) -> None:
        target = self._path(bucket, key)

        def copy() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = target.with_name(f".{target.name}.partial")
            shutil.copyfile(path, staging)
            os.replace(staging, target)

        await asyncio.to_thread(copy)

    async def copy(self, bucket: str, source_key: str, target_key: str) -> None:
        source = self._path(bucket, source_key)
        if not source.exists():
            raise ObjectNotFound(bucket, source_key)
        await self.upload_file(bucket, target_key, source)


def make_object_store(settings: Settings) -> ObjectStore:
    """The store the settings name: S3 (MinIO) or the local folder of the embedded default."""
    if settings.object_store == "s3":
        return S3ObjectStore(
            settings.s3_endpoint,
            settings.s3_access_key,
            settings.s3_secret_key,
            secure=settings.s3_secure,
            region=settings.s3_region,
        )
    return LocalObjectStore(settings.local_store_dir)
