"""The overlay viewer (issue 18 item 2) in headless Chromium, on an analysis run through the API.

A 2 s clip filmed from a real opencv-doc photograph is uploaded to MinIO, analysed by the
production CPU worker with the GPU side played by a fake whose climber and ghost walk across
the frame, and opened in the viewer through a viewer link. The page is seeked to two frames;
screenshots prove the skeleton, the ghost and the holds are drawn where the result document
puts them at that frame, that the video shows that frame, and that the advice beside it is the
advice of that moment.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from playwright.async_api import BrowserContext, Page, ViewportSize

from api.routes.viewer import VIEWER_LINK_TTL
from ascension.media import write_clip
from ascension.render import Overlay
from core.settings import Settings
from core.storage import make_object_store
from core.temporal_client import connect_temporal
from engines.document.decode import DecodedResult, decode_result_document
from schema.analysis import Tier
from schema.models import Role
from tests.api.conftest import Climber, ClimberFactory, LiveApi, api_queue_prefix
from tests.api.test_analyses import _uploaded_route, _wait_for
from tests.utils.browser import headless_chromium
from tests.utils.overlay import (
    ADVICE,
    CHECKED,
    CLIMBER_RGB,
    CRIMP_RGB,
    FPS,
    FRAMES,
    GHOST_FIRST_FRAME,
    GHOST_RGB,
    JUG_RGB,
    SIZE,
    SLOPER_RGB,
    Canvas,
    WalkingPipeline,
    clip_frames,
    has_colour,
    validated_map,
    video_distance,
)
from tests.utils.pipeline import FakePipeline, gpu_worker
from worker_cpu.worker import build_cpu_worker, open_cpu_resources

pytestmark = [pytest.mark.integration, pytest.mark.slow]

V1 = "/api/v1"
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
#: Two moments of the climb, on frame times (so the video's frame and the skeleton's agree).
EARLY, LATE = 15, 45


@pytest.fixture(scope="module")
async def pipeline(api_settings: Settings, temporal_dev_env) -> AsyncIterator[FakePipeline]:
    """The production CPU worker and `WalkingPipeline` on the API's task queues."""
    store = make_object_store(api_settings)
    fake = WalkingPipeline(store=store, frames=FRAMES)
    async with open_cpu_resources(api_settings) as resources:
        target = temporal_dev_env.client.service_client.config.target_host
        client = await connect_temporal(api_settings, resources.store, target=target)
        async with (
            build_cpu_worker(client, resources, task_queue=api_settings.cpu_task_queue),
            gpu_worker(client, api_queue_prefix(), fake),
        ):
            yield fake
    await store.close()


async def _uploaded_clip(api: httpx.AsyncClient, who: Climber, clip: Path) -> str:
    data = clip.read_bytes()
    response = await api.post(
        f"{V1}/analysis/video/request-upload",
        json={"content_type": "video/mp4", "size_bytes": len(data)},
        headers=who.headers,
    )
    assert response.status_code == 201, response.text
    upload = response.json()
    async with httpx.AsyncClient() as plain:
        put = await plain.put(upload["upload_url"], content=data, headers=upload["headers"])
    assert put.status_code == 200, put.text
    return upload["video_id"]


async def _completed_analysis(api: httpx.AsyncClient, me: Climber, clip: Path) -> str:
    route_id = await _uploaded_route(api, me)
    video_id = await _uploaded_clip(api, me, clip)
    start = {"video_id": video_id, "route_id": route_id, "ghost": True}
    started = await api.post(f"{V1}/analysis/video/start", json=start, headers=me.headers)
    assert started.status_code == 202, started.text
    analysis_id = started.json()["analysis_id"]
    await _wait_for(api, me, analysis_id, lambda b: b["status"] == "awaiting_hold_validation")
    early = await api.post(f"{V1}/analysis/video/{analysis_id}/viewer-link", headers=me.headers)
    assert early.status_code == 409, early.text
    assert early.json()["error"]["code"] == "analysis_not_completed"
    holds = (await api.get(f"{V1}/analysis/video/{analysis_id}/holds", headers=me.headers)).json()
    validated = await api.post(
        f"{V1}/analysis/video/{analysis_id}/holds",
        json={"hold_map": validated_map(holds["hold_map"])},
        headers=me.headers,
    )
    assert validated.status_code == 200, validated.text
    await _wait_for(api, me, analysis_id, lambda b: "version" in b)
    return analysis_id


