"""Upload lifecycle: after an analysis the climber's video is deleted unless they saved it."""

from __future__ import annotations

from temporalio import activity

from core.storage import ObjectStore
from schema.activities import CLEANUP_UPLOAD
from schema.steps import CleanupUploadInput, CleanupUploadResult

UPLOADS_PREFIX = "uploads/"


class UploadCleanup:
    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    @activity.defn(name=CLEANUP_UPLOAD.name)
    async def cleanup_upload(self, params: CleanupUploadInput) -> CleanupUploadResult:
        """Delete the uploaded video; saved videos (``saved/``) are never touched."""
        if not params.video_key.startswith(UPLOADS_PREFIX):
            activity.logger.info("not deleting %s: not an upload", params.video_key)
            return CleanupUploadResult(deleted=False)
        # Deleting a missing object is success: a retry after a lost reply must not fail.
        deleted = await self._store.delete(params.bucket, params.video_key)
        return CleanupUploadResult(deleted=deleted)
