"""A run that closed without telling the app (support terminated it in the Web UI, or it timed
out) reads as failed, on the real stack.

The run executes no more workflow code, so its row would say it runs for ever; the API's reads
(`api.reconcile`, deciding in `core.analyses.reconcile_with_run`) find the close through
Temporal, mark the row failed with a reason the climber understands and publish the failure
event every failed analysis publishes, once. A running analysis is left alone, and so is a row
whose Temporal or broker cannot be reached or that was written after the run closed (a redrive).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlmodel import col, select
from temporalio.client import WorkflowExecutionStatus
from websockets.asyncio.client import connect

from api.reconcile import reconciled
from api.resources import ApiResources, TemporalConnection
from ascension.servers.process import free_port
from core.analyses import CLOSED_RUN_REASONS
from core.db import session_scope
from core.events import EventPublisher
from core.settings import Settings
from schema import names
from schema.analysis import Status, Tier
from schema.models import Analysis, AnalysisEventRecord
from tests.api.conftest import ClimberFactory, LiveApi
from tests.api.test_analyses import (
    V1,
    _awaiting_holds,
)
from tests.utils.pipeline import FakePipeline

pytestmark = pytest.mark.integration

TERMINATED = CLOSED_RUN_REASONS[WorkflowExecutionStatus.TERMINATED]


async def _terminate(api_app: FastAPI, analysis_id: str) -> None:
    """What support does in the Web UI (or with ``temporal workflow terminate``)."""
    client = await api_app.state.resources.temporal.client()
    handle = client.get_workflow_handle(names.analysis_workflow_id(analysis_id))
    await handle.terminate("support: stopped from the Web UI")
    assert (await handle.describe()).status == WorkflowExecutionStatus.TERMINATED


async def _row(api_app: FastAPI, analysis_id: str) -> Analysis:
    async with session_scope(api_app.state.resources.engine) as session:
        row = await session.get(Analysis, uuid.UUID(analysis_id))
    assert row is not None
    return row


async def _failure_events(api_app: FastAPI, analysis_id: str) -> list[AnalysisEventRecord]:
    async with session_scope(api_app.state.resources.engine) as session:
        rows = await session.exec(
            select(AnalysisEventRecord)
            .where(AnalysisEventRecord.analysis_id == uuid.UUID(analysis_id))
            .order_by(col(AnalysisEventRecord.id))
        )
        return [row for row in rows.all() if ".failed." in row.routing_key]


async def test_a_terminated_run_reads_as_failed_once_and_a_running_one_is_untouched(
    api: httpx.AsyncClient, climber: ClimberFactory, pipeline: FakePipeline, api_app: FastAPI
) -> None:
    me = await climber(Tier.PREMIUM)
    stopped, _ = await _awaiting_holds(api, me)
    running, _ = await _awaiting_holds(api, me)
    await _terminate(api_app, stopped)
    # The run recorded nothing on its way out: the row still says it waits for the climber.
    assert (await _row(api_app, stopped)).status == Status.AWAITING_HOLD_VALIDATION
    running_before = await _row(api_app, running)

    response = await api.get(f"{V1}/analysis/video/{stopped}", headers=me.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "failed"
    assert body["failure_reason"] == TERMINATED
    assert body["stage"] == "hold_validation" and body["progress"] is None
    row = await _row(api_app, stopped)
    assert (row.status, row.failure_reason) == (Status.FAILED, TERMINATED)
    assert row.completed_at is not None

    # Reading again changes nothing and publishes nothing more: one failure event, with the
    # key the run itself publishes for an end during the validation wait.
    again = (await api.get(f"{V1}/analysis/video/{stopped}", headers=me.headers)).json()
    assert (again["status"], again["updated_at"]) == ("failed", body["updated_at"])
    [event] = await _failure_events(api_app, stopped)
    assert event.routing_key == f"analysis.failed.{stopped}"
    assert event.message_id == f"{stopped}:analysis:failed"
    assert event.body["status"] == "failed" and event.body["analysis_status"] == "failed"
    assert event.body["reason"] == TERMINATED
    # The list shows it failed too.
    listed = (await api.get(f"{V1}/analysis/video", headers=me.headers)).json()["items"]
    assert {item["id"]: item["status"] for item in listed}[stopped] == "failed"

    # The running analysis is read as before and its row is not written.
    response = await api.get(f"{V1}/analysis/video/{running}", headers=me.headers)
    assert response.json()["status"] == "awaiting_hold_validation"
    running_after = await _row(api_app, running)
    assert running_after.status == Status.AWAITING_HOLD_VALIDATION
    assert running_after.updated_at == running_before.updated_at
    assert await _failure_events(api_app, running) == []


async def test_a_socket_opened_after_the_termination_is_told_of_the_failure(
    api: httpx.AsyncClient,
    climber: ClimberFactory,
    pipeline: FakePipeline,
    api_app: FastAPI,
    live_api: LiveApi,
) -> None:
    me = await climber()
    stopped, _ = await _awaiting_holds(api, me)
    await _terminate(api_app, stopped)
    frames: list[dict[str, Any]] = []
    async with connect(f"{live_api.ws_url}/api/v1/ws?token={me.access_token}") as socket:
        async with asyncio.timeout(15):
            while not frames or frames[-1]["type"] == "progress":
                frames.append(json.loads(await socket.recv()))
    # Its initial state is the failure, not the progress of a run that no longer exists.
    assert [frame["type"] for frame in frames] == ["analysis_failed"]
    [failed] = frames
    assert failed["analysis_id"] == stopped and failed["stage"] == "analysis"
    assert failed["data"]["analysis_status"] == "failed"
    assert failed["data"]["reason"] == TERMINATED
    assert (await _row(api_app, stopped)).status == Status.FAILED


async def test_no_temporal_no_broker_or_a_row_written_after_the_close_keeps_the_row(
    api: httpx.AsyncClient,
    climber: ClimberFactory,
    pipeline: FakePipeline,
    api_app: FastAPI,
    api_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    me = await climber()
    stopped, _ = await _awaiting_holds(api, me)
    await _terminate(api_app, stopped)
    resources: ApiResources = api_app.state.resources

    # Temporal unreachable: the row answers as it is, with a warning for the operators.
    nowhere = api_settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"})
    offline = dataclasses.replace(resources, temporal=TemporalConnection(nowhere, resources.store))
    with caplog.at_level(logging.WARNING, logger="ascension.api"):
        async with session_scope(resources.engine) as session:
            row = await session.get(Analysis, uuid.UUID(stopped))
            assert row is not None
            kept = await reconciled(offline, session, row)
    assert kept.status == Status.AWAITING_HOLD_VALIDATION
    assert f"analysis {stopped} not reconciled: Temporal unreachable" in caplog.text
    assert (await _row(api_app, stopped)).status == Status.AWAITING_HOLD_VALIDATION

    # The broker unreachable: the failure event cannot go out, so the row is put back as it
    # was (its stamp included) for a later read to try again.
    original = await _row(api_app, stopped)
    broker = f"amqp://guest:guest@127.0.0.1:{free_port()}/"
    deaf = dataclasses.replace(resources, publisher=EventPublisher(broker))
    with caplog.at_level(logging.WARNING):
        async with session_scope(resources.engine) as session:
            row = await session.get(Analysis, uuid.UUID(stopped))
            assert row is not None
            kept = await reconciled(deaf, session, row)
    assert kept.status == Status.AWAITING_HOLD_VALIDATION
    assert "its failure event was not sent" in caplog.text
    after = await _row(api_app, stopped)
    assert (after.status, after.updated_at) == (original.status, original.updated_at)
    # (Recorded for the app's replay log before the broker refused it, as the workers' own
    # publishing does: the retry that gets through reuses that row, by message id.)
    recorded = [event.id for event in await _failure_events(api_app, stopped)]

    # A row written after the run closed belongs to a new run (a redrive marks it before it
    # starts one): the closed run does not fail it.
    async with session_scope(resources.engine) as session:
        await session.exec(
            update(Analysis)
            .where(col(Analysis.id) == uuid.UUID(stopped))
            .values(status=Status.PENDING, stage=None, updated_at=datetime.now(UTC))
        )
        await session.commit()
    response = await api.get(f"{V1}/analysis/video/{stopped}", headers=me.headers)
    assert response.json()["status"] == "pending"
    assert [event.id for event in await _failure_events(api_app, stopped)] == recorded
