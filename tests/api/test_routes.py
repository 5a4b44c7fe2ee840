"""Routes through the API: list, get, delete, and the wall photo's own hold detection
(`RouteHoldsWorkflow` on the production CPU worker, the GPU side played by `FakePipeline`), whose
validated map every later video on the route reuses.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from api.events.holds import awaiting_holds
from schema.analysis import Tier
from tests.api.conftest import Climber, ClimberFactory
from tests.api.test_analyses import PHOTO, _put, _uploaded_route, _uploaded_video, _wait_for
from tests.utils.pipeline import FakePipeline

pytestmark = pytest.mark.integration

V1 = "/api/v1"


async def _holds(api: httpx.AsyncClient, who: Climber, route_id: str, state: str) -> Any:
    body: Any = None
    for _ in range(300):
        response = await api.get(f"{V1}/routes/{route_id}/holds", headers=who.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        if body["state"] == state:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"the route's holds never got {state}; last answer {body}")


async def test_detect_validate_and_reuse_the_map_for_a_video(
    api: httpx.AsyncClient, api_app: Any, climber: ClimberFactory, pipeline: FakePipeline
) -> None:
    me = await climber(Tier.PREMIUM)
    stranger = await climber()
    route_id = await _uploaded_route(api, me)
    detections = pipeline.calls.count("detect_holds")

    started = await api.post(f"{V1}/routes/{route_id}/detect", headers=me.headers)
    assert started.status_code == 202, started.text
    assert started.json()["workflow_id"] == f"route-holds-{route_id}"
    again = await api.post(f"{V1}/routes/{route_id}/detect", headers=me.headers)
    assert again.status_code == 202  # attaches to the run that waits
    assert (
        await api.post(f"{V1}/routes/{route_id}/detect", headers=stranger.headers)
    ).status_code == 404

    waiting = await _holds(api, me, route_id, "awaiting_validation")
    assert waiting["validation_deadline"]
    # The route's hold_detection.completed names the route in analysis_id: the hub's
    # holds_detected frame asks the route's run for the map when no analysis has that id.
    framed = await awaiting_holds(api_app.state.resources.temporal, route_id, wait_s=2.0)
    assert framed == waiting["hold_map"]
    corrected = waiting["hold_map"]
    broken = dict(corrected, holds=[dict(corrected["holds"][0], x=7.5), *corrected["holds"][1:]])
    refused = await api.post(
        f"{V1}/routes/{route_id}/holds", json={"hold_map": broken}, headers=me.headers
    )
    assert refused.status_code == 422, refused.text
    corrected["holds"][0]["type"] = "pinch"
    accepted = await api.post(
        f"{V1}/routes/{route_id}/holds", json={"hold_map": corrected}, headers=me.headers
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "validated"
    validated = await _holds(api, me, route_id, "validated")
    for _ in range(100):  # the run stores the map just after the Update answers
        route = (await api.get(f"{V1}/routes/{route_id}", headers=me.headers)).json()
        if route["holds_validated"]:
            break
        await asyncio.sleep(0.1)
    assert route["holds_validated"] and route["name"] == "The Arete"
    assert validated["hold_map"]["holds"][0]["type"] == "pinch"
    assert pipeline.calls.count("detect_holds") == detections + 1

    # A video on the route skips detection and validation: it goes straight on to completion.
    video_id = await _uploaded_video(api, me)
    analysis = await api.post(
        f"{V1}/analysis/video/start",
        json={"video_id": video_id, "route_id": route_id, "ghost": False},
        headers=me.headers,
    )
    assert analysis.status_code == 202, analysis.text
    analysis_id = analysis.json()["analysis_id"]
    # Completed: the analysis answers with its result document.
    document = await _wait_for(api, me, analysis_id, lambda b: "version" in b)
    assert document["analysis_id"] == analysis_id
    assert pipeline.calls.count("detect_holds") == detections + 1


async def test_list_get_delete_and_detect_needs_the_photo(
    api: httpx.AsyncClient, climber: ClimberFactory, pipeline: FakePipeline
) -> None:
    me = await climber()
    stranger = await climber()
    no_photo = await api.post(
        f"{V1}/routes/request-photo-upload",
        json={"content_type": "image/jpeg", "size_bytes": len(PHOTO)},
        headers=me.headers,
    )
    empty_id = no_photo.json()["route_id"]
    refused = await api.post(f"{V1}/routes/{empty_id}/detect", headers=me.headers)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "photo_missing"
    assert (await _put(no_photo.json(), PHOTO)).status_code == 200
    route_id = await _uploaded_route(api, me)

    listed = (await api.get(f"{V1}/routes", headers=me.headers)).json()
    assert [route["id"] for route in listed] == [route_id, empty_id]
    assert not listed[0]["holds_validated"]
    assert (await api.get(f"{V1}/routes", headers=stranger.headers)).json() == []
    assert (await api.get(f"{V1}/routes/{route_id}", headers=stranger.headers)).status_code == 404
    assert (
        await api.delete(f"{V1}/routes/{route_id}", headers=stranger.headers)
    ).status_code == 404
    assert (await api.get(f"{V1}/routes/{route_id}/holds", headers=me.headers)).json() == {
        "state": "not_ready",
        "hold_map": None,
        "validation_deadline": None,
    }

    assert (await api.delete(f"{V1}/routes/{route_id}", headers=me.headers)).status_code == 204
    assert (await api.get(f"{V1}/routes/{route_id}", headers=me.headers)).status_code == 404
    assert [r["id"] for r in (await api.get(f"{V1}/routes", headers=me.headers)).json()] == [
        empty_id
    ]


async def test_a_video_started_while_the_route_awaits_validation_waits_for_its_map(
    api: httpx.AsyncClient, climber: ClimberFactory, pipeline: FakePipeline
) -> None:
    """Issue 16: the analysis attaches to the route's wait instead of detecting again, and the
    climber validates once, through either the route's or the analysis's holds endpoint."""
    me = await climber(Tier.PREMIUM)
    route_id = await _uploaded_route(api, me)
    detections = pipeline.calls.count("detect_holds")
    assert (await api.post(f"{V1}/routes/{route_id}/detect", headers=me.headers)).is_success
    waiting = await _holds(api, me, route_id, "awaiting_validation")

    video_id = await _uploaded_video(api, me)
    started = await api.post(
        f"{V1}/analysis/video/start",
        json={"video_id": video_id, "route_id": route_id, "ghost": False},
        headers=me.headers,
    )
    assert started.status_code == 202, started.text
    analysis_id = started.json()["analysis_id"]
    await _wait_for(api, me, analysis_id, lambda b: b.get("status") == "awaiting_hold_validation")
    holds = f"{V1}/analysis/video/{analysis_id}/holds"
    shown = (await api.get(holds, headers=me.headers)).json()
    assert shown["state"] == "awaiting_validation"
    assert shown["hold_map"] == waiting["hold_map"]  # the route's detection, not a second one

    corrected = waiting["hold_map"]
    corrected["holds"][0]["type"] = "pinch"
    accepted = await api.post(holds, json={"hold_map": corrected}, headers=me.headers)
    assert accepted.status_code == 200, accepted.text
    document = await _wait_for(api, me, analysis_id, lambda b: "version" in b)
    assert document["analysis_id"] == analysis_id
    assert pipeline.calls.count("detect_holds") == detections + 1
    validated = await _holds(api, me, route_id, "validated")
    assert validated["hold_map"]["holds"][0]["type"] == "pinch"
