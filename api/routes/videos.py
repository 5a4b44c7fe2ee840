"""The climber's videos: read, save (keep beyond the 7-day upload window), delete with all data."""

from __future__ import annotations

import logging
import uuid

from fastapi import APIRouter, Request, status
from sqlalchemy import delete
from sqlmodel import col, select
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.service import RPCError, RPCStatusCode

from api.deps import CurrentUser, Principal, Resources, Session
from api.errors import ApiError, not_found, responses
from api.pinned import analysed_video_key
from api.resources import ApiResources
from api.thumbnails import thumbnail_url
from core.payloads import analysis_payload_prefixes
from core.storage import ObjectNotFound
from schema import names
from schema.models import Analysis, AnalysisEventRecord, AnalysisMetrics, Video, VideoPublic

log = logging.getLogger("ascension.api")
router = APIRouter(prefix="/videos", tags=["videos"])


class VideoDetail(VideoPublic):
    #: A presigned GET (1 h) of the video's thumbnail JPEG; null until an analysis made it.
    thumbnail_url: str | None = None


async def _own_video(session: Session, principal: Principal, video_id: uuid.UUID) -> Video:
    video = await session.get(Video, video_id)
    if video is None or video.user_id != principal.user_id:
        raise not_found("this video")
    return video


async def _detail(request: Request, resources: ApiResources, video: Video) -> VideoDetail:
    url = await thumbnail_url(request, resources, video.id)
    return VideoDetail.model_validate(video, update={"thumbnail_url": url})


@router.get("/{video_id}", response_model=VideoDetail, responses=responses(401, 404, 422))
async def get_video(
    video_id: uuid.UUID,
    principal: CurrentUser,
    session: Session,
    request: Request,
    resources: Resources,
) -> VideoDetail:
    return await _detail(request, resources, await _own_video(session, principal, video_id))


@router.post(
    "/{video_id}/save", response_model=VideoDetail, responses=responses(401, 404, 409, 422)
)
async def save_video(
    video_id: uuid.UUID,
    principal: CurrentUser,
    resources: Resources,
    session: Session,
    request: Request,
) -> VideoDetail:
    """Keep the video: it is copied to ``saved/`` (server-side) and no longer expires.

    The upload itself is left for the store's 7-day rule, so an analysis still reading it is
    never disturbed.
    """
    video = await _own_video(session, principal, video_id)
    if video.saved:
        return await _detail(request, resources, video)
    saved_key = names.saved_key(str(video.user_id), str(video.id))
    bucket = resources.settings.bucket
    # What the latest analysis read (its copy, taken at its start), not whatever a replayed
    # upload URL put there since.
    source = video.storage_url
    latest = (
        await session.exec(
            select(Analysis)
            .where(Analysis.video_id == video.id)
            .order_by(col(Analysis.created_at).desc())
        )
    ).first()
    if latest is not None and await resources.store.exists(
        bucket, analysed_video_key(video, latest)
    ):
        source = analysed_video_key(video, latest)
    try:
        await resources.store.copy(bucket, source, saved_key)
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
    return await _detail(request, resources, video)


@router.delete(
    "/{video_id}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(401, 404, 422, 503)
)
async def delete_video(
    video_id: uuid.UUID, principal: CurrentUser, resources: Resources, session: Session
) -> None:
    """Delete the video, its analyses and everything they stored.

    That is the upload, the saved copy and the analyses' copies of it; their result documents;
    the Temporal payloads kept in the payload bucket (hold maps, workflow inputs); and the
    analyses' workflow executions, whose histories hold the climber's height and weight (a
    running analysis is terminated). Temporal goes first: when it cannot be reached nothing
    is deleted and the climber can try again.
    """
    video = await _own_video(session, principal, video_id)
    analyses = list(
        (await session.exec(select(Analysis).where(Analysis.video_id == video.id))).all()
    )
    settings = resources.settings
    if analyses:
        await _delete_workflow_executions(resources, [str(a.id) for a in analyses])
    store = resources.store
    payloads = await store.bucket_exists(settings.payload_bucket)
    for analysis in analyses:
        await store.delete_prefix(settings.bucket, names.analysis_prefix(str(analysis.id)))
        if payloads:
            for prefix in analysis_payload_prefixes(settings.temporal_namespace, str(analysis.id)):
                await store.delete_prefix(settings.payload_bucket, prefix)
        resources.results.discard(names.result_key(str(analysis.id), "result"))
    await store.delete_prefix(
        settings.bucket, names.pinned_video_prefix(str(video.user_id), str(video.id))
    )
    for key in {
        video.storage_url,
        names.upload_key(str(video.user_id), str(video.id)),
        names.saved_key(str(video.user_id), str(video.id)),
        names.thumbnail_key(str(video.id)),
    }:
        await store.delete(settings.bucket, key)
    ids = [a.id for a in analyses]
    if ids:
        await session.exec(delete(AnalysisMetrics).where(col(AnalysisMetrics.analysis_id).in_(ids)))
        await session.exec(
            delete(AnalysisEventRecord).where(col(AnalysisEventRecord.analysis_id).in_(ids))
        )
        await session.exec(delete(Analysis).where(col(Analysis.id).in_(ids)))
    await session.delete(video)
    await session.commit()


async def _delete_workflow_executions(resources: Resources, analysis_ids: list[str]) -> None:
    """DeleteWorkflowExecution for every run of each analysis (a reset from the Web UI adds
    runs under the same workflow id); the server terminates running ones and deletes them in
    the background."""
    try:
        client = await resources.temporal.client()
        for analysis_id in analysis_ids:
            workflow_id = names.analysis_workflow_id(analysis_id)
            runs = {""}  # the latest run, even before visibility lists it
            query = f"WorkflowId = '{workflow_id}'"
            runs.update([run.run_id async for run in client.list_workflows(query)])
            for run_id in sorted(runs, reverse=True):
                request = DeleteWorkflowExecutionRequest(
                    namespace=client.namespace,
                    workflow_execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
                )
                try:
                    await client.workflow_service.delete_workflow_execution(request)
                except RPCError as err:
                    if err.status != RPCStatusCode.NOT_FOUND:
                        raise
    except Exception as exc:
        log.warning("could not delete the workflow runs of %s: %s", analysis_ids, exc)
        raise ApiError(
            503, "unavailable", "the video could not be deleted right now; try again in a minute"
        ) from None
