"""The climber's validation of the detected holds, one implementation for both workflows that wait
for it (`VideoAnalysisWorkflow`, `RouteHoldsWorkflow`): the detected and accepted maps, the
deadline the status Query shows, the check an Update's validator and the fire-and-forget signal
share, the handlers themselves (`HoldValidationHandlers`) and the wait (`await_validation`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.analysis_policies import duration
from workflows.analysis_steps import Progress, Stop

with workflow.unsafe.imports_passed_through():
    from schema import names
    from schema.analysis import (
        AnalysisProgress,
        Status,
        ValidateHoldsInput,
        ValidationTimeoutPolicy,
    )
    from schema.holds import HoldMap, hold_map_problems


@dataclass
class HoldValidation:
    detected: HoldMap | None = None
    accepted: HoldMap | None = None
    #: ISO time the wait ends, while the holds await the climber.
    deadline: str | None = None

    def not_waiting(self, status: Status) -> str | None:
        """Why no map can be accepted now, whatever it holds, or None."""
        if status != Status.AWAITING_HOLD_VALIDATION or self.accepted is not None:
            return f"the holds are not awaiting validation (analysis is {status.value})"
        if self.detected is None:
            # An analysis waiting for its route's own run: the map is validated there.
            return "the holds await validation on the route's own detection, not here"
        return None

    def problem(self, status: Status, hold_map: HoldMap) -> str | None:
        """Why ``hold_map`` cannot be accepted now, or None."""
        not_waiting = self.not_waiting(status)
        if not_waiting is not None or self.detected is None:
            return not_waiting
        problems = hold_map_problems(hold_map, self.detected)
        return "; ".join(problems) if problems else None

    def open(self, timeout: timedelta) -> None:
        self.deadline = (workflow.now() + timeout).isoformat()

    async def wait(self, timeout: timedelta, cancelled: Callable[[], bool]) -> bool:
        """Wait for an accepted map or a cancel; True when the deadline passed first."""
        try:
            await workflow.wait_condition(
                lambda: self.accepted is not None or cancelled(), timeout=timeout
            )
        except TimeoutError:  # the deadline passed without a valid map
            return True
        return False


async def await_validation(
    holds: HoldValidation,
    timeout: timedelta,
    policy: ValidationTimeoutPolicy,
    *,
    waiting: Callable[[], Awaitable[None]],
    cancelled: Callable[[], bool],
    expired: str = "the analysis expired",
    announce: Callable[[], Awaitable[None]] | None = None,
) -> bool:
    """Open the wait, tell the world (``waiting``: status, records), announce the holds
    (``announce``: ``hold_detection.completed``), wait for the climber.

    The holds are announced only once the wait is open: whoever reacts to the event (the app on
    its ``holds_detected`` frame, a legacy consumer) finds the run, and its row, already
    awaiting the correction, which the Update and the Signal then take even before the wait
    itself begins. Runs recorded before announced first and pass no ``announce``.

    The caller has set ``holds.detected``. Returns True when the deadline passed and the policy
    proceeds with the detected map (then ``holds.accepted`` is that map); raises `Stop` when it
    expires the run (``expired`` ends the message). On a cancel it returns with nothing
    accepted; the caller checks its own cancel.
    """
    holds.open(timeout)
    await waiting()
    if announce is not None:
        await announce()
    if not await holds.wait(timeout, cancelled):
        return False
    if policy == ValidationTimeoutPolicy.EXPIRE:
        raise Stop(
            f"the holds were not validated within {duration(timeout)}; {expired}",
            Status.FAILED,
        )
    workflow.logger.info("hold validation deadline passed; using the detected map")
    holds.accepted = holds.detected
    return True


class HoldValidationHandlers:
    """The status Query, the `validate_holds` Update (with its validator) and the `submit_holds`
    Signal, for a workflow that keeps a `Progress` and a `HoldValidation` (no ``@workflow.run``).

    Temporal registers inherited handlers under the same names, so histories recorded before
    they moved here replay.
    """

    _progress: Progress
    _holds: HoldValidation

    @workflow.query(name=names.STATUS_QUERY)
    def status(self) -> AnalysisProgress:
        progress = self._progress
        return AnalysisProgress(
            status=progress.status,
            stage=progress.stage,
            percent=progress.percent,
            holds_awaiting_validation=(
                self._holds.detected if progress.status == Status.AWAITING_HOLD_VALIDATION else None
            ),
            validation_deadline=self._holds.deadline,
            last_error=progress.last_error,
            waiting_for=progress.waiting_for,
        )

    @workflow.update(name=names.VALIDATE_HOLDS_UPDATE)
    async def validate_holds(self, update: ValidateHoldsInput) -> HoldMap:
        """Accept the climber's corrected map; the validator has already checked it."""
        self._holds.accepted = update.hold_map
        return update.hold_map

    @validate_holds.validator
    def _reject_bad_hold_map(self, update: ValidateHoldsInput) -> None:
        # Validators reject synchronously without touching history or state: the climber gets
        # the message at once and the workflow keeps waiting for a good map.
        # Nothing to correct here is the API's 409, a bad map its 422.
        not_waiting = self._holds.not_waiting(self._progress.status)
        if not_waiting:
            raise ApplicationError(
                not_waiting, type=names.HOLDS_NOT_AWAITING_VALIDATION, non_retryable=True
            )
        problem = self._holds.problem(self._progress.status, update.hold_map)
        if problem:
            raise ApplicationError(problem, type=names.INVALID_HOLD_MAP, non_retryable=True)

    @workflow.signal
    def submit_holds(self, update: ValidateHoldsInput) -> None:
        """Fire-and-forget form of `validate_holds` for clients that cannot wait for an answer."""
        problem = self._holds.problem(self._progress.status, update.hold_map)
        if problem:
            # A bad signal must never crash the run: record it where the app and staff see it.
            workflow.logger.warning("rejected hold map from signal: %s", problem)
            self._progress.last_error = problem
            return
        self._progress.last_error = None
        self._holds.accepted = update.hold_map
