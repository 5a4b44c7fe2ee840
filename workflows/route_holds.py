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
"""

from __future__ import annotations

from datetime import timedelta
from typing import NoReturn

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.analysis_policies import explain
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
    from schema.analysis import Stage, Status
    from schema.events import AnalysisEvent
    from schema.routes import RouteHoldsInput, RouteHoldsResult
    from schema.steps import DetectHoldsInput, DetectHoldsResult, SaveRouteHoldsInput


@workflow.defn(name=names.ROUTE_HOLDS_WORKFLOW)
class RouteHoldsWorkflow(HoldValidationHandlers):
    @workflow.init
    def __init__(self, params: RouteHoldsInput) -> None:
        self._params = params
        # Status and stage for the Query only: a route has no analysis row or search attributes.
        self._progress = Progress()
        self._holds = HoldValidation()

    @workflow.run
    async def run(self, params: RouteHoldsInput) -> RouteHoldsResult:
        progress, holds = self._progress, self._holds
        progress.status = Status.PROCESSING
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
        await self._publish("completed")

        async def waiting() -> None:
            progress.status = Status.AWAITING_HOLD_VALIDATION
            progress.stage = Stage.HOLD_VALIDATION

        try:
            used_detected = await await_validation(
                holds,
                timedelta(seconds=params.hold_validation_timeout_s),
                params.on_validation_timeout,
                waiting=waiting,
                cancelled=lambda: False,  # a Temporal cancel interrupts the wait itself
                expired="the route keeps no hold map",
            )
        except Stop as stop:
            # ``hold_detection.completed`` is already out: the expiry is the run's own failure.
            await self._fail(stop.reason, publish=False)
        holds.deadline = None
        accepted = holds.accepted
        assert accepted is not None
        progress.status = Status.PROCESSING
        await run_cpu_step(
            params,
            SAVE_ROUTE_HOLDS,
            SaveRouteHoldsInput(params.route_id, accepted, params.user_id),
        )
        progress.status = Status.COMPLETED
        progress.percent = 100.0
        await workflow.wait_condition(workflow.all_handlers_finished)
        return RouteHoldsResult(
            route_id=params.route_id,
            status=Status.COMPLETED,
            hold_count=len(accepted.holds),
            used_detected_holds_after_deadline=used_detected,
        )

    async def _fail(self, reason: str, *, publish: bool) -> NoReturn:
        self._progress.status = Status.FAILED
        self._progress.last_error = reason
        self._holds.deadline = None
        if publish:
            await self._publish("failed", reason)
        await workflow.wait_condition(workflow.all_handlers_finished)
        raise ApplicationError(reason, type=names.ROUTE_HOLDS_FAILED, non_retryable=True)

    async def _publish(self, outcome: str, reason: str | None = None) -> None:
        params = self._params
        event = AnalysisEvent(
            job_id=params.job_id or params.route_id,
            analysis_id=params.route_id,
            user_id=params.user_id,
            stage=Stage.HOLD_DETECTION,
            outcome=outcome,
            status=self._progress.status,
            occurred_at=workflow.now().isoformat(),
            reason=reason,
        )
        await publish_event(params, event)
