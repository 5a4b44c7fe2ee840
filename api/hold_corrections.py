"""A climber's corrected hold map, sent to the run that awaits it: one path for an analysis's
holds and a route's own detection (both workflows take the same `validate_holds` Update)."""

from __future__ import annotations

from typing import Any

from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from api.errors import ApiError
from core.analyses import submit_hold_map
from schema import names
from schema.holds import (
    MAX_HOLD_MAP_BYTES,
    MAX_HOLD_TEXT,
    MAX_HOLDS,
    MAX_OUTLINE_POINTS,
    MAX_TOTAL_POINTS,
    HoldMap,
    hold_map_size_problems,
)

#: What a corrected hold map may hold at most (the `details` of `hold_map_too_large`).
HOLD_MAP_BOUNDS = {
    "max_holds": MAX_HOLDS,
    "max_outline_points_per_hold": MAX_OUTLINE_POINTS,
    "max_total_points": MAX_TOTAL_POINTS,
    "max_text_length": MAX_HOLD_TEXT,
    "max_bytes": MAX_HOLD_MAP_BYTES,
}


def refuse_oversized(hold_map: HoldMap) -> None:
    """422 before the Update: a map of tens of MB decoded in the workflow's sandbox stalls its
    task past the deadlock detector and stays in the payload bucket."""
    too_big = hold_map_size_problems(hold_map)
    if too_big:
        raise ApiError(
            422,
            "hold_map_too_large",
            "the hold map is too large: " + "; ".join(too_big),
            details=HOLD_MAP_BOUNDS,
        )


async def submit_correction(
    handle: WorkflowHandle[Any, Any], hold_map: HoldMap, *, not_waiting: str
) -> HoldMap:
    """The accepted map; 422 naming every problem the validator found, 409 (``not_waiting``
    when the run is gone) when nothing awaits a correction."""
    try:
        return await submit_hold_map(handle, hold_map)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause)
        if isinstance(cause, ApplicationError) and cause.type == names.INVALID_HOLD_MAP:
            raise ApiError(422, "invalid_hold_map", message) from None
        raise ApiError(409, "holds_not_awaiting_validation", message) from None
    except RPCError:
        raise ApiError(409, "holds_not_awaiting_validation", not_waiting) from None
