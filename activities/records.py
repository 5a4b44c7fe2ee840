"""CPU activities that keep the application database in step with the workflow.

Temporal holds the truth about a running analysis; these rows are the projection the API lists
and the seed's consumers query; `persist_results` first stores the app's result document, which
the document engine assembles. Each activity is idempotent (a retry rewrites the same values), so
Temporal's at-least-once execution never duplicates a row.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import uuid
import zipfile
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.db import session_scope
from core.storage import ObjectStore
from core.telemetry import count_finished_analysis, observe_processing_time
from engines.document.assemble import StoredSteps, assemble_result_document
from engines.document.errors import ResultDocumentError
from schema import names
from schema.activities import PERSIST_RESULTS, RECORD_ANALYSIS_STATUS, SAVE_ROUTE_HOLDS
from schema.analysis import Status
from schema.models import Analysis, AnalysisMetrics, Route
from schema.steps import PersistResultsInput, RecordStatusInput, SaveRouteHoldsInput

#: Type of the error for an analysis or route id the database does not know: a broken start,
#: not something a retry can fix.
UNKNOWN_RECORD = names.UNKNOWN_RECORD


#: What the climber reads when the result document cannot be assembled from what the steps
#: stored: the same bytes fail the same way on every attempt, so the step is not retried.
UNUSABLE_RESULT_MESSAGE = (
    "we could not put together the results of this analysis: what it produced does not fit "
    "the result format. Trying again would fail the same way; please contact support"
)
#: Decoding what the steps stored fails with these when the bytes are malformed (not gzip,
#: not JSON, not a NumPy archive, a missing array): as deterministic as the document's own
#: `ResultDocumentError`.
_MALFORMED_STEP_OUTPUT = (
    ResultDocumentError,
    ValueError,
    KeyError,
    EOFError,
    gzip.BadGzipFile,
    zipfile.BadZipFile,
)


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ApplicationError(
            f"{what} id {value!r} is not a UUID", type=UNKNOWN_RECORD, non_retryable=True
        ) from None


async def write_result_document(store: ObjectStore, params: PersistResultsInput) -> int:
    """Load what the GPU steps stored, have the document engine assemble the app's result
    document (`engines.document.assemble`), and store the bytes at ``params.result.result_key``
    for the API to serve as they are; returns the gzipped size.

    Stored outputs the engine cannot assemble raise a non-retryable `names.UNUSABLE_INPUT`
    error: no attempt would read other bytes. Reading and storing objects stay retryable.
    """
    result = params.result
    assert params.bucket and result.result_key and result.skeleton_key and result.advice_key
    bucket = params.bucket
    stored = StoredSteps(
        skeleton=await store.get_bytes(bucket, result.skeleton_key),
        advice=await store.get_bytes(bucket, result.advice_key),
    )
    if result.ghost_key:
        stored.ghost = await store.get_bytes(bucket, result.ghost_key)
        # Runs whose ghost step returned before `GhostResult.plan_key` existed stored the plan
        # at the same key without saying so.
        plan_key = result.ghost_plan_key or names.result_key(params.analysis_id, "ghost_plan")
        if await store.exists(bucket, plan_key):
            stored.ghost_plan = await store.get_bytes(bucket, plan_key)
    try:
        data = await asyncio.to_thread(assemble_result_document, params, stored)
    except _MALFORMED_STEP_OUTPUT as error:
        # The detail (for staff, in the Web UI) names what broke; the climber reads the message.
        raise ApplicationError(
            UNUSABLE_RESULT_MESSAGE,
            f"{type(error).__name__}: {error}",
            type=names.UNUSABLE_INPUT,
            non_retryable=True,
        ) from error
    await store.put_bytes(bucket, result.result_key, data, content_type="application/json")
    return len(data)


class AnalysisRecords:
    """Activities bound to one database engine (shared by all activity calls of a worker)."""

    def __init__(self, engine: AsyncEngine, store: ObjectStore | None = None) -> None:
        self._engine = engine
        self._store = store

    @activity.defn(name=RECORD_ANALYSIS_STATUS.name)
    async def record_analysis_status(self, params: RecordStatusInput) -> None:
        """Store the analysis status and stage (and the reason, for failures and cancels)."""
        analysis_id = _uuid(params.analysis_id, "analysis")
        async with session_scope(self._engine) as session:
            analysis = await session.get(Analysis, analysis_id)
            if analysis is None:
                raise ApplicationError(
                    f"analysis {params.analysis_id} does not exist",
                    type=UNKNOWN_RECORD,
                    non_retryable=True,
                )
            now = datetime.now(UTC)
            analysis.status = params.status
            analysis.stage = params.stage.value
            analysis.failure_reason = params.reason
            analysis.updated_at = now
            if params.status in (Status.FAILED, Status.CANCELLED):
                analysis.completed_at = now
            session.add(analysis)
            await session.commit()
        if params.status in (Status.FAILED, Status.CANCELLED):
            count_finished_analysis(params.status.value)

    @activity.defn(name=PERSIST_RESULTS.name)
    async def persist_results(self, params: PersistResultsInput) -> None:
        """Write the app's result document, then mark the analysis completed with its summary
        and metrics row (document first: a completed row always has its document)."""
        analysis_id = _uuid(params.analysis_id, "analysis")
        document_bytes = None
        if self._store is not None and params.bucket and params.result.result_key:
            document_bytes = await write_result_document(self._store, params)
        async with session_scope(self._engine) as session:
            analysis = await session.get(Analysis, analysis_id)
            if analysis is None:
                raise ApplicationError(
                    f"analysis {params.analysis_id} does not exist",
                    type=UNKNOWN_RECORD,
                    non_retryable=True,
                )
            now = datetime.now(UTC)
            summary = dataclasses.asdict(params.result)
            summary["status"] = Status.COMPLETED.value
            summary["result_document_bytes"] = document_bytes
            analysis.status = Status.COMPLETED
            analysis.stage = None
            analysis.failure_reason = None
            analysis.result_json = summary
            analysis.processing_time_ms = params.processing_time_ms
            analysis.completed_at = now
            analysis.updated_at = now
            session.add(analysis)
            # One metrics row per analysis: a retried call updates it instead of adding another.
            metrics = (
                await session.exec(
                    select(AnalysisMetrics).where(AnalysisMetrics.analysis_id == analysis_id)
                )
            ).first() or AnalysisMetrics(analysis_id=analysis_id)
            for key, value in dataclasses.asdict(params.metrics).items():
                setattr(metrics, key, value)
            session.add(metrics)
            await session.commit()
        count_finished_analysis(Status.COMPLETED.value)
        observe_processing_time(params.processing_time_ms)

    @activity.defn(name=SAVE_ROUTE_HOLDS.name)
    async def save_route_holds(self, params: SaveRouteHoldsInput) -> None:
        """Keep the validated hold map on the route, so later videos skip detection."""
        route_id = _uuid(params.route_id, "route")
        async with session_scope(self._engine) as session:
            route = await session.get(Route, route_id)
            if route is None:
                if params.user_id is None:
                    raise ApplicationError(
                        f"route {params.route_id} does not exist",
                        type=UNKNOWN_RECORD,
                        non_retryable=True,
                    )
                route = Route(id=route_id, user_id=_uuid(params.user_id, "user"))
            route.hold_map = dataclasses.asdict(params.hold_map)
            route.hold_map_validated_at = datetime.now(UTC)
            session.add(route)
            await session.commit()
