"""The copy of an upload an analysis reads, taken when it starts (issue 14, finding 6).

The presigned PUT stays valid for 15 minutes and can be replayed; an analysis reads its own
server-side copy, which no client can write, so a later PUT never changes what it analyses.
Saving a video keeps the copy the latest analysis read.
"""

from __future__ import annotations

from api.errors import ApiError
from api.resources import ApiResources
from core.storage import ObjectNotFound
from schema import names
from schema.models import Analysis, Video


def analysed_video_key(video: Video, analysis: Analysis) -> str:
    """The object the analysis reads: its own copy of an upload (`names.pinned_video_key`), or
    the saved video, which no client can write."""
    if video.storage_url.startswith(names.UPLOADS_PREFIX):
        return names.pinned_video_key(str(video.user_id), str(video.id), str(analysis.id))
    return video.storage_url


async def pin_video(resources: ApiResources, video: Video, analysis: Analysis) -> None:
    """Copy the upload, server-side, to the key only this analysis reads.

    The presigned PUT can be replayed until it expires; whatever arrives after this copy is
    never analysed. The copy is one object version as the store had it at this moment.
    """
    target = analysed_video_key(video, analysis)
    if target == video.storage_url:
        return
    try:
        await resources.store.copy(resources.settings.bucket, video.storage_url, target)
    except ObjectNotFound:
        raise ApiError(
            409,
            "video_not_uploaded",
            "the video has not arrived yet: PUT it to the upload URL first "
            "(or it expired after 7 days unsaved)",
        ) from None
