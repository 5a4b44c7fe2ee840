"""The route's holds during an analysis: the detected map awaiting the climber, and the
correction that lets the analysis go on (the workflow's `validate_holds` Update).

An analysis started while its route's own run (`RouteHoldsWorkflow`) detected or awaited the
climber waits for that run's map and has no detected map of its own: both endpoints then speak
to the route's run, so the climber validates once, for the route and every video waiting on it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError

from api.deps import Resources, Session
from api.errors import ApiError, responses
from api.hold_corrections import refuse_oversized, submit_correction
from api.routes.analyses.access import OwnedAnalysis, ReadableAnalysis, run_of
from api.schemas.analyses import HoldsCorrection, HoldsState
from core.analyses import query_status
from core.routes import route_holds_handle
from schema.analysis import Status
from schema.holds import hold_map_from_dict
from schema.models import Route

router = APIRouter(prefix="/analysis/video", tags=["analyses"])


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
        if live is not None and live.holds_awaiting_validation is None and analysis.route_id:
            try:  # waiting on the route's own run: its detected map is the one to validate
                client = await resources.temporal.client()
                live = await query_status(route_holds_handle(client, str(analysis.route_id)))
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
    refuse_oversized(body.hold_map)
    handle: WorkflowHandle[Any, Any] = await run_of(resources, analysis)
    if analysis.route_id is not None:
        try:
            live = await query_status(handle)
        except RPCError:
            live = None
        if live is not None and live.holds_awaiting_validation is None:
            # Waiting on the route's own run: validate there (it tells this analysis).
            client = await resources.temporal.client()
            handle = route_holds_handle(client, str(analysis.route_id))
    accepted = await submit_correction(
        handle, body.hold_map, not_waiting="this analysis is no longer running"
    )
    return HoldsState(state="validated", hold_map=accepted)
