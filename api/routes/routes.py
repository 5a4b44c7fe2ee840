"""The climber's routes: list, read, delete, and the wall photo's own hold detection.

Detection is started explicitly (``POST /routes/{id}/detect``), not on upload completion: the
photo goes straight to object storage through a presigned PUT, so the API never hears that the
upload finished (the store sends no notifications here), and a route is created before its photo
exists. The app calls ``detect`` right after its PUT succeeds; the API checks the photo is there
and starts `RouteHoldsWorkflow` (a repeated call attaches to the run that is waiting). The
climber then sees the detected holds (``GET /routes/{id}/holds``, and ``holds_detected`` on the
WebSocket through the ``hold_detection.completed`` event) and validates them
(``POST /routes/{id}/holds``); every later video on the route reuses the validated map.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel
from sqlalchemy import update
from sqlmodel import col, select
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from api.deps import CurrentUser, Resources, Session
from api.errors import ApiError, responses
from api.hold_corrections import refuse_oversized, submit_correction
from api.schemas.analyses import HoldsCorrection, HoldsState
from core.analyses import query_status
from core.routes import route_holds_handle, route_holds_input, start_or_attach_route_holds
from schema import names
from schema.holds import hold_map_from_dict
from schema.models import Analysis, Route

router = APIRouter(prefix="/routes", tags=["routes"])


class RoutePublic(BaseModel):
    id: uuid.UUID
    name: str | None
    photo_key: str | None
    #: A climber-validated map is stored: videos on this route skip detection.
    holds_validated: bool
    hold_map_validated_at: datetime | None
    created_at: datetime


class DetectionStarted(BaseModel):
    route_id: uuid.UUID
    workflow_id: str


def _public(route: Route) -> RoutePublic:
    return RoutePublic(
        id=route.id,
        name=route.name,
        photo_key=route.photo_key,
        holds_validated=route.hold_map is not None,
        hold_map_validated_at=route.hold_map_validated_at,
        created_at=route.created_at,
    )


async def owned_route(route_id: uuid.UUID, principal: CurrentUser, session: Session) -> Route:
    """The caller's route; someone else's is as unknown as a missing one (404)."""
    route = await session.get(Route, route_id)
    if route is None or route.user_id != principal.user_id:
        raise ApiError(404, "not_found", "route not found")
    return route


OwnedRoute = Annotated[Route, Depends(owned_route)]


@router.get("", response_model=list[RoutePublic], responses=responses(401))
async def list_routes(principal: CurrentUser, session: Session) -> list[RoutePublic]:
    """The caller's routes, newest first."""
    found = await session.exec(
        select(Route)
        .where(Route.user_id == principal.user_id)
        .order_by(col(Route.created_at).desc())
    )
    return [_public(route) for route in found.all()]


@router.get("/{route_id}", response_model=RoutePublic, responses=responses(401, 404, 422))
async def get_route(route: OwnedRoute) -> RoutePublic:
    return _public(route)


@router.delete(
    "/{route_id}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(401, 404, 422)
)
async def delete_route(route: OwnedRoute, resources: Resources, session: Session) -> None:
    """Delete the route, its photo and its map; its analyses stay, without a route. A detection
    still waiting for the climber is cancelled first (best effort)."""
    try:
        client = await resources.temporal.client()
        handle = route_holds_handle(client, str(route.id))
        description = await handle.describe()
        if description.status == WorkflowExecutionStatus.RUNNING:
            await handle.cancel()
    except RPCError:
        pass  # no run (or Temporal away): nothing waits on this route
    await session.exec(
        update(Analysis).where(col(Analysis.route_id) == route.id).values(route_id=None)
    )
    if route.photo_key:
        await resources.store.delete(resources.settings.bucket, route.photo_key)
    await session.delete(route)
    await session.commit()


@router.post(
    "/{route_id}/detect",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DetectionStarted,
    responses=responses(401, 404, 409, 422, 503),
)
async def detect_holds(
    route: OwnedRoute, principal: CurrentUser, resources: Resources
) -> DetectionStarted:
    """Detect the holds on the route's uploaded photo; they then await the climber's validation.

    Call it once the photo's PUT has succeeded; calling again while the holds await validation
    returns the same run. ``hold_detection.completed.{route_id}`` announces the detected map.
    """
    bucket = resources.settings.bucket
    if not route.photo_key or not await resources.store.exists(bucket, route.photo_key):
        raise ApiError(409, "photo_missing", "upload the route's photo first")
    params = route_holds_input(
        route_id=str(route.id),
        user_id=str(route.user_id),
        photo_key=route.photo_key,
        settings=resources.settings,
        tier=principal.tier,
    )
    try:
        client = await resources.temporal.client()
        await start_or_attach_route_holds(client, params)
    except RPCError:
        raise ApiError(
            503, "unavailable", "hold detection could not be started right now; try again"
        ) from None
    return DetectionStarted(
        route_id=route.id, workflow_id=names.route_holds_workflow_id(str(route.id))
    )


@router.get("/{route_id}/holds", response_model=HoldsState, responses=responses(401, 404, 422))
async def get_route_holds(route: OwnedRoute, resources: Resources) -> HoldsState:
    """The detected holds while they await validation, else the route's validated map."""
    try:
        client = await resources.temporal.client()
        live = await query_status(route_holds_handle(client, str(route.id)))
    except RPCError:
        live = None
    if live is not None and live.holds_awaiting_validation is not None:
        return HoldsState(
            state="awaiting_validation",
            hold_map=live.holds_awaiting_validation,
            validation_deadline=live.validation_deadline,
        )
    if route.hold_map is not None:
        return HoldsState(state="validated", hold_map=hold_map_from_dict(route.hold_map))
    return HoldsState(state="not_ready")


@router.post(
    "/{route_id}/holds", response_model=HoldsState, responses=responses(401, 404, 409, 422)
)
async def validate_route_holds(
    route: OwnedRoute, body: HoldsCorrection, resources: Resources
) -> HoldsState:
    """The corrected map for the detection awaiting the climber (the workflow's Update: 422 with
    every problem, nothing changed); stored on the route once accepted."""
    refuse_oversized(body.hold_map)
    client = await resources.temporal.client()
    accepted = await submit_correction(
        route_holds_handle(client, str(route.id)),
        body.hold_map,
        not_waiting="no detection of this route is waiting",
    )
    return HoldsState(state="validated", hold_map=accepted)
