"""Rows left running by a run that closed without saying so, marked failed as they are read.

A run terminated (support, in the Web UI or with ``temporal workflow terminate``) or timed out
executes no more workflow code, so its analysis row would say ``processing`` for ever.
`core.analyses.reconcile_with_run` decides and marks; this module gives it the API's Temporal
client and the event publisher the workers use, so the ``{stage}.failed.{job_id}`` event every
failed analysis publishes reaches consumers and WebSocket clients as well.
"""

from __future__ import annotations

import logging
import uuid
from functools import partial

from sqlmodel.ext.asyncio.session import AsyncSession

from activities.events import publish_unless_logged
from api.resources import ApiResources
from core.analyses import RUNNING, reconcile_with_run
from core.db import session_scope
from schema.analysis import Status
from schema.models import Analysis

log = logging.getLogger("ascension.api")


async def reconciled(
    resources: ApiResources, session: AsyncSession, analysis: Analysis
) -> Analysis:
    """``analysis``, marked failed if its run has closed behind its back (see the module)."""
    if analysis.status not in RUNNING:
        return analysis
    try:
        client = await resources.temporal.client()
    except Exception as error:  # the row still answers; Temporal is only asked to confirm it
        log.warning("analysis %s not reconciled: Temporal unreachable (%s)", analysis.id, error)
        return analysis
    return await reconcile_with_run(
        client,
        session,
        analysis,
        # Once: a run that published its failure without recording it is not published again.
        publish=partial(publish_unless_logged, resources.engine, resources.publisher),
    )


async def reconciled_status(resources: ApiResources, analysis_id: str) -> Status | None:
    """The status of the analysis once reconciled (None: no such analysis)."""
    async with session_scope(resources.engine) as session:
        analysis = await session.get(Analysis, uuid.UUID(analysis_id))
        if analysis is None:
            return None
        return (await reconciled(resources, session, analysis)).status
