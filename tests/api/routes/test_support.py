"""Support's redrive and replay of an analysis, on the real stack.

An analysis fails on purpose (the fake GPU side refuses the video as bad input, never retried),
support retries it through the API and it completes with the same inputs, without asking the
climber to validate the holds again; its history replays through both forms of `ascension
replay`, and a tampered one does not. The CLI's retry is the same `core.analyses.retry_analysis`.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import col, select
from temporalio.client import Client

from ascension import support_cli
from core.analyses import REDRIVE_OF_MEMO
from core.db import session_scope
from core.settings import Settings
from schema.activities import DETECT_HOLDS, EXTRACT_SKELETON
from schema.analysis import Tier
from schema.models import AnalysisEventRecord, Role
from tests.api.conftest import Climber, ClimberFactory
from tests.api.test_analyses import (
    V1,
    VIDEO,
    _awaiting_holds,
    _uploaded_route,
    _uploaded_video,
    _validate_detected_holds,
    _wait_for,
)
from tests.utils.pipeline import FakePipeline

pytestmark = pytest.mark.integration


async def _failed_analysis(api: httpx.AsyncClient, me: Climber, pipeline: FakePipeline) -> str:
    """An analysis whose holds the climber validated and whose skeleton step then failed."""
    analysis_id, _ = await _awaiting_holds(api, me)
    await _validate_detected_holds(api, me, analysis_id)
    failed = await _wait_for(api, me, analysis_id, lambda b: b.get("status") == "failed")
    assert "not a video" in failed["failure_reason"]
    return analysis_id


async def _routing_keys(api_app: FastAPI, analysis_id: str, last: str) -> list[str]:
    """The analysis's recorded events, in order, once ``last`` is among them (the document is
    served as soon as it is stored, a moment before the completion event is recorded)."""
    keys: list[str] = []
    for _ in range(300):
        async with session_scope(api_app.state.resources.engine) as session:
            rows = await session.exec(
                select(AnalysisEventRecord)
                .where(AnalysisEventRecord.analysis_id == uuid.UUID(analysis_id))
                .order_by(col(AnalysisEventRecord.id))
            )
            keys = [row.routing_key for row in rows.all()]
        if last in keys:
            return keys
        await asyncio.sleep(0.1)
    raise AssertionError(f"{last} was never recorded; recorded: {keys}")


async def test_support_retries_a_failed_analysis_with_the_same_inputs(
    api: httpx.AsyncClient,
    climber: ClimberFactory,
    pipeline: FakePipeline,
    api_app: FastAPI,
    api_settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    me = await climber(Tier.PREMIUM)
    staff = await climber(role=Role.SUPPORT)
    pipeline.skeleton_bad_input = True
    try:
        analysis_id = await _failed_analysis(api, me, pipeline)
    finally:
        pipeline.skeleton_bad_input = False
    detections = pipeline.calls.count(DETECT_HOLDS.name)
    retry = f"{V1}/support/analyses/{analysis_id}/retry"
    client = await api_app.state.resources.temporal.client()
    workflow_id = f"analysis-{analysis_id}"
    # The runbook's queries find it (README, *Support runbook*).
    failed_runs = await _runs_found(
        client, f'UserId = "{me.id}" AND AnalysisStatus = "failed"', expected=1
    )
    assert await _runs_found(client, f'AnalysisId = "{analysis_id}"', expected=1) == failed_runs

    assert (await api.post(retry, headers=me.headers)).status_code == 403
    unknown = await api.post(f"{V1}/support/analyses/{uuid.uuid4()}/retry", headers=staff.headers)
    assert unknown.status_code == 404

    retried = await api.post(retry, headers=staff.headers)
    assert retried.status_code == 202, retried.text
    body = retried.json()
    # Running again at once: pending, or already processing if the new run was that quick.
    assert body["status"] in ("pending", "processing")
    assert (body["failure_reason"], body["completed_at"]) == (None, None)
    assert body["workflow_id"] == workflow_id and body["run_id"] not in failed_runs

    document = await _wait_for(api, me, analysis_id, lambda b: "version" in b)
    assert document["analysis_id"] == analysis_id
    # The same inputs: the same pinned video, and the map the climber had validated (no second
    # detection, no second wait for the climber).
    assert pipeline.videos_read[analysis_id] == VIDEO
    assert pipeline.calls.count(DETECT_HOLDS.name) == detections
    assert EXTRACT_SKELETON.name in pipeline.calls

    # Each run's events are its own, and the completion is published once.
    keys = await _routing_keys(api_app, analysis_id, f"analysis.completed.{analysis_id}")
    assert keys.count(f"analysis.completed.{analysis_id}") == 1
    assert keys.count(f"skeleton.failed.{analysis_id}") == 1
    assert keys.count(f"skeleton.completed.{analysis_id}") == 1
    assert keys.index(f"skeleton.failed.{analysis_id}") < keys.index(
        f"skeleton.completed.{analysis_id}"
    )

    again = await api.post(retry, headers=staff.headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "not_failed"

    # The CLI refuses the same way; both replay forms accept both runs' code path.
    assert await support_cli.retry(api_settings, uuid.UUID(analysis_id)) == 1
    assert "not_failed" in capsys.readouterr().out
    runs = await _runs_found(client, f'WorkflowId = "{workflow_id}"', expected=2)
    assert set(runs) == {*failed_runs, body["run_id"]}
    memo = await client.get_workflow_handle(workflow_id).describe()
    assert (await memo.memo())[REDRIVE_OF_MEMO] == failed_runs[0]
    assert await support_cli.replay(api_settings, workflow_id=workflow_id) == 0
    assert "OK" in capsys.readouterr().out

    history = await client.get_workflow_handle(workflow_id).fetch_history()
    exported = tmp_path / f"{workflow_id}.json"
    exported.write_text(history.to_json())
    assert await support_cli.replay(api_settings, file=exported) == 0
    assert f"OK {workflow_id}" in capsys.readouterr().out

    # Code that would schedule another activity than the history says: a clear failure.
    tampered = _rename_first_gpu_activity(history.to_json_dict())
    exported.write_text(json.dumps(tampered))
    assert await support_cli.replay(api_settings, file=exported) == 1
    out = capsys.readouterr().out
    assert "REPLAY FAILED" in out and "Nondeterminism" in out


async def _runs_found(client: Client, query: str, expected: int) -> list[str]:
    """Run ids the visibility query finds, once it finds ``expected`` (visibility lags)."""
    runs: list[str] = []
    for _ in range(300):
        runs = [execution.run_id async for execution in client.list_workflows(query)]
        if len(runs) >= expected:
            return runs
        await asyncio.sleep(0.1)
    raise AssertionError(f"{query!r} found {runs}")


def _rename_first_gpu_activity(history: dict[str, Any]) -> dict[str, Any]:
    for event in history["events"]:
        scheduled = event.get("activityTaskScheduledEventAttributes")
        if scheduled and scheduled["activityType"]["name"] == EXTRACT_SKELETON.name:
            scheduled["activityType"]["name"] = "extract_something_else"
            return history
    raise AssertionError("the history has no skeleton step")


async def test_a_terminated_analysis_is_retried_and_a_bad_file_is_refused(
    api: httpx.AsyncClient,
    climber: ClimberFactory,
    pipeline: FakePipeline,
    api_app: FastAPI,
    api_settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    me = await climber(Tier.PREMIUM)
    route_id = await _uploaded_route(api, me)
    video_id = await _uploaded_video(api, me)
    started = await api.post(
        f"{V1}/analysis/video/start",
        json={"video_id": video_id, "route_id": route_id},
        headers=me.headers,
    )
    analysis_id = started.json()["analysis_id"]
    await _wait_for(api, me, analysis_id, lambda b: b["status"] == "awaiting_hold_validation")
    # Still running: nothing to retry.
    assert await support_cli.retry(api_settings, uuid.UUID(analysis_id)) == 1
    assert "running" in capsys.readouterr().out

    client = await api_app.state.resources.temporal.client()
    await client.get_workflow_handle(f"analysis-{analysis_id}").terminate("operator test")
    ended = (
        'WorkflowType = "VideoAnalysisWorkflow" AND (ExecutionStatus = "Terminated" OR '
        f'ExecutionStatus = "TimedOut") AND AnalysisId = "{analysis_id}"'
    )
    assert len(await _runs_found(client, ended, expected=1)) == 1  # the runbook's query
    # The row never learnt of the termination; the CLI redrives it all the same.
    assert await support_cli.retry(api_settings, uuid.UUID(analysis_id)) == 0
    assert "retried" in capsys.readouterr().out
    # It ended before the climber validated anything: the new run asks again.
    await _wait_for(api, me, analysis_id, lambda b: b["status"] == "awaiting_hold_validation")

    not_history = tmp_path / "notes.json"
    not_history.write_text('{"hello": 1}')
    assert await support_cli.replay(api_settings, file=not_history) == 2
    assert "not an exported workflow history" in capsys.readouterr().out
