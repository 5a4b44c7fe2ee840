"""`ObjectStore` on a local folder: the embedded default of the quickstart.

It presigns too: its URLs point at the API's ``/api/v1/objects`` routes, which check the
signature (`core.storage.signed` says why this, and not a MinIO process, serves the quickstart)
and stream the bytes to and from this folder through `write_stream` and `path_of`.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.storage.base import ObjectNotFound, ObjectStore
from core.storage.signed import ObjectGrant

#: The signing key's file, beside (never inside) the bucket folders, readable by its owner only.
SIGNING_KEY_FILE = ".signing-key"


class LengthMismatch(ValueError):
    """A streamed upload carried more or fewer bytes than it was signed for; nothing was kept."""

    def __init__(self, expected: int, received: int, *, complete: bool) -> None:
        what = "at least" if not complete else "exactly"
        super().__init__(f"the upload must be {expected} bytes; it was {what} {received}")
        self.expected = expected
        self.received = received


class LocalObjectStore(ObjectStore):
    """Objects as files under ``root/bucket/key``: the embedded quickstart's store.

    Writes go to a temporary file and are renamed into place, so a reader never sees half an
    object, as with S3.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._signing_key: bytes | None = None

    def signing_key(self) -> bytes:
        """The key its URLs are signed with, made on first use and kept beside the buckets.

        Every process on the folder (the API, the workers, the CLI) shares it, and it survives a
        restart, so a URL handed out before one still works until its deadline."""
        if self._signing_key is None:
            path = self.root / SIGNING_KEY_FILE
            self.root.mkdir(parents=True, exist_ok=True)
            try:
                # O_EXCL: of two processes starting at once, one writes and both read its key.
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_hex(32))
            key = path.read_text().strip()
            if len(key) < 64:  # a half-written file from a crash: replace it
                path.unlink(missing_ok=True)
                return self.signing_key()
            self._signing_key = bytes.fromhex(key)
        return self._signing_key

    def path_of(self, bucket: str, key: str) -> Path:
        """The object's file (it may not exist), for the API to stream a signed download."""
        return self._path(bucket, key)

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

    async def list_keys(self, bucket: str, prefix: str) -> list[str]:
        root = self._path(bucket, "")

        def listing() -> list[str]:
            keys = (p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
            return sorted(key for key in keys if key.startswith(prefix))

        return await asyncio.to_thread(listing) if root.exists() else []

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

    async def write_stream(
        self, bucket: str, key: str, chunks: AsyncIterable[bytes], *, length: int
    ) -> None:
        """Write ``chunks`` as the object, refusing them unless they are exactly ``length`` bytes.

        The count is kept as the bytes arrive: the write stops at the first byte past
        ``length`` rather than after the whole body is on disk. The object appears (atomically)
        only when the count is exact; otherwise nothing is left behind and `LengthMismatch`
        is raised.
        """
        target = self._path(bucket, key)
        await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
        fd, staging = await asyncio.to_thread(
            tempfile.mkstemp, dir=target.parent, prefix=".upload-"
        )
        handle = os.fdopen(fd, "wb")
        received = 0

        def write(chunk: bytes) -> None:
            handle.write(chunk)

        try:
            async for chunk in chunks:
                received += len(chunk)
                if received > length:
                    raise LengthMismatch(length, received, complete=False)
                await asyncio.to_thread(write, chunk)
            if received != length:
                raise LengthMismatch(length, received, complete=True)
            await asyncio.to_thread(handle.close)
            await asyncio.to_thread(os.replace, staging, target)
        except BaseException:
            handle.close()
            Path(staging).unlink(missing_ok=True)
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
        self._path(bucket, key)  # refuse a key that escapes its bucket before signing it
        grant = ObjectGrant(
            method="PUT",
            bucket=bucket,
            key=key,
            expires_at=int((datetime.now(UTC) + expires).timestamp()),
            content_type=content_type or "application/octet-stream",
            content_length=content_length,
        )
        return grant.url(await asyncio.to_thread(self.signing_key))

    async def presigned_get(self, bucket: str, key: str, *, expires: timedelta) -> str | None:
        self._path(bucket, key)
        grant = ObjectGrant(
            method="GET",
            bucket=bucket,
            key=key,
            expires_at=int((datetime.now(UTC) + expires).timestamp()),
        )
        return grant.url(await asyncio.to_thread(self.signing_key))

    async def copy(self, bucket: str, source_key: str, target_key: str) -> None:
        source = self._path(bucket, source_key)
        if not source.exists():
            raise ObjectNotFound(bucket, source_key)
        await self.upload_file(bucket, target_key, source)
