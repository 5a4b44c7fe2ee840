"""VideoAnalysisWorkflow: one durable run per climbing video.

Holds first (the route's validated map, or detection on the GPU queue and a wait for the climber's
correction), then skeleton → advice → ghost on the GPU queue, then persistence, the completion
event and cleanup on the CPU queue. Retries, timeouts and heartbeats replace the seeds' dead-letter
queues: a failure that no retry can fix is recorded, published as ``{stage}.failed.{job_id}`` and
then fails the workflow, so support staff see it as failed in the Web UI and can reset it.

Deterministic and light by construction: this module imports only data classes and names.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import Priority, RetryPolicy, SearchAttributeKey
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    FailureError,
    TimeoutType,
)
from temporalio.exceptions import (
    TimeoutError as ActivityTimeoutError,
)

with workflow.unsafe.imports_passed_through():
    from schema import names
    from schema.activities import (
        CLEANUP_UPLOAD,
        COMPUTE_GHOST,
        DETECT_HOLDS,
        EXTRACT_SKELETON,
        GENERATE_ADVICE,
        PERSIST_RESULTS,
        PUBLISH_EVENT,
        RECORD_ANALYSIS_STATUS,
        SAVE_ROUTE_HOLDS,
        ActivitySpec,
    )
    from schema.analysis import (
        AdviceInput,
        AdviceResult,
        AnalysisEvent,
        AnalysisProgress,
        AnalysisResult,
        CancelInput,
        CleanupUploadInput,
        DetectHoldsInput,
        DetectHoldsResult,
        ExtractSkeletonInput,
        GhostInput,
        GhostResult,
        LegacyJobInput,
        MetricsSummary,
        PersistResultsInput,
        RecordStatusInput,
        SaveRouteHoldsInput,
        SkeletonResult,
        Stage,
        StartAnalysisInput,
        Status,
        ValidateHoldsInput,
        ValidationTimeoutPolicy,
    )
    from schema.holds import HoldMap, hold_map_problems

InT = TypeVar("InT")
OutT = TypeVar("OutT")

ANALYSIS_ID = SearchAttributeKey.for_keyword(names.ANALYSIS_ID_ATTRIBUTE)
USER_ID = SearchAttributeKey.for_keyword(names.USER_ID_ATTRIBUTE)
ANALYSIS_STATUS = SearchAttributeKey.for_keyword(names.ANALYSIS_STATUS_ATTRIBUTE)
ANALYSIS_STAGE = SearchAttributeKey.for_keyword(names.ANALYSIS_STAGE_ATTRIBUTE)

# --- Activity policies --------------------------------------------------------------------------
#: Bounded retries with backoff; bad input is excluded because no retry can fix it.
GPU_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=4,
    non_retryable_error_types=list(names.BAD_INPUT_ERRORS),
)
#: Long steps heartbeat; a worker that dies is noticed within this and the step moves on.
HEARTBEAT = timedelta(seconds=30)
STAGE_START_TO_CLOSE = {
    Stage.HOLD_DETECTION: timedelta(minutes=2),
    Stage.SKELETON: timedelta(minutes=20),
    Stage.ADVICE: timedelta(minutes=5),
    Stage.GHOST: timedelta(minutes=10),
}
CPU_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=10,
)
#: Events must outlast a broker outage: retry (unbounded attempts) for up to a day.
EVENT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)
EVENT_SCHEDULE_TO_CLOSE = timedelta(days=1)

#: Percent done when each stage starts, for the app's progress bar.
STAGE_PERCENT = {
    Stage.HOLD_DETECTION: 0.0,
    Stage.HOLD_VALIDATION: 10.0,
    Stage.SKELETON: 15.0,
    Stage.ADVICE: 60.0,
    Stage.GHOST: 75.0,
    Stage.ANALYSIS: 95.0,
}
STAGE_LABEL = {
    Stage.HOLD_DETECTION: "hold detection",
    Stage.HOLD_VALIDATION: "hold validation",
    Stage.SKELETON: "skeleton extraction",
    Stage.ADVICE: "coaching advice",
    Stage.GHOST: "ghost climber",
    Stage.ANALYSIS: "analysis",
}
#: `workflow.patched` id: a cancellation requested through Temporal while an activity runs ends
#: the run as Canceled (runs recorded before it failed with the cancelled step).
CANCELLED_DURING_A_STEP_PATCH = "cancelled-during-a-step-ends-canceled"


class _Stop(Exception):
    """Internal: leave the pipeline with a user-readable reason and a final status."""

    def __init__(self, reason: str, status: Status) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@workflow.defn(name=names.ANALYSIS_WORKFLOW)
class VideoAnalysisWorkflow:
    @workflow.init
    def __init__(self, params: StartAnalysisInput) -> None:
        self._params = params
        self._status = Status.PENDING
        self._stage = Stage.HOLD_DETECTION
        self._percent = 0.0
        self._detected: HoldMap | None = None
        self._accepted: HoldMap | None = None
        self._deadline: str | None = None
        self._last_error: str | None = None
        self._cancel_reason: str | None = None
        self._current: workflow.ActivityHandle[Any] | None = None
        self._metrics = MetricsSummary()
        self._hold_map: HoldMap | None = None
        # Legacy jobs answered by this run: their ids become the events' job ids.
        self._first_job: str | None = None
        self._job_ids: dict[Stage, str] = {}
        self._completed: set[Stage] = set()

    # --- Queries, Updates, Signals ---------------------------------------------------------------
    @workflow.query(name=names.STATUS_QUERY)
    def status(self) -> AnalysisProgress:
        return AnalysisProgress(
            status=self._status,
            stage=self._stage,
            percent=self._percent,
            holds_awaiting_validation=(
                self._detected if self._status == Status.AWAITING_HOLD_VALIDATION else None
            ),
            validation_deadline=self._deadline,
            last_error=self._last_error,
        )

    @workflow.update(name=names.VALIDATE_HOLDS_UPDATE)
    async def validate_holds(self, update: ValidateHoldsInput) -> HoldMap:
        """Accept the climber's corrected map; the validator has already checked it."""
        self._accepted = update.hold_map
        return update.hold_map

    @validate_holds.validator
    def _reject_bad_hold_map(self, update: ValidateHoldsInput) -> None:
        # Validators reject synchronously without touching history or state: the climber gets
        # the message at once and the workflow keeps waiting for a good map.
        problem = self._hold_map_problem(update.hold_map)
        if problem:
            raise ApplicationError(problem, type=names.INVALID_HOLD_MAP, non_retryable=True)

    @workflow.signal
    def submit_holds(self, update: ValidateHoldsInput) -> None:
        """Fire-and-forget form of `validate_holds` for clients that cannot wait for an answer."""
        problem = self._hold_map_problem(update.hold_map)
        if problem:
            # A bad signal must never crash the run: record it where the app and staff see it.
            workflow.logger.warning("rejected hold map from signal: %s", problem)
            self._last_error = problem
            return
        self._last_error = None
        self._accepted = update.hold_map

    @workflow.signal(name=names.ATTACH_LEGACY_JOB_SIGNAL)
    async def attach_legacy_job(self, job: LegacyJobInput) -> None:
        """A legacy job asks for stages of this analysis: from now on their events carry its id.

        Sent with the start (signal-with-start) by the legacy ingress, so the first job is known
        before anything is published. A job that arrives after its stage is done (producers that
        wait for one stage's event before sending the next job) gets that event at once.
        """
        if self._first_job is None:
            self._first_job = job.job_id
        for stage in job.stages:
            self._job_ids[stage] = job.job_id
        for stage in job.stages:
            if stage in self._completed:
                await self._publish(stage, "completed", job_id=job.job_id)
            elif self._status in (Status.FAILED, Status.CANCELLED):
                await self._publish(stage, "failed", self._last_error, job_id=job.job_id)

    @workflow.signal
    def cancel(self, request: CancelInput) -> None:
        """Stop the analysis: the running activity is cancelled and the upload cleaned up.

        Kept for older clients; the run then ends Completed with the status ``cancelled``. The
        API cancels through Temporal instead (``WorkflowHandle.cancel`` with the reason), which
        records and publishes the same way and ends the run as Canceled in the Web UI.
        """
        if self._cancel_reason is None:
            self._cancel_reason = request.reason
            if self._current is not None:
                self._current.cancel()

    def _hold_map_problem(self, hold_map: HoldMap) -> str | None:
        if self._status != Status.AWAITING_HOLD_VALIDATION or self._accepted is not None:
            return f"the holds are not awaiting validation (analysis is {self._status.value})"
        problems = hold_map_problems(hold_map, self._detected)
        return "; ".join(problems) if problems else None

    # --- The pipeline ----------------------------------------------------------------------------
    @workflow.run
    async def run(self, params: StartAnalysisInput) -> AnalysisResult:
        started = workflow.now()
        workflow.upsert_search_attributes(
            [ANALYSIS_ID.value_set(params.analysis_id), USER_ID.value_set(params.user_id)]
        )
        try:
            await self._set_status(Status.PROCESSING, Stage.HOLD_DETECTION)
            hold_map, used_detected = await self._resolve_holds()
            result = await self._analyse(hold_map, used_detected)
            elapsed_ms = int((workflow.now() - started).total_seconds() * 1000)
            await self._finish(result, elapsed_ms)
            return result
        except _Stop as stop:
            reason, status = stop.reason, stop.status
        except ActivityError as err:
            if (
                isinstance(err.cause, CancelledError)
                and workflow.cancellation_reason() is not None
                and workflow.patched(CANCELLED_DURING_A_STEP_PATCH)
            ):
                # Cancelled through Temporal while a step ran: the step's cancellation is the
                # run's, not a failure of the step.
                await self._end_cancelled()
                raise asyncio.CancelledError(workflow.cancellation_reason()) from None
            reason, status = self._explain(err), Status.FAILED
        except asyncio.CancelledError:
            # Cancelled through Temporal (the API's cancel, the Web UI): record, publish and
            # clean up, then let the run end as Canceled.
            await self._end_cancelled()
            raise
        await self._record_end(reason, status)
        if status == Status.CANCELLED:
            # The climber's own cancel is an ordinary end, not a failure for support to chase.
            return AnalysisResult(self._params.analysis_id, Status.CANCELLED, hold_count=0)
        # Fail the run so it shows as failed in the Web UI, where staff can reset it.
        raise ApplicationError(reason, type=names.ANALYSIS_FAILED, non_retryable=True)

    async def _resolve_holds(self) -> tuple[HoldMap, bool]:
        """The route's validated map, or detection plus the climber's validation."""
        params = self._params
        if params.route_hold_map is not None:
            return params.route_hold_map, False
        if not params.route_photo_key:
            raise _Stop(
                "this route has no photo and no hold map; photograph the wall first", Status.FAILED
            )
        detection: DetectHoldsResult = await self._gpu(
            Stage.HOLD_DETECTION,
            DETECT_HOLDS,
            DetectHoldsInput(params.analysis_id, params.bucket, params.route_photo_key),
        )
        self._detected = detection.hold_map
        await self._publish(Stage.HOLD_DETECTION, "completed")

        timeout = timedelta(seconds=params.hold_validation_timeout_s)
        self._deadline = (workflow.now() + timeout).isoformat()
        await self._set_status(Status.AWAITING_HOLD_VALIDATION, Stage.HOLD_VALIDATION)
        used_detected = False
        try:
            await workflow.wait_condition(
                lambda: self._accepted is not None or self._cancel_reason is not None,
                timeout=timeout,
            )
        except TimeoutError:  # the deadline passed without a valid map
            if params.on_validation_timeout == ValidationTimeoutPolicy.EXPIRE:
                raise _Stop(
                    f"the holds were not validated within {_duration(timeout)}; "
                    "the analysis expired",
                    Status.FAILED,
                ) from None
            workflow.logger.info("hold validation deadline passed; using the detected map")
            self._accepted = self._detected
            used_detected = True
        self._raise_if_cancelled()
        self._deadline = None
        assert self._accepted is not None
        await self._set_status(Status.PROCESSING, Stage.HOLD_VALIDATION)
        await self._cpu(
            SAVE_ROUTE_HOLDS,
            SaveRouteHoldsInput(params.route_id, self._accepted, params.user_id),
        )
        return self._accepted, used_detected

    async def _analyse(self, hold_map: HoldMap, used_detected: bool) -> AnalysisResult:
        self._hold_map = hold_map
        params = self._params
        skeleton: SkeletonResult = await self._gpu(
            Stage.SKELETON,
            EXTRACT_SKELETON,
            ExtractSkeletonInput(
                params.analysis_id,
                params.bucket,
                params.video_key,
                names.result_key(params.analysis_id, "skeleton"),
                params.options.max_fps,
            ),
        )
        await self._publish(Stage.SKELETON, "completed")

        advice: AdviceResult = await self._gpu(
            Stage.ADVICE,
            GENERATE_ADVICE,
            AdviceInput(
                params.analysis_id,
                params.bucket,
                skeleton.skeleton_key,
                hold_map,
                params.morphology,
                names.result_key(params.analysis_id, "advice"),
            ),
        )
        self._metrics = advice.metrics
        await self._publish(Stage.ADVICE, "completed")

        ghost_key: str | None = None
        ghost_plan_key: str | None = None
        ghost_skipped: str | None = None
        if params.tier.includes_ghost and params.options.ghost:
            ghost: GhostResult = await self._gpu(
                Stage.GHOST,
                COMPUTE_GHOST,
                GhostInput(
                    params.analysis_id,
                    params.bucket,
                    skeleton.skeleton_key,
                    hold_map,
                    params.morphology,
                    names.result_key(params.analysis_id, "ghost"),
                    advice.climb,
                ),
            )
            ghost_key, ghost_skipped = ghost.ghost_key, ghost.skipped_reason
            ghost_plan_key = ghost.plan_key
            # A ghost skipped because no route fits the climber's reach still ends the stage.
            await self._publish(Stage.GHOST, "completed")

        return AnalysisResult(
            analysis_id=params.analysis_id,
            status=Status.COMPLETED,
            skeleton_key=skeleton.skeleton_key,
            advice_key=advice.advice_key,
            ghost_key=ghost_key,
            hold_count=len(hold_map.holds),
            used_detected_holds_after_deadline=used_detected,
            ghost_skipped_reason=ghost_skipped,
            result_key=names.result_key(params.analysis_id, "result"),
            ghost_plan_key=ghost_plan_key,
        )

    async def _finish(self, result: AnalysisResult, elapsed_ms: int) -> None:
        self._enter(Stage.ANALYSIS)
        metrics = self._metrics
        if metrics.hold_count is None:
            metrics.hold_count = result.hold_count
        await self._cpu(
            PERSIST_RESULTS,
            PersistResultsInput(
                self._params.analysis_id,
                result,
                metrics,
                elapsed_ms,
                bucket=self._params.bucket,
                hold_map=self._hold_map,
            ),
        )
        self._status = Status.COMPLETED
        self._percent = 100.0
        self._upsert_status()
        await self._publish(Stage.ANALYSIS, "completed")
        await self._cleanup()
        await workflow.wait_condition(workflow.all_handlers_finished)

    async def _end_cancelled(self) -> None:
        """Record and publish a cancellation requested through Temporal."""
        if self._status == Status.COMPLETED:  # cancelled after the results were persisted
            return
        reason = workflow.cancellation_reason() or self._cancel_reason
        await self._record_end(reason or "the analysis was cancelled", Status.CANCELLED)

    async def _record_end(self, reason: str, status: Status) -> None:
        """Record the unsuccessful end, publish ``{stage}.failed`` and clean up the upload.

        The event names a stage of the documented contract: an end while the holds await the
        climber (``hold_validation``, which the contract does not have) is the analysis'
        (``analysis.failed``). The body's ``analysis_status`` tells a cancel from a failure.
        """
        failed_stage = self._stage
        event_stage = Stage.ANALYSIS if failed_stage == Stage.HOLD_VALIDATION else failed_stage
        self._last_error = reason
        self._status = status
        self._deadline = None
        self._upsert_status()
        await self._cpu(
            RECORD_ANALYSIS_STATUS,
            RecordStatusInput(self._params.analysis_id, status, failed_stage, reason),
        )
        await self._publish(event_stage, "failed", reason)
        # Legacy jobs waiting for a later stage would otherwise wait forever.
        answered = {self._job_for(event_stage)}
        for stage, job_id in list(self._job_ids.items()):  # a signal may add one meanwhile
            if stage not in self._completed and job_id not in answered:
                answered.add(job_id)
                await self._publish(stage, "failed", reason, job_id=job_id)
        await self._cleanup()
        await workflow.wait_condition(workflow.all_handlers_finished)

    async def _cleanup(self) -> None:
        if self._params.keep_video:
            return
        await self._cpu(
            CLEANUP_UPLOAD,
            CleanupUploadInput(self._params.bucket, self._params.video_key),
        )

    # --- Helpers ---------------------------------------------------------------------------------
    def _enter(self, stage: Stage) -> None:
        self._stage = stage
        self._percent = STAGE_PERCENT[stage]
        workflow.upsert_search_attributes([ANALYSIS_STAGE.value_set(stage.value)])

    def _upsert_status(self) -> None:
        workflow.upsert_search_attributes(
            [
                ANALYSIS_STATUS.value_set(self._status.value),
                ANALYSIS_STAGE.value_set(self._stage.value),
            ]
        )

    async def _set_status(self, status: Status, stage: Stage) -> None:
        self._status = status
        self._enter(stage)
        self._upsert_status()
        await self._cpu(
            RECORD_ANALYSIS_STATUS,
            RecordStatusInput(self._params.analysis_id, status, stage),
        )

    def _raise_if_cancelled(self) -> None:
        if self._cancel_reason is not None:
            raise _Stop(self._cancel_reason, Status.CANCELLED)

    async def _gpu(self, stage: Stage, activity: ActivitySpec[InT, OutT], arg: InT) -> OutT:
        self._raise_if_cancelled()
        self._enter(stage)
        handle = workflow.start_activity(
            activity.name,
            arg,
            result_type=activity.result_type,
            task_queue=self._params.gpu_task_queue,
            # No GPU worker polling for this long fails the analysis with a clear status rather
            # than leaving the climber waiting. Schedule-to-start timeouts are never retried.
            schedule_to_start_timeout=timedelta(seconds=self._params.gpu_schedule_to_start_s),
            start_to_close_timeout=STAGE_START_TO_CLOSE[stage],
            heartbeat_timeout=HEARTBEAT if stage != Stage.HOLD_DETECTION else None,
            retry_policy=GPU_RETRY,
            priority=Priority(priority_key=self._params.tier.priority_key),
            summary=f"{STAGE_LABEL[stage]} for analysis {self._params.analysis_id}",
        )
        self._current = handle
        try:
            result: OutT = await handle
            return result
        except ActivityError as err:
            if isinstance(err.cause, CancelledError) and self._cancel_reason is not None:
                raise _Stop(self._cancel_reason, Status.CANCELLED) from None
            raise
        finally:
            self._current = None

    async def _cpu(self, activity: ActivitySpec[InT, OutT], arg: InT) -> OutT:
        result: OutT = await workflow.execute_activity(
            activity.name,
            arg,
            result_type=activity.result_type,
            task_queue=self._params.cpu_task_queue,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=CPU_RETRY,
        )
        return result

    def _job_for(self, stage: Stage) -> str:
        return self._job_ids.get(stage) or self._first_job or self._params.analysis_id

    async def _publish(
        self, stage: Stage, outcome: str, reason: str | None = None, *, job_id: str | None = None
    ) -> None:
        params = self._params
        if job_id is None:
            job_id = self._job_for(stage)
            if outcome == "completed":
                # Marked as the job id is chosen: a job attached from here on gets its own event.
                self._completed.add(stage)
        event = AnalysisEvent(
            job_id=job_id,
            analysis_id=params.analysis_id,
            user_id=params.user_id,
            stage=stage,
            outcome=outcome,
            status=self._status,
            occurred_at=workflow.now().isoformat(),
            reason=reason,
        )
        await workflow.execute_activity(
            PUBLISH_EVENT.name,
            _typed(PUBLISH_EVENT, event),
            task_queue=params.cpu_task_queue,
            start_to_close_timeout=timedelta(seconds=30),
            schedule_to_close_timeout=EVENT_SCHEDULE_TO_CLOSE,
            retry_policy=EVENT_RETRY,
        )

    def _explain(self, err: ActivityError) -> str:
        """A message the climber understands, from the activity failure Temporal reports."""
        label = STAGE_LABEL[self._stage]
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type in names.BAD_INPUT_ERRORS:
            return cause.message
        if isinstance(cause, ActivityTimeoutError):
            if cause.type == TimeoutType.SCHEDULE_TO_START:
                waited = timedelta(seconds=self._params.gpu_schedule_to_start_s)
                return (
                    f"no analysis server picked up the {label} step within {_duration(waited)}; "
                    "please try again later"
                )
            return f"the {label} step took too long and was stopped"
        message = cause.message if isinstance(cause, FailureError) else str(err)
        return f"the {label} step failed after several attempts: {message}"


def _duration(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def _typed(activity: ActivitySpec[InT, OutT], arg: InT) -> InT:
    """``arg``, checked by mypy against what ``activity`` takes."""
    return arg
