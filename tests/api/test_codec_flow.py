"""A climber's whole analysis on an encrypted deployment: the API, the production CPU worker and
the GPU worker all go through the one converter, so the flow works as before while the server
and the payload bucket only ever see ciphertext, and the codec reads it back for support.

Real PostgreSQL, MinIO, RabbitMQ and Temporal dev server; `FakePipeline` plays the GPU side.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from google.protobuf import json_format
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from core.temporal_client import connect_temporal
from schema import names
from schema.analysis import Tier
from schema.models import Role
from tests.api.conftest import ClimberFactory, api_queue_prefix
from tests.api.test_analyses import V1, _uploaded_route, _uploaded_video, _wait_for
from tests.utils.codec import encrypted_settings, payloads_in, running_app
from tests.utils.pipeline import FakePipeline, dense_hold_map, gpu_worker
from worker_cpu.worker import build_cpu_worker, open_cpu_resources

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def encrypted_api(
    api_settings: Settings, api_app: FastAPI, temporal_dev_env: WorkflowEnvironment
) -> AsyncIterator[tuple[httpx.AsyncClient, FakePipeline]]:
    """The API and both workers on the session's queues, all with the same key ring."""
    settings = encrypted_settings(api_settings)
    target = temporal_dev_env.client.service_client.config.target_host
    async with open_cpu_resources(settings) as resources, running_app(settings) as app:
        # The detected map of a dense wall: too big for history, so it goes to the bucket.
        fake = FakePipeline(store=resources.store, hold_map=dense_hold_map(120, outline_points=12))
        client = await connect_temporal(settings, resources.store, target=target)
        async with (
            build_cpu_worker(client, resources, task_queue=settings.cpu_task_queue),
            gpu_worker(client, api_queue_prefix(), fake),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as api,
        ):
            yield api, fake


async def test_the_climber_flow_works_and_history_keeps_no_hold_in_the_clear(
    encrypted_api: tuple[httpx.AsyncClient, FakePipeline],
    climber: ClimberFactory,
    temporal_dev_env: WorkflowEnvironment,
) -> None:
    api, _ = encrypted_api
    me = await climber(Tier.PREMIUM)
    route_id = await _uploaded_route(api, me)
    video_id = await _uploaded_video(api, me)
    started = await api.post(
        f"{V1}/analysis/video/start",
        json={"video_id": video_id, "route_id": route_id, "ghost": True},
        headers=me.headers,
    )
    assert started.status_code == 202, started.text
    analysis_id = started.json()["analysis_id"]

    # The status Query, the detected map and the validate_holds Update, all encrypted.
    await _wait_for(api, me, analysis_id, lambda b: b["status"] == "awaiting_hold_validation")
    holds = await api.get(f"{V1}/analysis/video/{analysis_id}/holds", headers=me.headers)
    hold_map = holds.json()["hold_map"]
    assert len(hold_map["holds"]) == 120
    hold_map["holds"][0]["type"] = "pinch"
    hold_map["holds"].append(dict(hold_map["holds"][1], id="user-corrected-by-climber"))
    validated = await api.post(
        f"{V1}/analysis/video/{analysis_id}/holds", json={"hold_map": hold_map}, headers=me.headers
    )
    assert validated.status_code == 200, validated.text
    # Once completed, the answer is the stored result document.
    document = await _wait_for(api, me, analysis_id, lambda b: "status" not in b)
    assert document["analysis_id"] == analysis_id

    handle = temporal_dev_env.client.get_workflow_handle(names.analysis_workflow_id(analysis_id))
    history = await handle.fetch_history()
    raw = history.to_json().encode()
    for plaintext in (b"corrected-by-climber", b'"holds"', route_id.encode()):
        assert plaintext not in raw, plaintext

    # Support reads the correction back through the codec.
    staff = await climber(role=Role.SUPPORT)
    decoded = await _decoded(api, staff.headers, history)
    assert any("corrected-by-climber" in text for text in decoded)
    assert not any("claimData" in text for text in decoded)


async def test_a_failure_reaches_the_climber_while_its_message_stays_out_of_history(
    encrypted_api: tuple[httpx.AsyncClient, FakePipeline],
    climber: ClimberFactory,
    temporal_dev_env: WorkflowEnvironment,
) -> None:
    api, fake = encrypted_api
    me = await climber(Tier.PREMIUM)
    route_id = await _uploaded_route(api, me)
    video_id = await _uploaded_video(api, me)
    fake.detect_bad_input = True
    try:
        started = await api.post(
            f"{V1}/analysis/video/start",
            json={"video_id": video_id, "route_id": route_id},
            headers=me.headers,
        )
        assert started.status_code == 202, started.text
        analysis_id = started.json()["analysis_id"]
        failed = await _wait_for(api, me, analysis_id, lambda b: b.get("status") == "failed")
    finally:
        fake.detect_bad_input = False
    assert "photograph the whole wall" in failed["failure_reason"]

    handle = temporal_dev_env.client.get_workflow_handle(names.analysis_workflow_id(analysis_id))
    history = await handle.fetch_history()
    assert b"photograph the whole wall" not in history.to_json().encode()
    staff = await climber(role=Role.SUPPORT)
    decoded = await _decoded(api, staff.headers, history)
    assert any("photograph the whole wall" in text for text in decoded)


async def _decoded(api: httpx.AsyncClient, headers: dict, history: WorkflowHistory) -> list[str]:
    """Every payload of ``history`` (failures' encoded messages included) through the codec."""
    payloads = [p for event in history.events for p in payloads_in(event)]
    answer = await api.post(
        "/codec/decode",
        json={"payloads": [json_format.MessageToDict(p) for p in payloads]},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    return [_data(item) for item in answer.json()["payloads"]]


def _data(item: dict) -> str:
    return base64.b64decode(item.get("data", "")).decode(errors="replace")
