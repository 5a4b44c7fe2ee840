"""One owner of a route's hold detection run (`RouteHoldsWorkflow`): its input, its start, its
handle. The API's ``POST /routes/{id}/detect`` and legacy ``vision.hold_detection`` jobs come
here, so a second request while a run waits for the climber attaches to it instead of detecting
again; a video started meanwhile waits for that run's map (`running_route_holds`), and a map a
climber validated in a video's analysis reaches the route through a run too
(`hand_over_route_map`): that run is the only writer of ``routes.hold_map``. Named by the
strings of `schema.names`: the ground floor does not import `workflows`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import Priority, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from core.settings import Settings
from schema import names
from schema.analysis import LegacyJobInput, Stage, Tier, ValidateHoldsInput
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
    in the Web UI (a legacy job's id); it is ignored when attaching. The input's ``job_id`` (a
    legacy job's) is also sent with the start (signal-with-start), so a run started by another
    request still publishes that job's own ``hold_detection.completed.{job_id}``.
    """
    legacy_job = LegacyJobInput(params.job_id, [Stage.HOLD_DETECTION]) if params.job_id else None
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
        start_signal=names.ATTACH_LEGACY_JOB_SIGNAL if legacy_job else None,
        start_signal_args=[legacy_job] if legacy_job else [],
    )


async def running_route_holds(
    client: Client, route_id: str, *, rpc_timeout: timedelta | None = None
) -> str | None:
    """The workflow id of the route's run while it detects or awaits the climber, else None:
    a video started now waits for its map instead of detecting again."""
    handle = route_holds_handle(client, route_id)
    try:
        description = await handle.describe(rpc_timeout=rpc_timeout)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    return handle.id if description.status == WorkflowExecutionStatus.RUNNING else None


async def hand_over_route_map(client: Client, params: RouteHoldsInput) -> RouteHoldsResult | None:
    """Store ``params.accepted_hold_map`` (validated in a video's analysis) through the route's
    run, the one writer of its map.

    No run going: a run that only stores it, awaited (seconds), so the next video finds the
    map. A run going (detecting, or awaiting the climber): the map is offered as the climber's
    validation (``submit_holds``); that run stores what it accepts, and None is returned.
    """
    assert params.accepted_hold_map is not None
    try:
        handle = await client.start_workflow(
            names.ROUTE_HOLDS_WORKFLOW,
            params,
            id=names.route_holds_workflow_id(params.route_id),
            task_queue=params.cpu_task_queue,
            result_type=RouteHoldsResult,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            priority=Priority(priority_key=params.tier.priority_key),
        )
    except WorkflowAlreadyStartedError:
        # If that run closes before the signal lands, the signal fails and the caller's retry
        # starts the storing run.
        await route_holds_handle(client, params.route_id).signal(
            names.SUBMIT_HOLDS_SIGNAL, ValidateHoldsInput(params.accepted_hold_map)
        )
        return None
    return await handle.result()


def route_holds_handle(client: Client, route_id: str) -> RouteHoldsHandle:
    """The route's latest detection run."""
    return client.get_workflow_handle(
        names.route_holds_workflow_id(route_id), result_type=RouteHoldsResult
    )
