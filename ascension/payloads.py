"""The one DataConverter every Ascension client and worker uses.

Large payloads (a hold map of a dense wall with polygons, a long validation Update) are moved out
of workflow history into object storage by the SDK's `ExternalStorage` with its S3 driver; history
keeps a small reference. The driver's S3 client is written on our `ObjectStore`, so the same
converter works against MinIO and against the quickstart's local folder. Starter, workers and
replayer must share this converter, or one side could not read what the other stored.
"""

from __future__ import annotations

from collections.abc import Mapping

from temporalio.contrib.aws.s3driver import S3StorageDriver, S3StorageDriverClient
from temporalio.converter import DataConverter, ExternalStorage

from ascension.storage import ObjectStore

#: Payloads at least this large go to object storage. Temporal refuses payloads over 2 MiB and
#: warns from 512 KiB; keeping only small ones inline keeps histories fast to load and replay.
DEFAULT_PAYLOAD_THRESHOLD = 16 * 1024


class ObjectStoreS3Client(S3StorageDriverClient):
    """Adapts an `ObjectStore` (MinIO via miniopy-async, or a folder) to the SDK's S3 driver."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    async def put_object(self, *, bucket: str, key: str, data: bytes) -> None:
        await self._store.ensure_bucket(bucket)
        await self._store.put_bytes(bucket, key, data)

    async def object_exists(self, *, bucket: str, key: str) -> bool:
        return await self._store.exists(bucket, key)

    async def get_object(self, *, bucket: str, key: str) -> bytes:
        return await self._store.get_bytes(bucket, key)

    def describe(self) -> Mapping[str, str]:
        return {"store": type(self._store).__name__}


def make_data_converter(
    store: ObjectStore,
    bucket: str,
    *,
    threshold: int = DEFAULT_PAYLOAD_THRESHOLD,
) -> DataConverter:
    """The shared converter: JSON payloads, with those over ``threshold`` bytes in ``bucket``."""
    driver = S3StorageDriver(ObjectStoreS3Client(store), bucket, driver_name="ascension.objects")
    storage = ExternalStorage(drivers=[driver], payload_size_threshold=threshold)
    return DataConverter(external_storage=storage)
