"""What an analysis keeps, and for how long: bounded hold maps, the pinned video, cancel, delete.

Real PostgreSQL, MinIO, RabbitMQ and Temporal dev server; the production CPU worker runs the
workflow and `FakePipeline` plays the GPU side (it records the bytes the skeleton step read).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
from miniopy_async.api import Minio
from sqlmodel import col, select
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from core.db import session_scope
from core.settings import Settings
from schema import names
from schema.models import AnalysisEventRecord
from tests.api.conftest import ClimberFactory
from tests.api.test_analyses import (
    V1,
    VIDEO,
    _awaiting_holds,
    _put,
    _uploaded_route,
    _wait_for,
)
from tests.utils.pipeline import FakePipeline, dense_hold_map, detected_map

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _small_detected_map(pipeline: FakePipeline) -> None:
    pipeline.hold_map = detected_map()


async def _keys(settings: Settings, bucket: str) -> list[str]:
    """Every key in ``bucket`` (read with the S3 client itself, not our store)."""
    minio = Minio(
        settings.s3_endpoint,
        settings.s3_access_key,
        settings.s3_secret_key,
        secure=settings.s3_secure,
        region=settings.s3_region,
    )
    try:
        if not await minio.bucket_exists(bucket):
            return []
        listing = await minio.list_objects(bucket, recursive=True)
        return [item.object_name for item in listing if item.object_name]
    finally:
        await minio.close_session()


def _outline(cx: float, cy: float, points: int) -> list[list[float]]:
    step = 0.01 / points
    return [[round(cx + step * i, 6), round(cy, 6)] for i in range(points)]


# --- finding 5: bounded hold maps -----------------------------------------------------------------
async def test_an_oversized_hold_map_is_refused_before_it_reaches_the_workflow(
    api: httpx.AsyncClient,
    climber: ClimberFactory,
    pipeline: FakePipeline,
    api_settings: Settings,
) -> None:
    me = await climber()
    analysis_id, _ = await _awaiting_holds(api, me)
    holds_url = f"{V1}/analysis/video/{analysis_id}/holds"
    detected = (await api.get(holds_url, headers=me.headers)).json()["hold_map"]
    payloads_before = await _keys(api_settings, api_settings.payload_bucket)

    # Within the hold count the workflow checks (300), but 40-point outlines on every hold:
    # ~300 KB of JSON that the old API forwarded as an Update.
    dense = json.loads(json.dumps(detected))
    dense["holds"] += [
        {"id": f"user-{i}", "x": 0.5, "y": 0.5, "type": "jug", "polygon": _outline(0.4, 0.5, 40)}
        for i in range(300 - len(dense["holds"]))
    ]
    refused = await api.post(holds_url, json={"hold_map": dense}, headers=me.headers)
    assert refused.status_code == 422, refused.text[:300]
    error = refused.json()["error"]
    assert error["code"] == "hold_map_too_large"
    assert "points" in error["message"]
    assert error["details"]["max_total_points"] > 0

    # One hold carrying a 100 KB colour name: bounded too.
    padded = json.loads(json.dumps(detected))
    padded["holds"][0]["color"] = "y" * 100_000
    refused = await api.post(holds_url, json={"hold_map": padded}, headers=me.headers)
    assert refused.status_code == 422, refused.text[:300]
    assert refused.json()["error"]["code"] == "hold_map_too_large"
    assert "colour" in refused.json()["error"]["message"]

    # The workflow never saw them: nothing stored for an Update, still waiting, and a good map
    # goes through.
    assert await _keys(api_settings, api_settings.payload_bucket) == payloads_before
    state = (await api.get(f"{V1}/analysis/video/{analysis_id}", headers=me.headers)).json()
    assert state["status"] == "awaiting_hold_validation"
    accepted = await api.post(holds_url, json={"hold_map": detected}, headers=me.headers)
    assert accepted.status_code == 200, accepted.text
    await _wait_for(api, me, analysis_id, lambda b: "version" in b)


async def test_the_payload_bucket_expires_what_it_keeps(api_settings: Settings, api) -> None:
    """Payloads the histories name are kept `payload_retention_days`, then the store deletes
    them (the 30 MB an oversized map left behind used to stay for good)."""
    minio = Minio(
        api_settings.s3_endpoint,
        api_settings.s3_access_key,
        api_settings.s3_secret_key,
        secure=api_settings.s3_secure,
        region=api_settings.s3_region,
    )
    try:
        config = await minio.get_bucket_lifecycle(api_settings.payload_bucket)
    finally:
        await minio.close_session()
    assert config is not None
    rules = [
        (rule.rule_filter.prefix if rule.rule_filter else None, rule.expiration.days)
        for rule in config.rules
        if rule.status == "Enabled" and rule.expiration is not None
    ]
    assert rules == [("", api_settings.payload_retention_days)]


# --- finding 6: the video analysed is the one that was there at the start -------------------------
async def test_a_put_after_the_start_does_not_change_the_video_analysed(
    api: httpx.AsyncClient, climber: ClimberFactory, pipeline: FakePipeline
) -> None:
    me = await climber()
    route_id = await _uploaded_route(api, me)
    requested = await api.post(
        f"{V1}/analysis/video/request-upload",
        json={"content_type": "video/mp4", "size_bytes": len(VIDEO)},
        headers=me.headers,
    )
    upload = requested.json()
    assert (await _put(upload, VIDEO)).status_code == 200
    started = await api.post(
        f"{V1}/analysis/video/start",
        json={"video_id": upload["video_id"], "route_id": route_id},
        headers=me.headers,
    )
    assert started.status_code == 202, started.text
    analysis_id = started.json()["analysis_id"]
    await _wait_for(api, me, analysis_id, lambda b: b["status"] == "awaiting_hold_validation")

    # The presigned URL is still valid: replay it with other bytes of the signed length.
    swapped = b"\x00\x00\x00\x18ftypmp42" + b"S" * (len(VIDEO) - 12)
    assert len(swapped) == len(VIDEO)
    assert (await _put(upload, swapped)).status_code == 200

    holds_url = f"{V1}/analysis/video/{analysis_id}/holds"
    detected = (await api.get(holds_url, headers=me.headers)).json()["hold_map"]
    assert (await api.post(holds_url, json={"hold_map": detected}, headers=me.headers)).is_success
    await _wait_for(api, me, analysis_id, lambda b: "version" in b)
    assert pipeline.videos_read[analysis_id] == VIDEO


# --- finding 9: delete leaves nothing -------------------------------------------------------------
async def test_deleting_a_video_leaves_nothing_of_its_analyses(
    api: httpx.AsyncClient,
    climber: ClimberFactory,
    pipeline: FakePipeline,
    api_settings: Settings,
    temporal_dev_env,
) -> None:
    me = await climber()
    # A dense wall: its hold map (and the inputs carrying it) go to the payload bucket.
    pipeline.hold_map = dense_hold_map(200, outline_points=16)
    analysis_id, video_id = await _awaiting_holds(api, me)
    holds_url = f"{V1}/analysis/video/{analysis_id}/holds"
    detected = (await api.get(holds_url, headers=me.headers)).json()["hold_map"]
    accepted = await api.post(holds_url, json={"hold_map": detected}, headers=me.headers)
    assert accepted.status_code == 200, accepted.text
    await _wait_for(api, me, analysis_id, lambda b: "version" in b)

    def mine(key: str) -> bool:
        return analysis_id in key or video_id in key

    assert any(map(mine, await _keys(api_settings, api_settings.payload_bucket)))
    assert any(map(mine, await _keys(api_settings, api_settings.bucket)))
    workflow = temporal_dev_env.client.get_workflow_handle(names.analysis_workflow_id(analysis_id))
    # The result is readable once persisted; the run closes a moment later (its last events).
    await asyncio.wait_for(workflow.result(), timeout=30)
    assert (await workflow.describe()).status == WorkflowExecutionStatus.COMPLETED

    assert (await api.delete(f"{V1}/videos/{video_id}", headers=me.headers)).status_code == 204

    left = [
        key
        for bucket in (api_settings.bucket, api_settings.payload_bucket)
        for key in await _keys(api_settings, bucket)
        if mine(key)
    ]
    assert left == []
    # The history (height, weight, hold maps) goes too; the server deletes asynchronously.
    for _ in range(100):
        try:
            await workflow.describe()
        except RPCError as err:
            assert err.status == RPCStatusCode.NOT_FOUND
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the analysis' workflow execution is still there")


# --- finding 10: cancel -------------------------------------------------------------------------
async def test_cancel_ends_the_run_as_canceled_with_a_documented_event(
    api: httpx.AsyncClient,
    climber: ClimberFactory,
    pipeline: FakePipeline,
    api_app: Any,
    temporal_dev_env,
) -> None:
    me = await climber()
    analysis_id, _ = await _awaiting_holds(api, me)
    cancelled = await api.post(f"{V1}/analysis/video/{analysis_id}/cancel", headers=me.headers)
    assert cancelled.status_code == 202, cancelled.text
    state = await _wait_for(api, me, analysis_id, lambda b: b["status"] == "cancelled")
    assert state["failure_reason"] == "cancelled by the climber"

    workflow = temporal_dev_env.client.get_workflow_handle(names.analysis_workflow_id(analysis_id))
    status = None
    for _ in range(100):
        status = (await workflow.describe()).status
        if status != WorkflowExecutionStatus.RUNNING:
            break
        await asyncio.sleep(0.1)
    assert status == WorkflowExecutionStatus.CANCELED

    async with session_scope(api_app.state.resources.engine) as session:
        rows = (
            await session.exec(
                select(AnalysisEventRecord)
                .where(AnalysisEventRecord.analysis_id == uuid.UUID(analysis_id))
                .order_by(col(AnalysisEventRecord.id))
            )
        ).all()
    keys = [row.routing_key for row in rows]
    assert keys == [f"hold_detection.completed.{analysis_id}", f"analysis.failed.{analysis_id}"]
    body = rows[-1].body
    assert (body["status"], body["analysis_status"]) == ("failed", "cancelled")
    assert body["reason"] == "cancelled by the climber"
