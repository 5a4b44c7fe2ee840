"""Object storage behind one interface: MinIO/S3 in deployments, a folder for the quickstart.

Seed 004's storage abstraction: activities, the API and Temporal's external payload storage speak
to `ObjectStore`, so the embedded default runs without a MinIO process and every real deployment
(and the integration tests) uses S3 semantics through miniopy-async.

Objects are addressed by ``(bucket, key)`` because the workflow carries the bucket in its input and
Temporal's payload storage keeps its own bucket.

`ObjectStore` and `ObjectNotFound` are in `core.storage.base`, the S3 store in `core.storage.s3`,
the folder store in `core.storage.local`.
"""

from __future__ import annotations

from core.settings import Settings
from core.storage.base import ObjectNotFound, ObjectStore
from core.storage.local import LocalObjectStore
from core.storage.s3 import S3ObjectStore

__all__ = [
    "LocalObjectStore",
    "ObjectNotFound",
    "ObjectStore",
    "S3ObjectStore",
    "make_object_store",
]


def make_object_store(settings: Settings) -> ObjectStore:
    """The store the settings name: S3 (MinIO) or the local folder of the embedded default.

    Every process gets the public endpoint, but only presigned URLs use it: the API is the one
    that presigns, and every request a process makes itself goes to ``s3_endpoint``.
    """
    if settings.object_store == "s3":
        return S3ObjectStore(
            settings.s3_endpoint,
            settings.s3_access_key,
            settings.s3_secret_key,
            secure=settings.s3_secure,
            region=settings.s3_region,
            public_endpoint=settings.s3_public_endpoint,
            public_secure=settings.s3_public_secure,
        )
    return LocalObjectStore(settings.local_store_dir)
