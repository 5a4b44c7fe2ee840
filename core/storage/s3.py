"""`ObjectStore` on MinIO/S3 through miniopy-async: every deployment and the integration tests."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from miniopy_async.api import Minio
from miniopy_async.commonconfig import ENABLED, CopySource, Filter
from miniopy_async.deleteobjects import DeleteObject
from miniopy_async.error import S3Error
from miniopy_async.lifecycleconfig import Expiration, LifecycleConfig, Rule

from core.sigv4 import presign
from core.storage.base import ObjectNotFound, ObjectStore

_MISSING_CODES = frozenset({"NoSuchKey", "NoSuchObject", "NoSuchBucket"})


class S3ObjectStore(ObjectStore):
    """MinIO or any S3 endpoint, through miniopy-async.

    ``public_endpoint`` (and ``public_secure``) name the host a phone reaches the store at when
    that is not ``endpoint``: a presigned URL signs its Host header, so it must be built for the
    host the client will send, while this process keeps talking to the internal endpoint.
    """

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        *,
        secure: bool = False,
        region: str | None = None,
        public_endpoint: str | None = None,
        public_secure: bool | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.public_endpoint = public_endpoint or endpoint
        self._public_secure = secure if public_secure is None else public_secure
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

    async def list_keys(self, bucket: str, prefix: str) -> list[str]:
        if not await self.bucket_exists(bucket):
            return []
        listing = await self._client.list_objects(bucket, prefix=prefix, recursive=True)
        return sorted(item.object_name for item in listing if item.object_name)

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
        return self._presign_public("PUT", bucket, key, expires, bound)

    async def presigned_get(self, bucket: str, key: str, *, expires: timedelta) -> str | None:
        return self._presign_public("GET", bucket, key, expires, {})

    def _presign_public(
        self, method: str, bucket: str, key: str, expires: timedelta, headers: dict[str, str]
    ) -> str:
        """A URL for the host the phone sees (`public_endpoint`), signed with our keys."""
        return presign(
            method,
            endpoint=self.public_endpoint,
            secure=self._public_secure,
            bucket=bucket,
            key=key,
            access_key=self._access_key,
            secret_key=self._secret_key,
            region=self._region,
            expires=expires,
            headers=headers,
        )

    async def close(self) -> None:
        await self._client.close_session()
