"""One owner of an analysis's lifecycle: its workflow input, its start, and its run's state.

Four processes start analyses: the API, the legacy ingress, `ascension demo`/`analyze` and the
bench. They all come here, so every run is found under `names.analysis_workflow_id`, works on the
task queues and bucket of the process's settings, runs at its tier's priority, carries the search
attributes support staff filter on from its first moment, and a repeated start attaches to the
run that is going instead of starting a second one. The running and finished status sets are
defined here once, for the routes, the WebSocket hub and the ingress.

The workflow is named by the strings of `schema.names`, under which it declares itself: the
ground floor must not import `workflows`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final

from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    Priority,
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)

from core.settings import Settings
from schema import names
from schema.analysis import (
    AnalysisOptions,
    AnalysisProgress,
    AnalysisResult,
    LegacyJobInput,
    Morphology,
    StartAnalysisInput,
    Status,
    ValidateHoldsInput,
)
from schema.holds import HoldMap, hold_map_from_dict
from schema.models import Analysis, Route, User

#: An analysis's workflow is still going: progress comes from it, and it can be cancelled.
RUNNING: Final = frozenset({Status.PENDING, Status.PROCESSING, Status.AWAITING_HOLD_VALIDATION})
#: An analysis has ended; nothing about it changes any more.
FINISHED: Final = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELLED})

AnalysisHandle = WorkflowHandle[Any, AnalysisResult]

_ANALYSIS_ID = SearchAttributeKey.for_keyword(names.ANALYSIS_ID_ATTRIBUTE)
_USER_ID = SearchAttributeKey.for_keyword(names.USER_ID_ATTRIBUTE)


def analysis_input(
    analysis: Analysis,
    user: User,
    route: Route,
    settings: Settings,
    *,
    video_key: str,
    morphology: Morphology | None = None,
) -> StartAnalysisInput:
    """The workflow input for an analysis recorded in the database.

    ``video_key`` is the object the analysis reads (the API's pinned copy of an upload, or the
    video where the legacy job says it is). The route's validated map, when it has one, spares
    the hold detection.
    """
    return StartAnalysisInput(
        analysis_id=str(analysis.id),
        user_id=str(user.id),
        video_id=str(analysis.video_id),
        video_key=video_key,
        route_id=str(route.id),
        bucket=settings.bucket,
        tier=user.subscription_tier,
        route_photo_key=route.photo_key,
        route_hold_map=hold_map_from_dict(route.hold_map) if route.hold_map else None,
        options=AnalysisOptions(ghost=analysis.ghost_requested),
        morphology=morphology or Morphology(),
        gpu_task_queue=settings.gpu_task_queue,
        cpu_task_queue=settings.cpu_task_queue,
        # Uploads stay for the seed's 7 days (a store lifecycle rule deletes them), so the
        # climber can still save the video after seeing the analysis.
        keep_video=True,
    )


async def start_or_attach(
    client: Client,
    params: StartAnalysisInput,
    *,
    start_again_if_closed: bool = False,
    legacy_job: LegacyJobInput | None = None,
    memo: Mapping[str, Any] | None = None,
    rpc_timeout: timedelta | None = None,
) -> AnalysisHandle:
    """Start the analysis's run, or attach to it while it is going.

    A run of the same analysis that has already closed is refused
    (`temporalio.exceptions.WorkflowAlreadyStartedError`) unless ``start_again_if_closed``: the
    API's repeated start of an analysis still pending (its run closed without recording
    anything, e.g. terminated) starts it again. ``legacy_job`` is sent with the start
    (signal-with-start), so the run knows the job's id before it publishes anything.
    """
    return await client.start_workflow(
        names.ANALYSIS_WORKFLOW,
        params,
        id=names.analysis_workflow_id(params.analysis_id),
        task_queue=params.cpu_task_queue,
        result_type=AnalysisResult,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=(
            WorkflowIDReusePolicy.ALLOW_DUPLICATE
            if start_again_if_closed
            else WorkflowIDReusePolicy.REJECT_DUPLICATE
        ),
        priority=Priority(priority_key=params.tier.priority_key),
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(_ANALYSIS_ID, params.analysis_id),
                SearchAttributePair(_USER_ID, params.user_id),
            ]
        ),
        start_signal=names.ATTACH_LEGACY_JOB_SIGNAL if legacy_job else None,
        start_signal_args=[legacy_job] if legacy_job else [],
        memo=memo,
        rpc_timeout=rpc_timeout,
    )


def analysis_handle(client: Client, analysis_id: str) -> AnalysisHandle:
    """The analysis's run (the latest one under its workflow id)."""
    return client.get_workflow_handle(
        names.analysis_workflow_id(analysis_id), result_type=AnalysisResult
    )


async def query_status(
    handle: WorkflowHandle[Any, Any], *, rpc_timeout: timedelta | None = None
) -> AnalysisProgress:
    """The run's `status` Query: status, stage, percent at the stage's start, the detected map
    while it awaits validation (`api.progress` refines the percent from heartbeats)."""
    return await handle.query(
        names.STATUS_QUERY, result_type=AnalysisProgress, rpc_timeout=rpc_timeout
    )


async def submit_hold_map(handle: WorkflowHandle[Any, Any], hold_map: HoldMap) -> HoldMap:
    """The climber's corrected map, through the `validate_holds` Update: the accepted map, or
    `temporalio.client.WorkflowUpdateFailedError` naming every problem."""
    return await handle.execute_update(
        names.VALIDATE_HOLDS_UPDATE, ValidateHoldsInput(hold_map), result_type=HoldMap
    )
