"""CPU activities of the daily storage cleanup (`workflows.storage_cleanup`).

A video's row says when its unsaved upload expires (``videos.expires_at``, upload + 7 days); the
cleanup deletes what is past it. Deleting a missing object is a no-op, so a retried or repeated
run is harmless.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import tuple_
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from temporalio import activity

from core.db import session_scope
from core.payloads import analysis_payload_prefixes, payload_analysis_ids
from core.storage import ObjectStore
from schema import names
from schema.activities import EXPIRE_UNSAVED_UPLOADS, REMOVE_ORPHANED_PAYLOADS
from schema.cleanup import (
    ExpireUploadsInput,
    ExpireUploadsResult,
    RemoveOrphanedPayloadsInput,
    RemoveOrphanedPayloadsResult,
)
from schema.models import Analysis, Video

#: Rows handled per transaction (and per heartbeat).
BATCH = 200


class StorageCleanup:
    """Bound to the worker's database and object store."""

    def __init__(self, engine: AsyncEngine, store: ObjectStore) -> None:
        self._engine = engine
        self._store = store

    async def _delete_upload(self, bucket: str, video: Video) -> int:
        """The upload, its analyses' pinned copies (`names.pinned_video_key`): every object of
        the video under ``uploads/``. The saved copy and the result documents stay."""
        user, video_id = str(video.user_id), str(video.id)
        deleted = await self._store.delete_prefix(bucket, names.pinned_video_prefix(user, video_id))
        keys = {names.upload_key(user, video_id)}
        if video.storage_url.startswith(names.UPLOADS_PREFIX):
            keys.add(video.storage_url)
        for key in sorted(keys):
            deleted += int(await self._store.delete(bucket, key))
        return deleted

    @activity.defn(name=EXPIRE_UNSAVED_UPLOADS.name)
    async def expire_unsaved_uploads(self, params: ExpireUploadsInput) -> ExpireUploadsResult:
        """Delete the objects of unsaved videos whose ``expires_at`` has passed.

        Rows without an ``expires_at`` (written before uploads set it) get it first, from
        their upload time, which marks them expired once it is past. Rows that expired up to
        ``expiry_lookback_days`` ago are looked at again (their objects are normally gone by
        then, and deleting nothing costs one request), so missed runs lose nothing and the
        work per day stays bounded.
        """
        now = datetime.fromisoformat(params.now)
        kept_for = timedelta(days=params.upload_retention_days)
        result = ExpireUploadsResult()
        await self._expire_undated(params.bucket, now - kept_for, kept_for, result)
        after: tuple[datetime, uuid.UUID] | None = None
        since = now - timedelta(days=params.expiry_lookback_days)
        while True:
            async with session_scope(self._engine) as session:
                query = select(Video).where(
                    col(Video.saved).is_(False),
                    col(Video.expires_at) <= now,
                    col(Video.expires_at) > since,
                )
                if after is not None:  # keyset: (expires_at, id) after the last batch
                    query = query.where(
                        tuple_(col(Video.expires_at), col(Video.id)) > tuple_(*after)
                    )
                videos = (
                    await session.exec(
                        query.order_by(col(Video.expires_at), col(Video.id)).limit(BATCH)
                    )
                ).all()
            if not videos:
                return result
            for video in videos:
                deleted = await self._delete_upload(params.bucket, video)
                result.deleted_objects += deleted
                result.expired_videos += int(deleted > 0)
            last = videos[-1]
            assert last.expires_at is not None
            after = (last.expires_at, last.id)
            activity.heartbeat(result.expired_videos)

    async def _expire_undated(
        self,
        bucket: str,
        uploaded_before: datetime,
        kept_for: timedelta,
        result: ExpireUploadsResult,
    ) -> None:
        """Expire unsaved rows without an ``expires_at`` uploaded before ``uploaded_before``:
        their objects deleted, then the date they expired written, which marks them."""
        while True:
            async with session_scope(self._engine) as session:
                videos = (
                    await session.exec(
                        select(Video)
                        .where(
                            col(Video.saved).is_(False),
                            col(Video.expires_at).is_(None),
                            col(Video.uploaded_at) <= uploaded_before,
                        )
                        .limit(BATCH)
                    )
                ).all()
                if not videos:
                    return
                for video in videos:
                    result.deleted_objects += await self._delete_upload(bucket, video)
                    video.expires_at = video.uploaded_at + kept_for
                    session.add(video)
                await session.commit()
            result.expired_videos += len(videos)
            activity.heartbeat(result.expired_videos)

    @activity.defn(name=REMOVE_ORPHANED_PAYLOADS.name)
    async def remove_orphaned_payloads(
        self, params: RemoveOrphanedPayloadsInput
    ) -> RemoveOrphanedPayloadsResult:
        """Remove the payloads of analyses that no longer exist.

        Only analysis ids that could be rows (UUIDs) are judged: a run started without a row
        (the bench's stand-ins) is left to the payload bucket's own expiry rule, never cut off
        while it runs.
        """
        result = RemoveOrphanedPayloadsResult()
        if not await self._store.bucket_exists(params.payload_bucket):
            return result
        keys = await self._store.list_keys(params.payload_bucket, "")
        candidates: dict[uuid.UUID, str] = {}
        for analysis_id in payload_analysis_ids(params.namespace, keys):
            try:
                candidates[uuid.UUID(analysis_id)] = analysis_id
            except ValueError:
                continue
        ids = sorted(candidates)
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            async with session_scope(self._engine) as session:
                found = await session.exec(select(Analysis.id).where(col(Analysis.id).in_(batch)))
                existing = set(found.all())
            for orphan in (i for i in batch if i not in existing):
                for prefix in analysis_payload_prefixes(params.namespace, candidates[orphan]):
                    result.deleted_objects += await self._store.delete_prefix(
                        params.payload_bucket, prefix
                    )
                result.orphaned_analyses += 1
            activity.heartbeat(start + len(batch))
        return result
