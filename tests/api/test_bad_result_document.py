"""A result document that can never be assembled fails the analysis at once, on the real stack.

The production CPU worker runs `persist_results` (a local activity) against real MinIO and
PostgreSQL; the fake GPU side stores advice the document engine refuses. The same bytes fail
the same way on every attempt, so the step is not retried (it was, ten times, with backoff):
one failed attempt, then the analysis is failed with a message the climber understands and its
failure event is published.
"""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import col, select

from activities.records import UNUSABLE_RESULT_MESSAGE
from core.db import session_scope
from schema.activities import PERSIST_RESULTS
from schema.documents import AdviceDocument, encode_advice
from schema.models import AnalysisEventRecord
from tests.api.conftest import ClimberFactory
from tests.api.test_analyses import (
    _awaiting_holds,
    _validate_detected_holds,
    _wait_for,
)
from tests.utils.activity_failures import failed_attempts
from tests.utils.pipeline import FakePipeline

pytestmark = pytest.mark.integration


@pytest.fixture
def bad_advice(pipeline: FakePipeline, request: pytest.FixtureRequest) -> Iterator[None]:
    """The advice step stores ``request.param`` instead of a valid advice document."""
    pipeline.advice_document = request.param
    try:
        yield
    finally:
        pipeline.advice_document = None


@pytest.mark.parametrize(
    "bad_advice",
    [
        # Well-formed, but moves that are not objects: the document's own validation refuses.
        pytest.param(
            encode_advice(AdviceDocument(moves=cast(list[dict[str, Any]], ["not a move"]))),
            id="invalid-document",
        ),
        # Not JSON inside the gzip: unreadable whatever the attempt.
        pytest.param(gzip.compress(b"\xff not json"), id="undecodable-bytes"),
    ],
    indirect=True,
)
@pytest.mark.usefixtures("bad_advice")
async def test_a_bad_result_document_fails_the_analysis_after_one_attempt(
    api: httpx.AsyncClient, climber: ClimberFactory, pipeline: FakePipeline, api_app: FastAPI
) -> None:
    me = await climber()
    with failed_attempts() as attempts:
        analysis_id, _ = await _awaiting_holds(api, me)
        await _validate_detected_holds(api, me, analysis_id)
        # Retried, the first backoffs alone (1 + 2 + 4 + 8 s) would outlast this wait.
        failed = await _wait_for(api, me, analysis_id, lambda b: b["status"] == "failed")

    assert attempts[PERSIST_RESULTS.name] == 1
    assert failed["stage"] == "analysis"
    assert failed["failure_reason"] == UNUSABLE_RESULT_MESSAGE
    async with session_scope(api_app.state.resources.engine) as session:
        rows = await session.exec(
            select(AnalysisEventRecord)
            .where(AnalysisEventRecord.analysis_id == uuid.UUID(analysis_id))
            .order_by(col(AnalysisEventRecord.id))
        )
        events = {row.routing_key: row.body for row in rows.all()}
    assert events[f"analysis.failed.{analysis_id}"]["reason"] == UNUSABLE_RESULT_MESSAGE
    assert f"analysis.completed.{analysis_id}" not in events