async def _open_viewer(context: BrowserContext, url: str) -> tuple[Page, list[str]]:
    """A page on ``url`` once it is ready or has failed, and the script errors it raised."""
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(url)
    await page.locator("body:not([data-state='loading'])").wait_for(state="attached")
    return page, errors


async def _seek(page: Page, frame: int, time_s: float) -> np.ndarray:
    """Seek the video to ``time_s``, wait until the overlay drew ``frame``, screenshot (BGR)."""
    await page.evaluate(
        """(t) => new Promise((resolve) => {
            const video = document.getElementById("video");
            video.addEventListener("seeked", resolve, { once: true });
            video.currentTime = t;
        })""",
        time_s,
    )
    # Selectors, not wait_for_function: the page's CSP forbids the eval that polling uses.
    await page.locator(f"body[data-frame='{frame}']").wait_for(state="attached")
    # Two animation frames: the seeked picture and the canvas are composited.
    await page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    png = await page.screenshot()
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


async def test_viewer_draws_the_analysis_over_the_video_at_the_right_place_and_time(
    api: httpx.AsyncClient,
    live_api: LiveApi,
    climber: ClimberFactory,
    pipeline: FakePipeline,
    tmp_path: Path,
) -> None:
    # VP8 in WebM: what OpenCV writes that Chromium plays (phones upload H.264, which it
    # plays too); the store serves the bytes whatever the upload's declared type.
    clip = write_clip(
        tmp_path / "clip.webm", seconds=FRAMES / FPS, fps=FPS, size=SIZE, codec="VP80"
    )
    me = await climber(Tier.PREMIUM)
    analysis_id = await _completed_analysis(api, me, clip)
    async with httpx.AsyncClient(base_url=live_api.base_url) as live:
        link = await live.post(f"{V1}/analysis/video/{analysis_id}/viewer-link", headers=me.headers)
    assert link.status_code == 201, link.text
    url = link.json()["url"]
    assert url.startswith(f"{live_api.base_url}/viewer/{analysis_id}#token=")

    document = (await api.get(f"{V1}/analysis/video/{analysis_id}", headers=me.headers)).json()
    result: DecodedResult = decode_result_document(document)
    overlay = Overlay(result)  # the Python painter: which frame a time shows
    times = result.skeleton.timestamps_s
    assert overlay.frame_at(float(times[EARLY])) == EARLY and result.ghost_first_frame == 10
    frames = clip_frames(clip, (EARLY, LATE))

    async with headless_chromium() as browser:
        page, errors = await _open_viewer(await browser.new_context(viewport=VIEWPORT), url)
        assert await page.evaluate("document.body.dataset.state") == "ready"
        # The token left the address bar as soon as the page read it.
        assert "token" not in page.url
        await page.evaluate(
            """() => new Promise((resolve) => {
                const video = document.getElementById("video");
                if (video.readyState >= 2) resolve();
                else video.addEventListener("loadeddata", resolve, { once: true });
            })"""
        )
        box = await page.locator("#overlay").bounding_box()
        assert box is not None and box["width"] > 400
        canvas = Canvas(box)
        assert abs(canvas.width / canvas.height - SIZE[0] / SIZE[1]) < 0.01

        shots = {}
        for frame in (EARLY, LATE):
            shots[frame] = await _seek(page, frame, float(times[frame]))
            cv2.imwrite(str(tmp_path / f"viewer-{frame}.png"), shots[frame])
            advice = await page.locator("#advice").inner_text()
            # The advice of that moment only (0.5 s is inside the first item's range, 1.5 s
            # inside the second's).
            first, second = (ADVICE[0]["message_en"], ADVICE[1]["message_en"])
            assert (first in advice, second in advice) == (frame == EARLY, frame == LATE)
        print(f"viewer screenshots: {tmp_path}/viewer-{EARLY}.png, viewer-{LATE}.png")
        assert not errors, errors

    for frame, other in ((EARLY, LATE), (LATE, EARLY)):
        shot = shots[frame]
        # The video shows the seeked frame (and not the other one) under the overlay.
        here = video_distance(shot, canvas, frames[frame])
        there = video_distance(shot, canvas, frames[other])
        assert here < 20 and here < there / 2, (frame, here, there)
        ghost_frame = frame - GHOST_FIRST_FRAME
        for landmark in CHECKED:
            x, y = result.skeleton.landmarks[frame, landmark, :2]
            assert has_colour(shot, canvas.point(x, y), CLIMBER_RGB), (frame, landmark)
            # Where the climber was at the other moment, there is no climber now.
            x, y = result.skeleton.landmarks[other, landmark, :2]
            assert not has_colour(shot, canvas.point(x, y), CLIMBER_RGB), (frame, landmark)
            assert result.ghost is not None
            x, y = result.ghost.landmarks[ghost_frame, landmark, :2]
            assert has_colour(shot, canvas.point(x, y), GHOST_RGB), (frame, landmark)
        # The holds of the validated map, coloured by type: the crimp's outline, the sloper's
        # box, the jug's circle around its centre; and not on the empty wall beside them.
        holds = {hold.id: hold for hold in result.hold_map.holds}
        assert has_colour(shot, canvas.point(0.50, 0.05), CRIMP_RGB, radius=3)
        assert has_colour(shot, canvas.point(0.53, 0.085), CRIMP_RGB, radius=3)
        assert not has_colour(shot, canvas.point(0.50, 0.085), CRIMP_RGB, radius=3)
        x0, y0, x1, y1 = holds["h3"].bbox or (0, 0, 0, 0)
        assert has_colour(shot, canvas.point(x0, (y0 + y1) / 2), SLOPER_RGB, radius=3)
        assert has_colour(shot, canvas.point((x0 + x1) / 2, y1), SLOPER_RGB, radius=3)
        assert not has_colour(shot, canvas.point((x0 + x1) / 2, (y0 + y1) / 2), SLOPER_RGB)
        jug = canvas.point(holds["h1"].x, holds["h1"].y)
        assert has_colour(shot, (jug[0] + 7, jug[1]), JUG_RGB, radius=2)


