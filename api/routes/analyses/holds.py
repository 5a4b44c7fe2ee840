"""The route's holds during an analysis: the detected map awaiting the climber, and the
correction that lets the analysis go on (the workflow's `validate_holds` Update)."""

from __future__ import annotations

from fastapi import APIRouter
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from api.deps import Resources, Session
from api.errors import ApiError, responses
from api.routes.analyses.access import OwnedAnalysis, ReadableAnalysis, run_of
from api.schemas.analyses import HoldsCorrection, HoldsState
from core.analyses import query_status, submit_hold_map
from schema import names
from schema.analysis import Status
from schema.holds import (
    MAX_HOLD_MAP_BYTES,
    MAX_HOLD_TEXT,
    MAX_HOLDS,
    MAX_OUTLINE_POINTS,
    MAX_TOTAL_POINTS,
    hold_map_from_dict,
    hold_map_size_problems,
)
from schema.models import Route

router = APIRouter(prefix="/analysis/video", tags=["analyses"])

#: What a corrected hold map may hold at most (the `details` of `hold_map_too_large`).
HOLD_MAP_BOUNDS = {
    "max_holds": MAX_HOLDS,
    "max_outline_points_per_hold": MAX_OUTLINE_POINTS,
    "max_total_points": MAX_TOTAL_POINTS,
    "max_text_length": MAX_HOLD_TEXT,
    "max_bytes": MAX_HOLD_MAP_BYTES,
}


@router.get("/{analysis_id}/holds", response_model=HoldsState, responses=responses(401, 404, 422))
async def get_holds(
    analysis: ReadableAnalysis, resources: Resources, session: Session
) -> HoldsState:
    """The detected holds while they await the climber's validation, or the validated map."""
    if analysis.status == Status.AWAITING_HOLD_VALIDATION:
        handle = await run_of(resources, analysis)
        try:
            live = await query_status(handle)
        except RPCError:
            live = None
        if live is not None and live.holds_awaiting_validation is not None:
            return HoldsState(
                state="awaiting_validation",
                hold_map=live.holds_awaiting_validation,
                validation_deadline=live.validation_deadline,
            )
    route = await session.get(Route, analysis.route_id) if analysis.route_id else None
    if route is not None and route.hold_map is not None:
        return HoldsState(state="validated", hold_map=hold_map_from_dict(route.hold_map))
    return HoldsState(state="not_ready")


@router.post(
    "/{analysis_id}/holds",
    response_model=HoldsState,
    responses=responses(401, 404, 409, 422),
)
async def validate_holds(
    analysis: OwnedAnalysis, body: HoldsCorrection, resources: Resources
) -> HoldsState:
    """Send the corrected hold map; the analysis goes on with it.

    The workflow checks the map (ids, coordinates, types) and refuses it with every problem at
    once (422); nothing changes then, and the climber can send a corrected map again. A map
    beyond the bounds (holds, outline points in all and per hold, text lengths, bytes; see the
    error's `details`) is refused by the API itself with `hold_map_too_large`.
    """
    if analysis.status != Status.AWAITING_HOLD_VALIDATION:
        raise ApiError(
            409,
            "holds_not_awaiting_validation",
            f"the holds are not awaiting validation (the analysis is {analysis.status.value})",
        )
    # Bounded here, before the Update: a map of tens of MB decoded in the workflow's sandbox
    # stalls its task past the deadlock detector and stays in the payload bucket.
    too_big = hold_map_size_problems(body.hold_map)
    if too_big:
        raise ApiError(
            422,
            "hold_map_too_large",
            "the hold map is too large: " + "; ".join(too_big),
            details=HOLD_MAP_BOUNDS,
        )
    handle = await run_of(resources, analysis)
    try:
        accepted = await submit_hold_map(handle, body.hold_map)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause)
        if isinstance(cause, ApplicationError) and cause.type == names.INVALID_HOLD_MAP:
            raise ApiError(422, "invalid_hold_map", message) from None
        raise ApiError(409, "holds_not_awaiting_validation", message) from None
    except RPCError:
        raise ApiError(
            409, "holds_not_awaiting_validation", "this analysis is no longer running"
        ) from None
    return HoldsState(state="validated", hold_map=accepted)
