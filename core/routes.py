"""One owner of a route's hold detection run (`RouteHoldsWorkflow`): its input, its start, its
handle. The API's ``POST /routes/{id}/detect`` and legacy ``vision.hold_detection`` jobs come
here, so a second request while a run waits for the climber attaches to it instead of detecting
again. Named by the strings of `schema.names`: the ground floor does not import `workflows`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.common import Priority, WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from core.settings import Settings
from schema import names
from schema.analysis import Tier
from schema.routes import RouteHoldsInput, RouteHoldsResult

RouteHoldsHandle = WorkflowHandle[Any, RouteHoldsResult]


def route_holds_input(
    *,
    route_id: str,
    user_id: str,
    photo_key: str,
    settings: Settings,
    tier: Tier = Tier.FREEMIUM,
    job_id: str | None = None,
) -> RouteHoldsInput:
    return RouteHoldsInput(
        route_id=route_id,
        user_id=user_id,
        bucket=settings.bucket,
        photo_key=photo_key,
        job_id=job_id,
        tier=tier,
        gpu_task_queue=settings.gpu_task_queue,
        cpu_task_queue=settings.cpu_task_queue,
    )


async def start_or_attach_route_holds(
    client: Client,
    params: RouteHoldsInput,
    *,
    memo: Mapping[str, Any] | None = None,
    rpc_timeout: timedelta | None = None,
) -> RouteHoldsHandle:
    """Start the route's detection, or attach to the run still going under its id.

    A closed run does not block a new one: a retaken photo is detected again. ``memo`` is shown
    in the Web UI (a legacy job's id); it is ignored when attaching.
    """
    return await client.start_workflow(
        names.ROUTE_HOLDS_WORKFLOW,
        params,
        id=names.route_holds_workflow_id(params.route_id),
        task_queue=params.cpu_task_queue,
        result_type=RouteHoldsResult,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        priority=Priority(priority_key=params.tier.priority_key),
        memo=memo,
        rpc_timeout=rpc_timeout,
    )


def route_holds_handle(client: Client, route_id: str) -> RouteHoldsHandle:
    """The route's latest detection run."""
    return client.get_workflow_handle(
        names.route_holds_workflow_id(route_id), result_type=RouteHoldsResult
    )