async def test_viewer_links_grant_one_analysis_to_its_owner_or_support_while_signed_in(
    api: httpx.AsyncClient,
    live_api: LiveApi,
    climber: ClimberFactory,
    pipeline: FakePipeline,
    tmp_path: Path,
    api_app: FastAPI,
) -> None:
    clip = write_clip(tmp_path / "clip.webm", seconds=1.0, fps=FPS, size=SIZE, codec="VP80")
    me = await climber(Tier.PREMIUM)
    stranger = await climber(Tier.PREMIUM)
    staff = await climber(role=Role.SUPPORT)
    analysis_id = await _completed_analysis(api, me, clip)

    async def link_token(who: Climber) -> httpx.Response:
        return await api.post(f"{V1}/analysis/video/{analysis_id}/viewer-link", headers=who.headers)

    assert (await link_token(stranger)).status_code == 404
    mine, theirs = await link_token(me), await link_token(staff)
    assert mine.status_code == theirs.status_code == 201
    token = mine.json()["url"].split("#token=")[1]
    staff_token = theirs.json()["url"].split("#token=")[1]

    def bearer(value: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {value}"}

    session_path = f"{V1}/viewer/{analysis_id}/session"
    for value in (token, staff_token):
        session = await api.get(session_path, headers=bearer(value))
        assert session.status_code == 200, session.text
        body = session.json()
        assert body["video_url"] and body["video_note"] is None
        async with httpx.AsyncClient() as plain:  # the presigned GET is the video itself
            assert (await plain.get(body["video_url"])).content == clip.read_bytes()
        document = await api.get(httpx.URL(body["document_url"]).path, headers=bearer(value))
        assert document.status_code == 200 and document.json()["analysis_id"] == analysis_id
    expires = mine.json()["expires_at"]
    assert expires.endswith("Z") or "+00:00" in expires
    assert VIEWER_LINK_TTL.total_seconds() <= 15 * 60

    # The page is static and public; the data needs the link's token, for this analysis only.
    html = await api.get(f"/viewer/{analysis_id}")
    assert html.status_code == 200 and "viewer.js" in html.text
    assert "script-src 'self'" in html.headers["content-security-policy"]
    assert (await api.get("/viewer/assets/viewer.js")).status_code == 200
    assert (await api.get("/viewer/assets/__init__.py")).status_code == 404
    assert (await api.get(session_path)).status_code == 401
    # An access token is not a viewer token, and a viewer token is not an access token.
    assert (await api.get(session_path, headers=me.headers)).status_code == 401
    whoami = await api.get(f"{V1}/auth/me", headers=bearer(token))
    assert whoami.status_code == 401
    other = await api.get(f"{V1}/viewer/{uuid.uuid4()}/session", headers=bearer(token))
    assert other.status_code == 404
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert (await api.get(session_path, headers=bearer(tampered))).status_code == 401

    # A video this browser cannot decode: the analysis is drawn on a blank frame instead.
    link = f"{live_api.base_url}/viewer/{analysis_id}#token={token}"
    bucket = api_app.state.settings.bucket
    async with headless_chromium() as browser:
        context = await browser.new_context(viewport=VIEWPORT)
        await context.route(
            f"**/{bucket}/**",
            lambda route: route.fulfill(body=b"not a video", content_type="video/mp4"),
        )
        page, errors = await _open_viewer(context, link)
        await page.locator("#scrub-label:not([hidden])").wait_for(state="attached")
        assert "cannot play the video" in (await page.text_content("#status") or "")
        assert not errors, errors

    # Once the video is gone (unsaved, past its 7 days) the viewer still draws the analysis.
    await api_app.state.resources.store.delete_prefix(bucket, f"uploads/{me.id}/")
    gone = (await api.get(session_path, headers=bearer(token))).json()
    assert gone["video_url"] is None and "no longer stored" in gone["video_note"]
    document = (await api.get(f"{V1}/analysis/video/{analysis_id}", headers=me.headers)).json()
    skeleton = decode_result_document(document).skeleton
    async with headless_chromium() as browser:
        page, errors = await _open_viewer(
            await browser.new_context(viewport=VIEWPORT),
            f"{live_api.base_url}/viewer/{analysis_id}",
        )
        assert await page.evaluate("document.body.dataset.state") == "error"
        assert "viewer link" in (await page.text_content("#status") or "")
        page, errors = await _open_viewer(await browser.new_context(viewport=VIEWPORT), link)
        assert "no longer stored" in (await page.text_content("#status") or "")
        assert await page.locator("#video").is_hidden()
        # Without a video, a slider sets the time the overlay shows.
        await page.locator("#scrub").fill(str(float(skeleton.timestamps_s[LATE])))
        await page.locator(f"body[data-frame='{LATE}']").wait_for(state="attached")
        box = await page.locator("#overlay").bounding_box()
        assert box is not None
        shot = cv2.imdecode(np.frombuffer(await page.screenshot(), np.uint8), cv2.IMREAD_COLOR)
        for landmark in CHECKED:
            x, y = skeleton.landmarks[LATE, landmark, :2]
            assert has_colour(shot, Canvas(box).point(x, y), CLIMBER_RGB), landmark
        assert not errors, errors

    # The link ends with the sign-in that issued it.
    assert (await api.post(f"{V1}/auth/logout", headers=me.headers)).status_code in (200, 204)
    ended = await api.get(session_path, headers=bearer(token))
    assert ended.status_code == 401 and "sign in again" in ended.json()["error"]["message"]
    assert (await api.get(session_path, headers=bearer(staff_token))).status_code == 200
