"""RouteHoldsWorkflow: a route's wall photo, its holds detected and validated before any video.

Seed 000 starts with the wall: the climber photographs the route, hold detection classifies the
holds, the climber validates them, and only then uploads a climb. This run detects on the GPU
queue (the analysis's own `DETECT_HOLDS` step, policies and timeouts), publishes
``hold_detection.completed.{job_id}``, waits for the climber's correction through the same status
Query, ``validate_holds`` Update and ``submit_holds`` Signal as the analysis
(`workflows.hold_validation`), then stores the validated map on the route, where every later
video's analysis finds it and skips detection and validation.

A detection no retry fixes publishes ``hold_detection.failed.{job_id}`` and fails the run; a
Temporal cancel ends it without storing anything.

Each request is answered under its own id: a legacy ``vision.hold_detection`` job that finds the
run already going (started by the API or another job) attaches with the `attach_legacy_job`
Signal (sent with the start) and gets its own ``hold_detection.completed.{job_id}``, at once if
the holds are already out. A video's analysis on the route waits here instead of detecting again
(`attach_analysis`); every waiting analysis is told the outcome (`route_holds_ready`).

This run is the only writer of ``routes.hold_map``: an analysis that detected and validated its
own holds hands its map over (``accepted_hold_map``), and this run stores it.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import NoReturn

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.analysis_policies import HOLDS_AWAITED_BEFORE_ANNOUNCED_PATCH, explain
from workflows.analysis_steps import (
    Progress,
    Stop,
    publish_event,
    run_cpu_step,
    start_gpu_step,
)
from workflows.hold_validation import HoldValidation, HoldValidationHandlers, await_validation

with workflow.unsafe.imports_passed_through():
    from schema import names
    from schema.activities import DETECT_HOLDS, SAVE_ROUTE_HOLDS
    from schema.analysis import LegacyJobInput, Stage, Status
    from schema.events import AnalysisEvent
    from schema.holds import HoldMap
    from schema.routes import (
        AttachAnalysisInput,
        RouteHoldsInput,
        RouteHoldsReady,
        RouteHoldsResult,
    )
    from schema.steps import DetectHoldsInput, DetectHoldsResult, SaveRouteHoldsInput


@workflow.defn(name=names.ROUTE_HOLDS_WORKFLOW)
class RouteHoldsWorkflow(HoldValidationHandlers):
    @workflow.init
    def __init__(self, params: RouteHoldsInput) -> None:
        self._params = params
        # Status and stage for the Query only: a route has no analysis row or search attributes.
        self._progress = Progress()
        self._holds = HoldValidation()
        #: Legacy jobs attached after the start, each owed its own event.
        self._jobs: list[str] = []
        #: The detection's published outcome ("completed"/"failed", reason), once it is out.
        self._outcome: tuple[str, str | None] | None = None
        #: Analyses waiting for the map (workflow ids), and what they are told at the end.
        self._waiters: list[str] = []
        self._ready: RouteHoldsReady | None = None

    @workflow.run
    async def run(self, params: RouteHoldsInput) -> RouteHoldsResult:
        try:
            return await self._run(params)
        except asyncio.CancelledError:
            await self._tell_waiters(None, "the route's hold detection was cancelled")
            raise

    async def _run(self, params: RouteHoldsInput) -> RouteHoldsResult:
        progress, holds = self._progress, self._holds
        progress.status = Status.PROCESSING
        if params.accepted_hold_map is not None:
            # Validated in a video's analysis: stored here, by the route's one writer.
            holds.accepted = params.accepted_hold_map
            return await self._store(params, holds.accepted, used_detected=False, answer=True)
        try:
            detection: DetectHoldsResult = await start_gpu_step(
                params,
                Stage.HOLD_DETECTION,
                DETECT_HOLDS,
                DetectHoldsInput(params.route_id, params.bucket, params.photo_key),
                subject=f"route {params.route_id}",
            )
        except ActivityError as err:
            reason = explain(err, Stage.HOLD_DETECTION, params.gpu_schedule_to_start_s)
            await self._fail(reason, publish=True)
        holds.detected = detection.hold_map

        async def waiting() -> None:
            progress.status = Status.AWAITING_HOLD_VALIDATION
            progress.stage = Stage.HOLD_VALIDATION

        async def announce() -> None:
            # The event's `analysis_status` stays the documented one whichever comes first.
            await self._publish_outcome("completed", status=Status.PROCESSING)

        # The holds are announced once the run awaits the climber, so a correction sent on the
        # event is taken; runs recorded before announced them first.
        awaited_first = workflow.patched(HOLDS_AWAITED_BEFORE_ANNOUNCED_PATCH)
        if not awaited_first:
            await announce()
        try:
            used_detected = await await_validation(
                holds,
                timedelta(seconds=params.hold_validation_timeout_s),
                params.on_validation_timeout,
                waiting=waiting,
                cancelled=lambda: False,  # a Temporal cancel interrupts the wait itself
                expired="the route keeps no hold map",
                announce=announce if awaited_first else None,
            )
        except Stop as stop:
            # ``hold_detection.completed`` is already out: the expiry is the run's own failure.
            await self._fail(stop.reason, publish=False)
        holds.deadline = None
        accepted = holds.accepted
        assert accepted is not None
        return await self._store(params, accepted, used_detected=used_detected)

    async def _store(
        self,
        params: RouteHoldsInput,
        accepted: HoldMap,
        *,
        used_detected: bool,
        answer: bool = False,
    ) -> RouteHoldsResult:
        """Store the map; with ``answer`` (a run that detected nothing), legacy jobs that
        attached meanwhile are answered now, the route's holds being ready."""
        progress = self._progress
        progress.status = Status.PROCESSING
        await run_cpu_step(
            params,
            SAVE_ROUTE_HOLDS,
            SaveRouteHoldsInput(params.route_id, accepted, params.user_id),
        )
        progress.status = Status.COMPLETED
        progress.percent = 100.0
        if answer:
            self._outcome = ("completed", None)
            for job_id in list(self._jobs):
                # The app was told of this map by the analysis that detected it.
                await self._publish("completed", None, job_id=job_id, for_app=False)
        await self._tell_waiters(accepted, None)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return RouteHoldsResult(
            route_id=params.route_id,
            status=Status.COMPLETED,
            hold_count=len(accepted.holds),
            used_detected_holds_after_deadline=used_detected,
        )

    # --- Who else this run answers ----------------------------------------------------------
    @workflow.signal(name=names.ATTACH_LEGACY_JOB_SIGNAL)
    async def attach_legacy_job(self, job: LegacyJobInput) -> None:
        """A legacy ``vision.hold_detection`` job asks for this route's holds: its own event,
        now if the detection's outcome is already out. Sent with the start by the ingress, so
        a job that starts the run (its id is the input's) is not answered twice."""
        if job.job_id == self._primary_job or job.job_id in self._jobs:
            return
        self._jobs.append(job.job_id)
        # Shown in the Web UI, and read by the ingress: a redelivered job whose run has closed
        # was answered and starts nothing new.
        workflow.upsert_memo({names.LEGACY_JOB_IDS_MEMO: list(self._jobs)})
        if self._outcome is not None:
            outcome, reason = self._outcome
            await self._publish(outcome, reason, job_id=job.job_id, for_app=False)

    @workflow.signal(name=names.ATTACH_ANALYSIS_SIGNAL)
    async def attach_analysis(self, request: AttachAnalysisInput) -> None:
        """A video's analysis waits for this route's map instead of detecting again."""
        if self._ready is not None:
            await self._tell(request.workflow_id, self._ready)
        elif request.workflow_id not in self._waiters:
            self._waiters.append(request.workflow_id)

    @property
    def _primary_job(self) -> str:
        return self._params.job_id or self._params.route_id

    async def _publish_outcome(
        self, outcome: str, reason: str | None = None, *, status: Status | None = None
    ) -> None:
        """The detection's outcome, once per job: the run's own, then every attached one (a
        job attached from here on is answered by its signal).

        Only the run's own event reaches the app (its one ``holds_detected`` frame for this
        map); an attached job's is its answer on the broker alone (`AnalysisEvent.for_app`).
        """
        self._outcome = (outcome, reason)
        attached = list(self._jobs)  # a job attached from here on is answered by its signal
        await self._publish(outcome, reason, job_id=self._primary_job, status=status)
        for job_id in attached:
            await self._publish(outcome, reason, job_id=job_id, status=status, for_app=False)

    async def _tell_waiters(self, hold_map: HoldMap | None, reason: str | None) -> None:
        self._ready = RouteHoldsReady(self._params.route_id, hold_map, reason)
        for workflow_id in list(self._waiters):
            await self._tell(workflow_id, self._ready)

    async def _tell(self, workflow_id: str, ready: RouteHoldsReady) -> None:
        try:
            await workflow.get_external_workflow_handle(workflow_id).signal(
                names.ROUTE_HOLDS_READY_SIGNAL, ready
            )
        except Exception as err:  # the analysis ended meanwhile: nobody left to tell
            workflow.logger.info("analysis %s not told of route holds: %s", workflow_id, err)

    async def _fail(self, reason: str, *, publish: bool) -> NoReturn:
        self._progress.status = Status.FAILED
        self._progress.last_error = reason
        self._holds.deadline = None
        if publish:
            await self._publish_outcome("failed", reason)
        await self._tell_waiters(None, reason)
        await workflow.wait_condition(workflow.all_handlers_finished)
        raise ApplicationError(reason, type=names.ROUTE_HOLDS_FAILED, non_retryable=True)

    async def _publish(
        self,
        outcome: str,
        reason: str | None,
        *,
        job_id: str,
        status: Status | None = None,
        for_app: bool = True,
    ) -> None:
        params = self._params
        event = AnalysisEvent(
            job_id=job_id,
            analysis_id=params.route_id,
            user_id=params.user_id,
            stage=Stage.HOLD_DETECTION,
            outcome=outcome,
            status=self._progress.status if status is None else status,
            occurred_at=workflow.now().isoformat(),
            reason=reason,
            for_app=for_app,
        )
        await publish_event(params, event)
