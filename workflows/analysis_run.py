"""The analysis run's state and the ways the outside reaches it: the status Query, the hold
validation Update and its fire-and-forget Signal, the legacy-job and cancel Signals, and the helpers
the pipeline runs its steps through (status, GPU and CPU steps, events).

`VideoAnalysisWorkflow` (`workflows/video_analysis.py`) inherits these handlers and reads as the
pipeline; Temporal registers inherited handlers under the same names, so histories replay.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, CancelledError

from workflows.analysis_policies import DATABASE_OUTAGE_PATCH, LOCAL_BOOKKEEPING_PATCH
from workflows.analysis_steps import (
    BOOKKEEPING,
    DATABASE_STEPS,
    LegacyJobs,
    Progress,
    Stop,
    publish_event,
    run_cpu_step,
    run_database_step,
    start_gpu_step,
)
from workflows.hold_validation import HoldValidation, HoldValidationHandlers

with workflow.unsafe.imports_passed_through():
    from schema import names
    from schema.activities import (
        RECORD_ANALYSIS_STATUS,
        REQUEST_TRAINING_REGENERATION,
        ActivitySpec,
    )
    from schema.analysis import (
        CancelInput,
        LegacyJobInput,
        MetricsSummary,
        Stage,
        StartAnalysisInput,
        Status,
    )
    from schema.events import AnalysisEvent
    from schema.holds import HoldMap
    from schema.routes import AttachAnalysisInput, RouteHoldsInput, RouteHoldsReady
    from schema.steps import RecordStatusInput
    from schema.training import RegenerateProgramInput

InT = TypeVar("InT")
OutT = TypeVar("OutT")

#: Beyond the route's own validation deadline, how long an analysis waits for its answer.
ROUTE_WAIT_MARGIN: Final = timedelta(hours=1)


class AnalysisRun(HoldValidationHandlers):
    """State, handlers and step helpers of one analysis run (no ``@workflow.run`` here); the
    status Query and the hold validation Update and Signal come from `HoldValidationHandlers`."""

    def __init__(self, params: StartAnalysisInput) -> None:
        self._params = params
        self._progress = Progress()
        self._holds = HoldValidation()
        self._cancel_reason: str | None = None
        self._current: workflow.ActivityHandle[Any] | None = None
        self._metrics = MetricsSummary()
        self._hold_map: HoldMap | None = None
        self._jobs = LegacyJobs()
        #: The outcome of the route's own run, when this analysis waits on it.
        self._route_ready: RouteHoldsReady | None = None

    # --- Queries, Updates, Signals ---------------------------------------------------------------
    @workflow.signal(name=names.ATTACH_LEGACY_JOB_SIGNAL)
    async def attach_legacy_job(self, job: LegacyJobInput) -> None:
        """A legacy job asks for stages of this analysis: from now on their events carry its id.

        Sent with the start (signal-with-start) by the legacy ingress, so the first job is known
        before anything is published. A job that arrives after its stage is done (producers that
        wait for one stage's event before sending the next job) gets that event at once.
        """
        self._jobs.attach(job)
        # Answers for the job alone: the app was told by the run's own events.
        for stage in job.stages:
            if stage in self._jobs.completed:
                await self._publish(stage, "completed", job_id=job.job_id, for_app=False)
            elif self._progress.status in (Status.FAILED, Status.CANCELLED):
                await self._publish(
                    stage, "failed", self._progress.last_error, job_id=job.job_id, for_app=False
                )

    @workflow.signal(name=names.ROUTE_HOLDS_READY_SIGNAL)
    def route_holds_ready(self, ready: RouteHoldsReady) -> None:
        """The route's run this analysis waits on has ended: its stored map, or why none."""
        self._route_ready = ready

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

    # --- Helpers ---------------------------------------------------------------------------------
    async def _set_status(self, status: Status, stage: Stage) -> None:
        self._progress.status = status
        self._progress.enter(stage)
        self._progress.upsert()
        await self._cpu(
            RECORD_ANALYSIS_STATUS,
            RecordStatusInput(self._params.analysis_id, status, stage),
        )

    def _raise_if_cancelled(self) -> None:
        if self._cancel_reason is not None:
            raise Stop(self._cancel_reason, Status.CANCELLED)

    async def _gpu(self, stage: Stage, activity: ActivitySpec[InT, OutT], arg: InT) -> OutT:
        self._raise_if_cancelled()
        self._progress.enter(stage)
        handle = start_gpu_step(
            self._params, stage, activity, arg, subject=f"analysis {self._params.analysis_id}"
        )
        self._current = handle
        try:
            result: OutT = await handle
            return result
        except ActivityError as err:
            if isinstance(err.cause, CancelledError) and self._cancel_reason is not None:
                raise Stop(self._cancel_reason, Status.CANCELLED) from None
            raise
        finally:
            self._current = None

    async def _cpu(self, activity: ActivitySpec[InT, OutT], arg: InT) -> OutT:
        local = activity.name in BOOKKEEPING and self._local_bookkeeping()
        if local and activity.name in DATABASE_STEPS and self._outlasts_database_outage():
            return await run_database_step(
                self._params,
                activity,
                arg,
                outage_s=self._params.database_outage_s,
                progress=self._progress,
            )
        return await run_cpu_step(self._params, activity, arg, local=local)

    @staticmethod
    def _outlasts_database_outage() -> bool:
        """Whether this run's database steps outlast an outage (`run_database_step`); runs
        recorded before give up after ten local attempts."""
        return workflow.patched(DATABASE_OUTAGE_PATCH)

    @staticmethod
    def _local_bookkeeping() -> bool:
        """Whether this run's bookkeeping steps are local activities (`analysis_steps.BOOKKEEPING`
        says why each may be); runs recorded before schedule them on the CPU queue."""
        return workflow.patched(LOCAL_BOOKKEEPING_PATCH)

    async def _await_route_holds(self, workflow_id: str) -> HoldMap | None:
        """Wait for the route's own run (``workflow_id``), which detected the holds and waits
        for the climber, instead of detecting them again: its validated map, or None when it
        ended without one or had already ended (the analysis then detects the holds itself).

        The wait is bounded by the validation deadline and a margin: a run terminated by an
        operator never answers.
        """
        params = self._params
        await self._set_status(Status.AWAITING_HOLD_VALIDATION, Stage.HOLD_VALIDATION)
        try:
            await workflow.get_external_workflow_handle(workflow_id).signal(
                names.ATTACH_ANALYSIS_SIGNAL, AttachAnalysisInput(workflow.info().workflow_id)
            )
        except Exception as err:  # the route's run closed since the analysis was started
            workflow.logger.info("route holds run %s not reachable: %s", workflow_id, err)
            return None
        try:
            await workflow.wait_condition(
                lambda: self._route_ready is not None or self._cancel_reason is not None,
                timeout=timedelta(seconds=params.hold_validation_timeout_s) + ROUTE_WAIT_MARGIN,
            )
        except TimeoutError:
            workflow.logger.warning("route holds run %s never answered", workflow_id)
            return None
        self._raise_if_cancelled()
        ready = self._route_ready
        assert ready is not None
        if ready.hold_map is None:
            workflow.logger.info("route holds run ended without a map: %s", ready.reason)
        return ready.hold_map

    def _route_map_hand_over(self, accepted: HoldMap) -> RouteHoldsInput:
        """The route's run that stores ``accepted``: the one writer of the route's map."""
        params = self._params
        return RouteHoldsInput(
            route_id=params.route_id,
            user_id=params.user_id,
            bucket=params.bucket,
            photo_key=params.route_photo_key or "",
            tier=params.tier,
            gpu_task_queue=params.gpu_task_queue,
            cpu_task_queue=params.cpu_task_queue,
            gpu_schedule_to_start_s=params.gpu_schedule_to_start_s,
            accepted_hold_map=accepted,
        )

    async def _request_training_regeneration(self) -> None:
        """Ask for the climber's training program to be made again with this analysis in its
        history (`activities.regeneration` says why on completion rather than on a schedule).

        The analysis has succeeded whatever becomes of the request: a failure is logged for
        staff, never the run's.
        """
        params = self._params
        request = RegenerateProgramInput(
            params.user_id, params.analysis_id, params.bucket, params.cpu_task_queue
        )
        try:
            await self._cpu(REQUEST_TRAINING_REGENERATION, request)
        except ActivityError as err:
            workflow.logger.warning(
                "training program not regenerated after analysis %s: %s", params.analysis_id, err
            )

    async def _publish(
        self,
        stage: Stage,
        outcome: str,
        reason: str | None = None,
        *,
        job_id: str | None = None,
        status: Status | None = None,
        for_app: bool = True,
    ) -> None:
        """Publish the stage's outcome (``status``: the body's `analysis_status`, the run's own
        unless told; ``for_app``: `AnalysisEvent.for_app`)."""
        params = self._params
        if job_id is None:
            job_id = self._jobs.job_for(stage, params.analysis_id)
            if outcome == "completed":
                # Marked as the job id is chosen: a job attached from here on gets its own event.
                self._jobs.completed.add(stage)
        event = AnalysisEvent(
            job_id=job_id,
            analysis_id=params.analysis_id,
            user_id=params.user_id,
            stage=stage,
            outcome=outcome,
            status=self._progress.status if status is None else status,
            occurred_at=workflow.now().isoformat(),
            reason=reason,
            redrive=params.redrive,
            for_app=for_app,
        )
        await publish_event(params, event, local=self._local_bookkeeping())
