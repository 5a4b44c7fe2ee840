"""`ObjectStore` on a local folder: the embedded default of the quickstart."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path

from core.storage.base import ObjectNotFound, ObjectStore


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
