"""One owner of an analysis's lifecycle: its workflow input, its start, its run's state, and
support's redrive of a failed one (`retry_analysis`).

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

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import (
    Priority,
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from core.run_history import run_inputs
from core.settings import Settings
from core.storage import ObjectStore
from schema import names
from schema.analysis import (
    AnalysisOptions,
    AnalysisProgress,
    AnalysisResult,
    LegacyJobInput,
    Morphology,
    Stage,
    StartAnalysisInput,
    Status,
    ValidateHoldsInput,
)
from schema.events import AnalysisEvent
from schema.holds import HoldMap, hold_map_from_dict
from schema.models import Analysis, Route, User

#: An analysis's workflow is still going: progress comes from it, and it can be cancelled.
RUNNING: Final = frozenset({Status.PENDING, Status.PROCESSING, Status.AWAITING_HOLD_VALIDATION})
#: An analysis has ended; nothing about it changes any more.
FINISHED: Final = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELLED})

AnalysisHandle = WorkflowHandle[Any, AnalysisResult]

_ANALYSIS_ID = SearchAttributeKey.for_keyword(names.ANALYSIS_ID_ATTRIBUTE)
_USER_ID = SearchAttributeKey.for_keyword(names.USER_ID_ATTRIBUTE)
_ANALYSIS_STAGE = SearchAttributeKey.for_keyword(names.ANALYSIS_STAGE_ATTRIBUTE)

log = logging.getLogger(__name__)


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
    redrive: bool = False,
) -> AnalysisHandle:
    """Start the analysis's run, or attach to it while it is going.

    A run of the same analysis that has already closed is refused
    (`temporalio.exceptions.WorkflowAlreadyStartedError`) unless ``start_again_if_closed``: the
    API's repeated start of an analysis still pending (its run closed without recording
    anything, e.g. terminated) starts it again. ``legacy_job`` is sent with the start
    (signal-with-start), so the run knows the job's id before it publishes anything.
    ``redrive`` (`retry_analysis`) starts a new run only if the latest one failed, was
    terminated or timed out, and never attaches: the server refuses a second one meanwhile.
    """
    if redrive:
        conflict, reuse = (
            WorkflowIDConflictPolicy.FAIL,
            WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        )
    elif start_again_if_closed:
        conflict, reuse = (
            WorkflowIDConflictPolicy.USE_EXISTING,
            WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        )
    else:
        conflict, reuse = (
            WorkflowIDConflictPolicy.USE_EXISTING,
            WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    return await client.start_workflow(
        names.ANALYSIS_WORKFLOW,
        params,
        id=names.analysis_workflow_id(params.analysis_id),
        task_queue=params.cpu_task_queue,
        result_type=AnalysisResult,
        id_conflict_policy=conflict,
        id_reuse_policy=reuse,
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


# --- Redrive ---------------------------------------------------------------------------------
#: How a run ends that support may redrive: it failed (a step that no retry could fix, an
#: expired validation), or an operator or the server ended it (terminated, timed out).
REDRIVABLE_RUN_ENDS: Final = frozenset(
    {
        WorkflowExecutionStatus.FAILED,
        WorkflowExecutionStatus.TERMINATED,
        WorkflowExecutionStatus.TIMED_OUT,
    }
)


#: Memo key of a redriven run: the id of the run it redrives.
REDRIVE_OF_MEMO: Final = "redrive_of_run"


class UnknownAnalysis(LookupError):
    """No analysis has this id."""


class RetryRefused(Exception):
    """The analysis cannot be redriven; ``code`` is stable for API clients and scripts."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


