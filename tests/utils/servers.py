"""Connection details of the real servers a test session runs against."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class S3Target:
    """A MinIO (or any S3) endpoint and the bucket this test run owns."""

    endpoint: str
    access_key: str
    secret_key: str
    bucket: str
    secure: bool = False
