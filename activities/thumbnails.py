"""The video's thumbnail, written by the GPU steps that already hold what it needs.

No activity of its own: each would cost the workflow a round trip and, for the climb's frame, a
second download of the video on a second worker. Instead the skeleton step, which has the video
on disk, writes the middle frame before any skeleton exists (`write_middle_thumbnail`), and the
advice step, which segments the climb, replaces it with the climb's best-seen frame
(`write_climb_thumbnail`), fetching the video while the advice engines run.

A thumbnail is for the app's list: when one cannot be made (an unreadable frame, a store
hiccup) the reason is logged and the analysis goes on with whatever thumbnail exists.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from core.storage import ObjectStore
from schema.steps import ThumbnailChoice

if TYPE_CHECKING:
    from engines.pose.timeline import SkeletonTimeline

log = logging.getLogger("ascension.activities.thumbnails")


async def _store_thumbnail(
    store: ObjectStore, bucket: str, key: str, video: Path, time_s: float, source: str
) -> ThumbnailChoice:
    from engines.pose.thumbnail import render_thumbnail

    thumbnail = await asyncio.to_thread(render_thumbnail, video, time_s, source)
    await store.put_bytes(bucket, key, thumbnail.jpeg, content_type="image/jpeg")
    return ThumbnailChoice(key=key, time_s=thumbnail.time_s, source=thumbnail.source)


async def write_middle_thumbnail(
    store: ObjectStore, bucket: str, key: str, video: Path
) -> ThumbnailChoice | None:
    """The middle frame of the downloaded ``video`` as the thumbnail; None if it failed."""
    from engines.pose.thumbnail import middle_frame_time

    try:
        time_s = await asyncio.to_thread(middle_frame_time, video)
        return await _store_thumbnail(store, bucket, key, video, time_s, "middle")
    except Exception as exc:
        log.warning("no thumbnail from the middle frame: %s", exc)
        return None


class ClimbThumbnail:
    """The climb's frame as the thumbnail: the video is fetched as soon as this is started,
    so the download overlaps the advice engines; `write` then renders the chosen frame."""

    def __init__(self, store: ObjectStore, bucket: str, video_key: str, key: str) -> None:
        self._store = store
        self._bucket = bucket
        self._key = key
        self._folder = tempfile.TemporaryDirectory(prefix="ascension-thumbnail-")
        self._video = Path(self._folder.name) / "video"
        self._download = asyncio.ensure_future(store.download_file(bucket, video_key, self._video))

    async def write(
        self, timeline: SkeletonTimeline, start_s: float, end_s: float
    ) -> ThumbnailChoice | None:
        """Write the frame of ``[start_s, end_s]`` where the body is best seen; None (and the
        middle frame stays) when the climb has no posed frame or the video is gone."""
        from engines.pose.thumbnail import climb_frame_time

        try:
            time_s = climb_frame_time(timeline, start_s, end_s)
            if time_s is None:
                log.info("no posed frame in the climb; the thumbnail stays the middle frame")
                return None
            await self._download
            return await _store_thumbnail(
                self._store, self._bucket, self._key, self._video, time_s, "climb"
            )
        except Exception as exc:
            log.warning("no thumbnail from the climb: %s", exc)
            return None

    async def close(self) -> None:
        if not self._download.done():
            self._download.cancel()
        await asyncio.gather(self._download, return_exceptions=True)
        await asyncio.to_thread(self._folder.cleanup)