async def retry_analysis(
    client: Client,
    session: AsyncSession,
    analysis_id: uuid.UUID,
    *,
    store: ObjectStore | None = None,
) -> AnalysisHandle:
    """Redrive a failed (or terminated, or timed-out) analysis: a new run under the same
    workflow id with the failed run's own inputs, the row marked pending again first.

    A new run rather than a reset of the old one: it needs no replay of the old history by
    today's code (the very code a redrive often follows a fix of), works wherever the run
    ended (before its first step, during the validation wait, after a termination), and the
    Web UI shows both runs under one id. The input comes from the old run's history, with the
    hold map it had accepted, so the climber is not asked again; the price is that GPU steps
    the old run had finished run again (a reset would have kept them). The new run counts one
    more ``redrive``, so its events are new ones (`schema.events.AnalysisEvent.message_id`).

    Raises:
        UnknownAnalysis: no analysis has this id.
        RetryRefused: it is not failed, its run is gone or still going, its video is gone
            (with ``store``), or another redrive got there first.
    """
    analysis = await session.get(Analysis, analysis_id)
    if analysis is None:
        raise UnknownAnalysis(str(analysis_id))
    if analysis.status in (Status.COMPLETED, Status.CANCELLED):
        raise RetryRefused(
            "not_failed", f"the analysis is {analysis.status.value}; only a failed one is retried"
        )
    handle = analysis_handle(client, str(analysis_id))
    try:
        described = await handle.describe()
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        raise RetryRefused(
            "run_not_found",
            "Temporal no longer has this analysis's run (past the namespace's retention); "
            "the climber has to start a new analysis",
        ) from None
    if described.status not in REDRIVABLE_RUN_ENDS:
        state = described.status.name.lower() if described.status else "unknown"
        raise RetryRefused(
            "not_failed", f"the analysis's run is {state}; only a failed one is retried"
        )
    inputs = await run_inputs(client.data_converter, await handle.fetch_history())
    params = replace(
        inputs.params,
        route_hold_map=inputs.accepted_hold_map or inputs.params.route_hold_map,
        redrive=inputs.params.redrive + 1,
    )
    if store is not None and not await store.exists(params.bucket, params.video_key):
        raise RetryRefused(
            "video_gone", f"the video this analysis read ({params.video_key}) no longer exists"
        )
    before = {
        "status": analysis.status,
        "stage": analysis.stage,
        "failure_reason": analysis.failure_reason,
        "completed_at": analysis.completed_at,
    }
    # Compare-and-set on updated_at: of two redrives at once, one marks the row and starts.
    marked = await _update_analysis(
        session,
        analysis_id,
        analysis.updated_at,
        status=Status.PENDING,
        stage=None,
        failure_reason=None,
        completed_at=None,
    )
    if marked is None:
        raise RetryRefused("retry_in_progress", "this analysis is being retried already")
    try:
        # The old run's memo (which legacy job started it) stays readable in the Web UI, with
        # the run this one redrives.
        memo = {**(await described.memo()), REDRIVE_OF_MEMO: described.run_id}
        return await start_or_attach(client, params, redrive=True, memo=memo)
    except BaseException as error:
        # Nothing started: the row says what it said before, and the caller learns why.
        await _update_analysis(session, analysis_id, marked, **before)
        if isinstance(error, WorkflowAlreadyStartedError):
            raise RetryRefused(
                "retry_in_progress", "a new run of this analysis has started already"
            ) from None
        raise


# --- Reconcile -------------------------------------------------------------------------------
#: How a run can end without its own failure bookkeeping having run, and what the climber reads
#: then. A terminated or timed-out run executes no more workflow code; a cancelled or failed one
#: normally records its end, so its row is only left behind when that recording itself failed.
CLOSED_RUN_REASONS: Final[dict[WorkflowExecutionStatus, str]] = {
    WorkflowExecutionStatus.TERMINATED: (
        "This analysis was stopped by our support team before it finished. Please start it again."
    ),
    WorkflowExecutionStatus.TIMED_OUT: (
        "This analysis took too long and was stopped before it finished. Please start it again."
    ),
    WorkflowExecutionStatus.CANCELED: (
        "This analysis was cancelled before it finished. "
        "Start it again if you still want the results."
    ),
    WorkflowExecutionStatus.FAILED: (
        "This analysis stopped because of a problem on our side. Please start it again."
    ),
}
#: Memo key the legacy ingress sets on the runs it starts: the job whose id the events carry.
LEGACY_JOB_MEMO: Final = "legacy_job_id"
#: How long a read waits for Temporal before answering with the row as it is.
RECONCILE_TIMEOUT: Final = timedelta(seconds=2)

PublishEvent = Callable[[AnalysisEvent], Awaitable[object]]


