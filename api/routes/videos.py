"""The climber's videos: read, save (keep beyond the 7-day upload window), delete with all data."""

from __future__ import annotations

import contextlib
import uuid

from fastapi import APIRouter, status
from sqlalchemy import delete
from sqlmodel import col, select

from api.deps import CurrentUser, Principal, Resources, Session
from api.errors import ApiError, not_found, responses
from api.routes.analyses import RUNNING
from ascension.storage import ObjectNotFound
from schema import names
from schema.analysis import CancelInput
from schema.models import Analysis, AnalysisEventRecord, AnalysisMetrics, Video, VideoPublic
from workflows.video_analysis import VideoAnalysisWorkflow

router = APIRouter(prefix="/videos", tags=["videos"])


async def _own_video(session: Session, principal: Principal, video_id: uuid.UUID) -> Video:
    video = await session.get(Video, video_id)
    if video is None or video.user_id != principal.user_id:
        raise not_found("this video")
    return video


@router.get("/{video_id}", response_model=VideoPublic, responses=responses(401, 404, 422))
async def get_video(video_id: uuid.UUID, principal: CurrentUser, session: Session) -> VideoPublic:
    return VideoPublic.model_validate(await _own_video(session, principal, video_id))


@router.post(
    "/{video_id}/save", response_model=VideoPublic, responses=responses(401, 404, 409, 422)
)
async def save_video(
    video_id: uuid.UUID, principal: CurrentUser, resources: Resources, session: Session
) -> VideoPublic:
    """Keep the video: it is copied to ``saved/`` (server-side) and no longer expires.

    The upload itself is left for the store's 7-day rule, so an analysis still reading it is
    never disturbed.
    """
    video = await _own_video(session, principal, video_id)
    if video.saved:
        return VideoPublic.model_validate(video)
    saved_key = names.saved_key(str(video.user_id), str(video.id))
    try:
        await resources.store.copy(resources.settings.bucket, video.storage_url, saved_key)
    except ObjectNotFound:
        raise ApiError(
            409,
            "video_not_available",
            "there is no upload to save: it never arrived or expired after 7 days",
        ) from None
    video.storage_url = saved_key
    video.saved = True
    video.expires_at = None
    session.add(video)
    await session.commit()
    return VideoPublic.model_validate(video)


@router.delete(
    "/{video_id}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(401, 404, 422)
)
async def delete_video(
    video_id: uuid.UUID, principal: CurrentUser, resources: Resources, session: Session
) -> None:
    """Delete the video, its analyses and every stored result; running analyses are cancelled."""
    video = await _own_video(session, principal, video_id)
    analyses = list(
        (await session.exec(select(Analysis).where(Analysis.video_id == video.id))).all()
    )
    bucket = resources.settings.bucket
    for analysis in analyses:
        if analysis.status in RUNNING:
            client = await resources.temporal.client()
            handle = client.get_workflow_handle(names.analysis_workflow_id(str(analysis.id)))
            with contextlib.suppress(Exception):  # it may have just ended
                await handle.signal(VideoAnalysisWorkflow.cancel, CancelInput("video deleted"))
        await resources.store.delete_prefix(bucket, f"analyses/{analysis.id}/")
        resources.results.discard(names.result_key(str(analysis.id), "result"))
    for key in {
        video.storage_url,
        names.upload_key(str(video.user_id), str(video.id)),
        names.saved_key(str(video.user_id), str(video.id)),
    }:
        await resources.store.delete(bucket, key)
    ids = [a.id for a in analyses]
    if ids:
        await session.exec(delete(AnalysisMetrics).where(col(AnalysisMetrics.analysis_id).in_(ids)))
        await session.exec(
            delete(AnalysisEventRecord).where(col(AnalysisEventRecord.analysis_id).in_(ids))
        )
        await session.exec(delete(Analysis).where(col(Analysis.id).in_(ids)))
    await session.delete(video)
    await session.commit()
