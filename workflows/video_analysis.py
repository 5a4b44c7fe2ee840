"""VideoAnalysisWorkflow: one durable run per climbing video.

Holds first (the route's validated map, or detection on the GPU queue and a wait for the climber's
correction), then skeleton → advice → ghost on the GPU queue, then persistence, the completion
event and cleanup on the CPU queue. Retries, timeouts and heartbeats replace the seeds' dead-letter
queues: a failure that no retry can fix is recorded, published as ``{stage}.failed.{job_id}`` and
then fails the workflow, so support staff see it as failed in the Web UI and can reset it.

This module reads as the pipeline. Its state, Query, Update and Signals (and the helpers each step
goes through) are inherited from `analysis_run`; policies and messages are in `analysis_policies`,
how a step is scheduled in `analysis_steps`, the wait for the climber in `hold_validation`.
Deterministic and light by construction: they import only data classes and names.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError, FailureError

from workflows.analysis_policies import (
    ANALYSIS_ID,
    CANCELLED_DURING_A_STEP_PATCH,
    HOLDS_AWAITED_BEFORE_ANNOUNCED_PATCH,
    ONE_ROUTE_MAP_WRITER_PATCH,
    REGENERATE_TRAINING_PATCH,
    USER_ID,
    WAIT_FOR_ROUTE_HOLDS_PATCH,
    duration,
    explain,
)
from workflows.analysis_run import AnalysisRun
from workflows.analysis_steps import Stop
from workflows.hold_validation import await_validation

with workflow.unsafe.imports_passed_through():
    from schema import names
    from schema.activities import (
        CLEANUP_UPLOAD,
        COMPUTE_GHOST,
        DETECT_HOLDS,
        EXTRACT_SKELETON,
        GENERATE_ADVICE,
        HAND_OVER_ROUTE_HOLDS,
        PERSIST_RESULTS,
        RECORD_ANALYSIS_STATUS,
        SAVE_ROUTE_HOLDS,
    )
    from schema.analysis import (
        AnalysisResult,
        Stage,
        StartAnalysisInput,
        Status,
    )
    from schema.holds import HoldMap
    from schema.steps import (
        AdviceInput,
        AdviceResult,
        CleanupUploadInput,
        DetectHoldsInput,
        DetectHoldsResult,
        ExtractSkeletonInput,
        GhostInput,
        GhostResult,
        PersistResultsInput,
        RecordStatusInput,
        SaveRouteHoldsInput,
        SkeletonResult,
    )


@workflow.defn(name=names.ANALYSIS_WORKFLOW)
class VideoAnalysisWorkflow(AnalysisRun):
    @workflow.init
    def __init__(self, params: StartAnalysisInput) -> None:
        super().__init__(params)

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
        except Stop as stop:
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
            reason = explain(err, self._progress.stage, self._params.gpu_schedule_to_start_s)
            status = Status.FAILED
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
        if params.route_holds_workflow_id and workflow.patched(WAIT_FOR_ROUTE_HOLDS_PATCH):
            route_map = await self._await_route_holds(params.route_holds_workflow_id)
            if route_map is not None:
                return route_map, False
            await self._set_status(Status.PROCESSING, Stage.HOLD_DETECTION)
        if not params.route_photo_key:
            raise Stop(
                "this route has no photo and no hold map; photograph the wall first", Status.FAILED
            )
        detection: DetectHoldsResult = await self._gpu(
            Stage.HOLD_DETECTION,
            DETECT_HOLDS,
            DetectHoldsInput(params.analysis_id, params.bucket, params.route_photo_key),
        )
        holds = self._holds
        holds.detected = detection.hold_map

        async def announce() -> None:
            # The event's `analysis_status` stays the documented one whichever comes first.
            await self._publish(Stage.HOLD_DETECTION, "completed", status=Status.PROCESSING)

        # The holds are announced once the run, its row and its deadline await the climber, so
        # a correction sent on the event is taken; runs recorded before announced them first.
        awaited_first = workflow.patched(HOLDS_AWAITED_BEFORE_ANNOUNCED_PATCH)
        if not awaited_first:
            await announce()
        used_detected = await await_validation(
            holds,
            timedelta(seconds=params.hold_validation_timeout_s),
            params.on_validation_timeout,
            waiting=lambda: self._set_status(
                Status.AWAITING_HOLD_VALIDATION, Stage.HOLD_VALIDATION
            ),
            cancelled=lambda: self._cancel_reason is not None,
            announce=announce if awaited_first else None,
        )
        self._raise_if_cancelled()
        holds.deadline = None
        assert holds.accepted is not None
        await self._set_status(Status.PROCESSING, Stage.HOLD_VALIDATION)
        if workflow.patched(ONE_ROUTE_MAP_WRITER_PATCH):
            await self._cpu(HAND_OVER_ROUTE_HOLDS, self._route_map_hand_over(holds.accepted))
        else:
            await self._cpu(
                SAVE_ROUTE_HOLDS,
                SaveRouteHoldsInput(params.route_id, holds.accepted, params.user_id),
            )
        return holds.accepted, used_detected

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
                thumbnail_key=names.thumbnail_key(params.video_id),
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
                video_key=params.video_key,
                thumbnail_key=names.thumbnail_key(params.video_id),
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
        self._progress.enter(Stage.ANALYSIS)
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
        self._progress.status = Status.COMPLETED
        self._progress.percent = 100.0
        self._progress.upsert()
        await self._publish(Stage.ANALYSIS, "completed")
        if workflow.patched(REGENERATE_TRAINING_PATCH):
            await self._request_training_regeneration()
        await self._cleanup()
        await workflow.wait_condition(workflow.all_handlers_finished)

    async def _end_cancelled(self) -> None:
        """Record and publish a cancellation requested through Temporal."""
        if self._progress.status == Status.COMPLETED:  # cancelled after the results were persisted
            return
        reason = workflow.cancellation_reason() or self._cancel_reason
        await self._record_end(reason or "the analysis was cancelled", Status.CANCELLED)

    async def _record_end(self, reason: str, status: Status) -> None:
        """Record the unsuccessful end, publish ``{stage}.failed`` and clean up the upload.

        The event names a stage of the documented contract: an end while the holds await the
        climber (``hold_validation``, which the contract does not have) is the analysis'
        (``analysis.failed``). The body's ``analysis_status`` tells a cancel from a failure.
        """
        progress = self._progress
        failed_stage = progress.stage
        event_stage = Stage.ANALYSIS if failed_stage == Stage.HOLD_VALIDATION else failed_stage
        progress.last_error = reason
        progress.status = status
        self._holds.deadline = None
        progress.upsert()
        not_recorded: str | None = None
        try:
            await self._cpu(
                RECORD_ANALYSIS_STATUS,
                RecordStatusInput(self._params.analysis_id, status, failed_stage, reason),
            )
        except ActivityError as err:
            if not self._outlasts_database_outage():
                raise
            # The database stayed away past the run's whole outage window (or refused the
            # row): the event does not need the row, so consumers still hear of the end, and
            # the run then fails saying what was not recorded.
            cause = err.cause
            not_recorded = cause.message if isinstance(cause, FailureError) else str(err)
            workflow.logger.error(
                "analysis %s: its end (%s) was not recorded: %s",
                self._params.analysis_id,
                status.value,
                not_recorded,
            )
        await self._publish(event_stage, "failed", reason)
        # Legacy jobs waiting for a later stage would otherwise wait forever.
        jobs = self._jobs
        answered = {jobs.job_for(event_stage, self._params.analysis_id)}
        for stage, job_id in list(jobs.job_ids.items()):  # a signal may add one meanwhile
            if stage not in jobs.completed and job_id not in answered:
                answered.add(job_id)
                await self._publish(stage, "failed", reason, job_id=job_id)
        await self._cleanup()
        await workflow.wait_condition(workflow.all_handlers_finished)
        if not_recorded is not None:
            raise ApplicationError(
                f"the analysis ended ({status.value}: {reason}) and its event was published, "
                "but the analysis row could not be updated within "
                f"{duration(timedelta(seconds=self._params.database_outage_s))}: "
                f"{not_recorded}. Reading the analysis marks its row failed.",
                type=names.ANALYSIS_END_NOT_RECORDED,
                non_retryable=True,
            )

    async def _cleanup(self) -> None:
        if self._params.keep_video:
            return
        await self._cpu(
            CLEANUP_UPLOAD,
            CleanupUploadInput(self._params.bucket, self._params.video_key),
        )