async def reconcile_with_run(
    client: Client,
    session: AsyncSession,
    analysis: Analysis,
    *,
    publish: PublishEvent | None = None,
    timeout: timedelta = RECONCILE_TIMEOUT,
) -> Analysis:
    """The analysis, marked failed when its row still says it runs but its run has closed
    without saying so (terminated or timed out by support or the server; cancelled or failed
    with its own bookkeeping lost).

    Reads call this: the row is the projection the app shows, and a run that stopped executing
    workflow code never updates it. Cheap: a finished row costs nothing, a running one a single
    DescribeWorkflowExecution. Temporal unreachable (or slow past ``timeout``) leaves the row as
    it is, with a warning. A row written after the run closed (a redrive or a repeated start
    marked it meanwhile) is left to its new run.

    ``publish`` sends the ``{stage}.failed.{job_id}`` event every failed analysis publishes, so
    consumers waiting on the analysis hear of its end: once, by the read that marked the row
    (compare-and-set), under the message id the run itself would have used. A publish that
    fails puts the row back as it was, for the next read to try again.
    """
    if analysis.status not in RUNNING:
        return analysis
    handle = analysis_handle(client, str(analysis.id))
    try:
        described = await asyncio.wait_for(
            handle.describe(rpc_timeout=timeout), timeout.total_seconds()
        )
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            log.warning("analysis %s: run not described (%s); row kept", analysis.id, error)
        return analysis
    except Exception as error:
        log.warning("analysis %s: run not described (%r); row kept", analysis.id, error)
        return analysis
    run_status = described.status
    reason = CLOSED_RUN_REASONS.get(run_status) if run_status is not None else None
    if run_status is None or reason is None:
        return analysis
    closed_at = described.close_time or datetime.now(UTC)
    updated_at = analysis.updated_at
    if updated_at.tzinfo is None:
        updated_at = updated_at.replace(tzinfo=UTC)
    if updated_at > closed_at:
        return analysis
    stage = _stage_of(described.typed_search_attributes.get(_ANALYSIS_STAGE), analysis.stage)
    event: AnalysisEvent | None = None
    if publish is not None:
        try:
            memo = await described.memo()
            event = AnalysisEvent(
                job_id=str(memo.get(LEGACY_JOB_MEMO) or analysis.id),
                analysis_id=str(analysis.id),
                user_id=str(analysis.user_id),
                # As the run publishes it: an end during the validation wait is the analysis's.
                stage=Stage.ANALYSIS if stage == Stage.HOLD_VALIDATION else stage,
                outcome="failed",
                status=Status.FAILED,
                occurred_at=closed_at.isoformat(),
                reason=reason,
                redrive=await _redrive_of(client, handle, memo),
            )
        except Exception as error:
            log.warning("analysis %s: run not read (%r); row kept", analysis.id, error)
            return analysis
    before = {
        "status": analysis.status,
        "stage": analysis.stage,
        "failure_reason": analysis.failure_reason,
        "completed_at": analysis.completed_at,
        "updated_at": analysis.updated_at,
    }
    # Compare-and-set on updated_at: of two reads at once, one marks the row and publishes.
    marked = await _update_analysis(
        session,
        analysis.id,
        analysis.updated_at,
        status=Status.FAILED,
        stage=stage.value,
        failure_reason=reason,
        completed_at=closed_at,
    )
    if marked is not None and event is not None and publish is not None:
        try:
            # After the row, as the run itself does: a consumer that reads it on the event
            # finds it failed.
            await publish(event)
        except Exception as error:
            log.warning(
                "analysis %s: its run is %s but its failure event was not sent (%r); row kept",
                analysis.id,
                run_status.name,
                error,
            )
            # As it was, its stamp included (older than the run's close), so the next read
            # tries again.
            await _update_analysis(session, analysis.id, marked, **before)
            marked = None
    if marked is not None:
        log.info(
            "analysis %s marked failed: its run %s is %s",
            analysis.id,
            described.run_id,
            run_status.name,
        )
    await session.refresh(analysis)
    return analysis


def _stage_of(live: str | None, recorded: str | None) -> Stage:
    """The stage the run was in: its search attribute (kept up to date at every stage), else
    the row's (which moves only with the status), else the analysis as a whole."""
    for value in (live, recorded):
        if value in set(Stage):
            return Stage(value)
    return Stage.ANALYSIS


async def _redrive_of(client: Client, handle: AnalysisHandle, memo: Mapping[str, Any]) -> int:
    """The run's `StartAnalysisInput.redrive`, read from its start only for a redriven run
    (whose memo says so): its events must not be taken for copies of the first run's."""
    if REDRIVE_OF_MEMO not in memo:
        return 0
    async for event in handle.fetch_history_events(page_size=1):
        started = event.workflow_execution_started_event_attributes
        [params] = await client.data_converter.decode_wrapper(started.input, [StartAnalysisInput])
        return int(params.redrive)
    return 0


async def _update_analysis(
    session: AsyncSession, analysis_id: uuid.UUID, expected: datetime, **values: Any
) -> datetime | None:
    """Set ``values`` if the row's ``updated_at`` is still ``expected``; the new stamp (now,
    unless ``values`` sets it), or None when someone changed the row meanwhile."""
    now = values.pop("updated_at", None) or datetime.now(UTC)
    statement = (
        update(Analysis)
        .where(col(Analysis.id) == analysis_id, col(Analysis.updated_at) == expected)
        .values(updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    result = await session.exec(statement)
    await session.commit()
    return now if result.rowcount == 1 else None
