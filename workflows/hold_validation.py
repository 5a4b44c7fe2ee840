"""The climber's validation of the detected holds, as the analysis workflow waits for it: the
detected and accepted maps, the deadline the status Query shows, the check an Update's validator
and the fire-and-forget signal share, and the wait itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schema.analysis import Status
    from schema.holds import HoldMap, hold_map_problems


@dataclass
class HoldValidation:
    detected: HoldMap | None = None
    accepted: HoldMap | None = None
    #: ISO time the wait ends, while the holds await the climber.
    deadline: str | None = None

    def problem(self, status: Status, hold_map: HoldMap) -> str | None:
        """Why ``hold_map`` cannot be accepted now, or None."""
        if status != Status.AWAITING_HOLD_VALIDATION or self.accepted is not None:
            return f"the holds are not awaiting validation (analysis is {status.value})"
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
