"""The detected hold map a ``holds_detected`` frame carries, asked of the running workflow.

The event itself carries no map (maps are large; the broker and the log keep them small): the hub
adds the one the workflow holds while it awaits the climber's validation, so the app can show it
at once. Only a run still waiting has it; a replay asks only for analyses not yet finished.

A route's own detection (`RouteHoldsWorkflow`) publishes the same event with the route's id in
``analysis_id``; both workflows answer the same status Query, so when no analysis has that id the
route's run is asked instead.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.service import RPCError, RPCStatusCode

from api.events.messages import ANALYSES, is_uuid
from api.resources import TemporalConnection
from core.analyses import RUNNING, analysis_handle, query_status
from core.routes import route_holds_handle
from schema.analysis import AnalysisProgress, Stage, Status

log = logging.getLogger("ascension.api.events")

#: How long a `hold_detection.completed` waits for the workflow to expose the detected map.
HOLDS_WAIT_S = 5.0


async def awaiting_holds(
    temporal: TemporalConnection, analysis_id: str, *, wait_s: float
) -> dict[str, Any] | None:
    """The detected map while the workflow waits for the climber; None once it does not.

    Runs publish the event once they await the climber, so the first query finds the map; runs
    started before that (`HOLDS_AWAITED_BEFORE_ANNOUNCED_PATCH`) published it just before, so
    the query may come early: ask again for a short while as long as detection is the stage the
    workflow reports.
    """
    try:
        client = await temporal.client()
        handles = [analysis_handle(client, analysis_id), route_holds_handle(client, analysis_id)]
        deadline = time.monotonic() + wait_s
        while True:
            progress = await _first_status(handles)
            if progress.holds_awaiting_validation is not None:
                return dataclasses.asdict(progress.holds_awaiting_validation)
            detecting = progress.stage == Stage.HOLD_DETECTION and progress.status in (
                Status.PENDING,
                Status.PROCESSING,
            )
            if not detecting or time.monotonic() >= deadline:
                return None
            await asyncio.sleep(0.05)
    except Exception as err:  # the event still goes out; the app can fetch the map itself
        log.info("no hold map for analysis %s: %r", analysis_id, err)
        return None


async def _first_status(handles: list[Any]) -> AnalysisProgress:
    """The status of the first of ``handles`` whose run exists (an analysis, else a route)."""
    for handle in handles[:-1]:
        try:
            return await query_status(handle, rpc_timeout=timedelta(seconds=2))
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
    return await query_status(handles[-1], rpc_timeout=timedelta(seconds=2))


async def unfinished(engine: AsyncEngine, analysis_ids: set[str]) -> set[str]:
    """Those of ``analysis_ids`` whose row is not final (or that have no row here)."""
    ids = {aid: uuid.UUID(aid) for aid in analysis_ids if is_uuid(aid)}
    if not ids:
        return set(analysis_ids)
    query = select(ANALYSES.c.id, ANALYSES.c.status).where(ANALYSES.c.id.in_(list(ids.values())))
    async with engine.connect() as conn:
        status = {str(row.id): Status(row.status) for row in await conn.execute(query)}
    return {aid for aid in analysis_ids if aid not in status or status[aid] in RUNNING}
