"""Wire contract of the daily storage cleanup (issue 17 item 5): `StorageCleanupWorkflow`, started
by the Temporal Schedule `names.STORAGE_CLEANUP_SCHEDULE_ID`, and its two CPU activities.

Plain dataclasses, like `schema.analysis`; new fields always get defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from schema import names

#: Seed 000: an upload the climber did not save is kept this long.
UPLOAD_RETENTION_DAYS = 7
#: How long after its expiry a row is still looked at: six missed daily runs lose nothing, and
#: the daily work stays bounded (older uploads are the bucket lifecycle rule's, on S3).
EXPIRY_LOOKBACK_DAYS = 7


@dataclass
class StorageCleanupInput:
    """What one cleanup run works on; the schedule's action carries it (no settings read)."""

    bucket: str
    payload_bucket: str
    #: The Temporal namespace the payload bucket's SDK keys name.
    namespace: str
    cpu_task_queue: str = names.CPU_TASK_QUEUE
    upload_retention_days: int = UPLOAD_RETENTION_DAYS


@dataclass
class ExpireUploadsInput:
    bucket: str
    #: ISO time of the run (`workflow.now()`): unsaved videos whose ``expires_at`` is past expire.
    now: str
    upload_retention_days: int = UPLOAD_RETENTION_DAYS
    expiry_lookback_days: int = EXPIRY_LOOKBACK_DAYS


@dataclass
class ExpireUploadsResult:
    #: Videos expired by this run: objects deleted, or a missing ``expires_at`` set.
    expired_videos: int = 0
    deleted_objects: int = 0


@dataclass
class RemoveOrphanedPayloadsInput:
    payload_bucket: str
    namespace: str


@dataclass
class RemoveOrphanedPayloadsResult:
    #: Analyses no longer in the database whose payloads were still in the bucket.
    orphaned_analyses: int = 0
    deleted_objects: int = 0


@dataclass
class StorageCleanupResult:
    uploads: ExpireUploadsResult
    payloads: RemoveOrphanedPayloadsResult
