"""The analysis lifecycle through the API: presigned uploads to MinIO, start, holds, result.

Real PostgreSQL, MinIO (uploads are PUT with a plain HTTP client) and Temporal dev server; the
workflow runs on the production CPU worker with the GPU side played by `FakePipeline`.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from core.db import session_scope
from core.settings import Settings
from core.storage import make_object_store
from schema import names
from schema.analysis import Status, Tier
from schema.models import Analysis, Role, UsageQuota, Video
from tests.api.conftest import Climber, ClimberFactory
from tests.utils.pipeline import FakePipeline

pytestmark = pytest.mark.integration

V1 = "/api/v1"
VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"v" * 4000
PHOTO = b"\xff\xd8\xff\xe0" + b"p" * 3000


async def _put(upload: dict[str, Any], data: bytes, **header_overrides: str) -> httpx.Response:
    headers = {"Content-Type": upload["headers"]["Content-Type"], **header_overrides}
    async with httpx.AsyncClient() as plain:
        return await plain.put(upload["upload_url"], content=data, headers=headers)


async def _uploaded_video(api: httpx.AsyncClient, who: Climber, data: bytes = VIDEO) -> str:
    response = await api.post(
        f"{V1}/analysis/video/request-upload",
        json={"content_type": "video/mp4", "size_bytes": len(data)},
        headers=who.headers,
    )
    assert response.status_code == 201, response.text
    upload = response.json()
    assert (await _put(upload, data)).status_code == 200
    return upload["video_id"]


async def _uploaded_route(api: httpx.AsyncClient, who: Climber) -> str:
    response = await api.post(
        f"{V1}/routes/request-photo-upload",
        json={"content_type": "image/jpeg", "size_bytes": len(PHOTO), "name": "The Arete"},
        headers=who.headers,
    )
    assert response.status_code == 201, response.text
    upload = response.json()
    assert (await _put(upload, PHOTO)).status_code == 200
    return upload["route_id"]


async def _wait_for(api: httpx.AsyncClient, who: Climber, analysis_id: str, predicate) -> Any:
    body: Any = None
    for _ in range(300):
        response = await api.get(f"{V1}/analysis/video/{analysis_id}", headers=who.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        if predicate(body):
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"analysis never got there; last answer {body}")


async def _awaiting_holds(api: httpx.AsyncClient, who: Climber) -> tuple[str, str]:
    """A started analysis of fresh uploads, its run waiting for the climber's holds:
    (analysis id, video id)."""
    route_id = await _uploaded_route(api, who)
    video_id = await _uploaded_video(api, who)
    started = await api.post(
        f"{V1}/analysis/video/start",
        json={"video_id": video_id, "route_id": route_id},
        headers=who.headers,
    )
    assert started.status_code == 202, started.text
    analysis_id: str = started.json()["analysis_id"]
    await _wait_for(api, who, analysis_id, lambda b: b["status"] == "awaiting_hold_validation")
    return analysis_id, video_id


async def _validate_detected_holds(api: httpx.AsyncClient, who: Climber, analysis_id: str) -> None:
    """The climber accepts the detected holds as they are."""
    holds = await api.get(f"{V1}/analysis/video/{analysis_id}/holds", headers=who.headers)
    validated = await api.post(
        f"{V1}/analysis/video/{analysis_id}/holds",
        json={"hold_map": holds.json()["hold_map"]},
        headers=who.headers,
    )
    assert validated.status_code == 200, validated.text


async def test_upload_start_validate_holds_and_fetch_the_result(
    api: httpx.AsyncClient,
    climber: ClimberFactory,
    pipeline: FakePipeline,
    api_app: FastAPI,
) -> None:
    me = await climber(Tier.PREMIUM)
    stranger = await climber(Tier.PREMIUM)
    route_id = await _uploaded_route(api, me)
    video_id = await _uploaded_video(api, me)

    start = {"video_id": video_id, "route_id": route_id, "ghost": True}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = await api.post(f"{V1}/analysis/video/start", json=start, headers={**me.headers, **key})
    assert first.status_code == 202, first.text
    started = first.json()
    assert started["job_id"] == started["analysis_id"]
    assert started["workflow_id"] == f"analysis-{started['analysis_id']}"
    again = await api.post(f"{V1}/analysis/video/start", json=start, headers={**me.headers, **key})
    assert again.status_code == 200
    assert again.json()["analysis_id"] == started["analysis_id"]
    analysis_id = started["analysis_id"]

    waiting = await _wait_for(
        api, me, analysis_id, lambda b: b["status"] == "awaiting_hold_validation"
    )
    assert waiting["progress"]["holds_awaiting_validation"] is True
    holds = (await api.get(f"{V1}/analysis/video/{analysis_id}/holds", headers=me.headers)).json()
    assert holds["state"] == "awaiting_validation"
    assert len(holds["hold_map"]["holds"]) == len(pipeline.hold_map.holds)

    # A map the workflow's validator refuses: 422 with its message, and it keeps waiting.
    broken = json.loads(json.dumps(holds["hold_map"]))
    broken["holds"][0]["x"] = 7.5
    broken["holds"].append(dict(broken["holds"][1], id="made-up"))
    refused = await api.post(
        f"{V1}/analysis/video/{analysis_id}/holds", json={"hold_map": broken}, headers=me.headers
    )
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "invalid_hold_map"
    assert "made-up" in error["message"]

    # Nobody else can read or drive it.
    for method, path, body in (
        ("GET", f"/analysis/video/{analysis_id}", None),
        ("GET", f"/analysis/video/{analysis_id}/holds", None),
        ("POST", f"/analysis/video/{analysis_id}/holds", {"hold_map": holds["hold_map"]}),
        ("POST", f"/analysis/video/{analysis_id}/cancel", None),
        ("GET", f"/videos/{video_id}", None),
        ("POST", f"/videos/{video_id}/save", None),
        ("DELETE", f"/videos/{video_id}", None),
    ):
        response = await api.request(method, V1 + path, json=body, headers=stranger.headers)
        assert response.status_code == 404, (method, path, response.text)
        assert analysis_id not in response.text
    theirs = await api.post(
        f"{V1}/analysis/video/start",
        json=start,
        headers=stranger.headers,
    )
    assert theirs.status_code == 404

    pipeline.skeleton_gate = asyncio.Event()  # hold the skeleton step half done
    accepted = await api.post(
        f"{V1}/analysis/video/{analysis_id}/holds",
        json={"hold_map": holds["hold_map"]},
        headers=me.headers,
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "validated"

    # REST names the running step (the row's stage only changes with the status).
    running = await _wait_for(
        api, me, analysis_id, lambda b: (b.get("progress") or {}).get("step_done") is not None
    )
    assert (running["status"], running["stage"]) == ("processing", "skeleton")
    pipeline.skeleton_gate.set()

    document = await _wait_for(api, me, analysis_id, lambda b: "version" in b)
    assert document["analysis_id"] == analysis_id

    # Served as stored: gzip bytes with an ETag; a revalidation costs a 304.
    async with api.stream(
        "GET",
        f"{V1}/analysis/video/{analysis_id}",
        headers={**me.headers, "Accept-Encoding": "gzip"},
    ) as raw:
        assert raw.headers["content-encoding"] == "gzip"
        assert raw.headers["content-type"] == "application/json"
        etag = raw.headers["etag"]
        stored = b"".join([chunk async for chunk in raw.aiter_raw()])
    assert json.loads(gzip.decompress(stored)) == document
    plain = await api.get(
        f"{V1}/analysis/video/{analysis_id}", headers={**me.headers, "Accept-Encoding": "identity"}
    )
    assert "content-encoding" not in plain.headers
    assert plain.json() == document
    cached = await api.get(
        f"{V1}/analysis/video/{analysis_id}", headers={**me.headers, "If-None-Match": etag}
    )
    assert cached.status_code == 304

    listed = (await api.get(f"{V1}/analysis/video", headers=me.headers)).json()
    assert [item["id"] for item in listed["items"]] == [analysis_id]
    assert listed["items"][0]["status"] == "completed"
    assert (await api.get(f"{V1}/analysis/video", headers=stranger.headers)).json()["items"] == []

    # The validated map is the route's now: the next video on it skips detection.
    holds_after = await api.get(f"{V1}/analysis/video/{analysis_id}/holds", headers=me.headers)
    assert holds_after.json()["state"] == "validated"
    async with session_scope(api_app.state.resources.engine) as session:
        quota = await session.get(UsageQuota, (me.id, _month()))
        assert quota is not None and quota.used == 1


def _month() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m")


async def test_presigned_uploads_bind_type_size_and_prefix(
    api: httpx.AsyncClient, climber: ClimberFactory, api_settings: Settings
) -> None:
    me = await climber()
    response = await api.post(
        f"{V1}/analysis/video/request-upload",
        # A key or user id in the body is not part of the contract: it is ignored.
        json={"content_type": "video/mp4", "size_bytes": 1000, "key": "uploads/someone/x.mp4"},
        headers=me.headers,
    )
    assert response.status_code == 201
    upload = response.json()
    assert upload["key"] == f"uploads/{me.id}/{upload['video_id']}.mp4"
    assert upload["method"] == "PUT"

    wrong_type = await _put(upload, b"x" * 1000, **{"Content-Type": "text/html"})
    assert wrong_type.status_code == 403
    wrong_size = await _put(upload, b"x" * 5000)
    assert wrong_size.status_code == 403
    # The signature covers the path: the URL cannot be steered to another key.
    steered = dict(upload, upload_url=upload["upload_url"].replace(str(me.id), str(uuid.uuid4())))
    assert (await _put(steered, b"x" * 1000)).status_code == 403
    assert (await _put(upload, b"x" * 1000)).status_code == 200
    store = make_object_store(api_settings)
    try:
        assert await store.size(api_settings.bucket, upload["key"]) == 1000
    finally:
        await store.close()

    too_big = await api.post(
        f"{V1}/analysis/video/request-upload",
        json={"content_type": "video/mp4", "size_bytes": api_settings.max_video_upload_bytes + 1},
        headers=me.headers,
    )
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "too_large"
    not_video = await api.post(
        f"{V1}/analysis/video/request-upload",
        json={"content_type": "application/x-sh", "size_bytes": 10},
        headers=me.headers,
    )
    assert not_video.status_code == 422
    anonymous = await api.post(
        f"{V1}/analysis/video/request-upload", json={"content_type": "video/mp4", "size_bytes": 9}
    )
    assert anonymous.status_code == 401


async def test_start_refuses_missing_upload_foreign_ids_ghost_on_freemium_and_spent_quota(
    api: httpx.AsyncClient, climber: ClimberFactory, api_app: FastAPI
) -> None:
    me = await climber()
    other = await climber()
    route_id = await _uploaded_route(api, me)
    requested = await api.post(
        f"{V1}/analysis/video/request-upload",
        json={"content_type": "video/mp4", "size_bytes": 100},
        headers=me.headers,
    )
    never_uploaded = requested.json()["video_id"]
    start = f"{V1}/analysis/video/start"

    missing = await api.post(
        start, json={"video_id": never_uploaded, "route_id": route_id}, headers=me.headers
    )
    assert missing.status_code == 409
    assert missing.json()["error"]["code"] == "video_not_uploaded"

    video_id = await _uploaded_video(api, me)
    other_route = await _uploaded_route(api, other)
    foreign = await api.post(
        start, json={"video_id": video_id, "route_id": other_route}, headers=me.headers
    )
    assert foreign.status_code == 404

    ghost = await api.post(
        start, json={"video_id": video_id, "route_id": route_id, "ghost": True}, headers=me.headers
    )
    assert ghost.status_code == 403
    assert ghost.json()["error"]["code"] == "ghost_not_in_plan"
    assert "premium" in ghost.json()["error"]["message"]

    async with session_scope(api_app.state.resources.engine) as session:
        session.add(UsageQuota(user_id=me.id, period=_month(), used=Tier.FREEMIUM.monthly_analyses))
        await session.commit()
    spent = await api.post(
        start, json={"video_id": video_id, "route_id": route_id}, headers=me.headers
    )
    assert spent.status_code == 402
    error = spent.json()["error"]
    assert error["code"] == "quota_exceeded"
    assert "10 analyses of the freemium plan" in error["message"]
    async with session_scope(api_app.state.resources.engine) as session:
        quota = await session.get(UsageQuota, (me.id, _month()))
        assert quota is not None and quota.used == 10  # a refused start costs nothing


async def test_concurrent_starts_never_exceed_the_quota(
    api: httpx.AsyncClient, climber: ClimberFactory, api_app: FastAPI, pipeline: FakePipeline
) -> None:
    me = await climber()
    route_id = await _uploaded_route(api, me)
    videos = [await _uploaded_video(api, me) for _ in range(3)]
    async with session_scope(api_app.state.resources.engine) as session:
        session.add(UsageQuota(user_id=me.id, period=_month(), used=9))
        await session.commit()
    answers = await asyncio.gather(
        *(
            api.post(
                f"{V1}/analysis/video/start",
                json={"video_id": video, "route_id": route_id},
                headers=me.headers,
            )
            for video in videos
        )
    )
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [202, 402, 402], [a.text for a in answers]
    started = next(a.json()["analysis_id"] for a in answers if a.status_code == 202)
    cancelled = await api.post(f"{V1}/analysis/video/{started}/cancel", headers=me.headers)
    assert cancelled.status_code == 202
    await _wait_for(api, me, started, lambda b: b["status"] == "cancelled")
    again = await api.post(f"{V1}/analysis/video/{started}/cancel", headers=me.headers)
    assert again.status_code == 409


async def test_save_then_delete_a_video_and_everything_stored(
    api: httpx.AsyncClient, climber: ClimberFactory, api_settings: Settings, api_app: FastAPI
) -> None:
    me = await climber()
    video_id = await _uploaded_video(api, me)
    saved = await api.post(f"{V1}/videos/{video_id}/save", headers=me.headers)
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["saved"] is True and body["expires_at"] is None
    assert body["storage_url"] == f"saved/{me.id}/{video_id}.mp4"
    store = make_object_store(api_settings)
    try:
        assert await store.exists(api_settings.bucket, body["storage_url"])
        # An analysis row with a stored result, to see the delete take everything.
        analysis = Analysis(video_id=uuid.UUID(video_id), user_id=me.id, status=Status.COMPLETED)
        async with session_scope(api_app.state.resources.engine) as session:
            session.add(analysis)
            await session.commit()
        result = names.result_key(str(analysis.id), "result")
        await store.put_bytes(api_settings.bucket, result, gzip.compress(b"{}"))

        assert (await api.delete(f"{V1}/videos/{video_id}", headers=me.headers)).status_code == 204
        assert not await store.exists(api_settings.bucket, body["storage_url"])
        assert not await store.exists(api_settings.bucket, f"uploads/{me.id}/{video_id}.mp4")
        assert not await store.exists(api_settings.bucket, result)
    finally:
        await store.close()
    assert (await api.get(f"{V1}/videos/{video_id}", headers=me.headers)).status_code == 404
    gone = await api.get(f"{V1}/analysis/video/{analysis.id}", headers=me.headers)
    assert gone.status_code == 404


async def test_list_pages_newest_first(
    api: httpx.AsyncClient, climber: ClimberFactory, api_app: FastAPI
) -> None:
    me = await climber()
    video = Video(user_id=me.id, storage_url=f"uploads/{me.id}/v.mp4")
    async with session_scope(api_app.state.resources.engine) as session:
        session.add(video)
        await session.flush()
        rows = [Analysis(video_id=video.id, user_id=me.id) for _ in range(5)]
        for index, row in enumerate(rows):
            row.created_at = row.created_at + timedelta(seconds=index)
            session.add(row)
        await session.commit()
    seen: list[str] = []
    cursor = None
    for _ in range(4):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await api.get(f"{V1}/analysis/video", params=params, headers=me.headers)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [str(row.id) for row in reversed(rows)]
    bad = await api.get(f"{V1}/analysis/video", params={"cursor": "nonsense"}, headers=me.headers)
    assert bad.status_code == 422


async def test_support_reads_any_analysis_users_cannot(
    api: httpx.AsyncClient, climber: ClimberFactory, api_app: FastAPI
) -> None:
    me = await climber()
    staff = await climber(role=Role.SUPPORT)
    video = Video(user_id=me.id, storage_url=f"uploads/{me.id}/v.mp4")
    async with session_scope(api_app.state.resources.engine) as session:
        session.add(video)
        await session.flush()
        analysis = Analysis(video_id=video.id, user_id=me.id, status=Status.FAILED)
        session.add(analysis)
        await session.commit()
        await session.exec(
            update(Analysis)
            .where(Analysis.id == analysis.id)  # type: ignore[arg-type]
            .values(failure_reason="no climber found")
        )
        await session.commit()
    path = f"{V1}/support/analyses/{analysis.id}"
    assert (await api.get(path, headers=me.headers)).status_code == 403
    seen = await api.get(path, headers=staff.headers)
    assert seen.status_code == 200, seen.text
    assert seen.json()["workflow_id"] == f"analysis-{analysis.id}"
    assert seen.json()["user_id"] == str(me.id)
    assert seen.json()["failure_reason"] == "no climber found"
