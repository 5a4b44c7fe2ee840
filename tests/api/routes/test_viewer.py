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
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
from playwright.async_api import FloatRect, Page
from temporalio import activity

from api.routes.viewer import VIEWER_LINK_TTL
from ascension.media import write_clip
from ascension.render import Overlay
from core.settings import Settings
from core.storage import make_object_store
from core.temporal_client import connect_temporal
from engines.document.decode import DecodedResult, decode_result_document
from engines.pose.timeline import SkeletonTimeline
from schema.activities import COMPUTE_GHOST, EXTRACT_SKELETON, GENERATE_ADVICE
from schema.analysis import MetricsSummary, Tier
from schema.documents import AdviceDocument, GhostPlanDocument, encode_advice, encode_ghost_plan
from schema.models import Role
from schema.steps import (
    AdviceInput,
    AdviceResult,
    ExtractSkeletonInput,
    GhostInput,
    GhostResult,
    SkeletonResult,
)
from tests.api.conftest import Climber, ClimberFactory, LiveApi, api_queue_prefix
from tests.api.test_analyses import _uploaded_route, _wait_for
from tests.utils.browser import headless_chromium
from tests.utils.pipeline import GHOST_VERDICT, FakePipeline, gpu_worker
from worker_cpu.worker import build_cpu_worker, open_cpu_resources

pytestmark = [pytest.mark.integration, pytest.mark.slow]

V1 = "/api/v1"
FPS = 30.0
FRAMES = 60
SIZE = (480, 270)
GHOST_FIRST_FRAME = 10
#: Two moments of the climb, on frame times (so the video's frame and the skeleton's agree).
EARLY, LATE = 15, 45
#: A stick figure around the hips, normalised offsets (dx, dy) for the 33 MediaPipe landmarks.
FIGURE = np.array(
    [(0.0, -0.3)] + [(0.01 * (1 if i % 2 else -1), -0.3) for i in range(10)]
    + [(-0.06, -0.2), (0.06, -0.2), (-0.08, -0.1), (0.1, -0.25), (-0.08, 0.0), (0.1, -0.33)]
    + [(-0.085, 0.01), (0.105, -0.34)] * 3
    + [(-0.04, 0.0), (0.04, 0.0), (-0.06, 0.13), (0.06, 0.13), (-0.06, 0.26), (0.06, 0.26)]
    + [(-0.065, 0.28), (0.065, 0.28), (-0.03, 0.29), (0.03, 0.29)]
)  # fmt: skip
ADVICE: list[dict[str, Any]] = [
    {
        "rule_id": "hips_far_from_wall",
        "move_index": 0,
        "start_s": 0.2,
        "end_s": 0.7,
        "limbs": ["left_hand"],
        "holds": ["h2"],
        "severity": "warning",
        "message_key": "advice.hips_far_from_wall",
        "message_en": "Bring your hips to the wall before reaching for the crimp.",
        "evidence": {"hip_wall_distance_cm": 31.0},
    },
    {
        "rule_id": "long_rest",
        "move_index": None,
        "start_s": 1.3,
        "end_s": 1.6,
        "limbs": [],
        "holds": [],
        "severity": "info",
        "message_key": "advice.long_rest",
        "message_en": "You rested 0.3 s with bent arms: rest on straight arms.",
        "evidence": {"rest_s": 0.3},
    },
]


def _figure(centres_x: np.ndarray, centre_y: float) -> np.ndarray:
    """(T, 33, 4) landmarks of the stick figure with its hips at each x."""
    xy = FIGURE[None] + np.stack([centres_x, np.full_like(centres_x, centre_y)], axis=1)[:, None]
    frames = len(centres_x)
    return np.concatenate([xy, np.zeros((frames, 33, 1)), np.ones((frames, 33, 1))], axis=2)


def _timeline(landmarks: np.ndarray, first: int = 0) -> SkeletonTimeline:
    frames = len(landmarks)
    times = (first + np.arange(frames)) / FPS
    return SkeletonTimeline(times, landmarks, np.zeros(frames, np.uint8), *SIZE, FPS)


def climber_timeline() -> SkeletonTimeline:
    """The climber crosses from x 0.15 to 0.65 of the frame over the clip."""
    return _timeline(_figure(0.15 + 0.5 * np.arange(FRAMES) / FRAMES, 0.5))


def ghost_timeline() -> SkeletonTimeline:
    """The ghost, from frame 10 on, 0.3 of the frame to the climber's right."""
    frames = np.arange(GHOST_FIRST_FRAME, FRAMES)
    return _timeline(_figure(0.45 + 0.5 * frames / FRAMES, 0.5), first=GHOST_FIRST_FRAME)


class WalkingPipeline(FakePipeline):
    """The fake GPU steps, storing the walking climber, its ghost and timed advice."""

    @activity.defn(name=EXTRACT_SKELETON.name)
    async def extract_skeleton(self, params: ExtractSkeletonInput) -> SkeletonResult:
        result = await FakePipeline.extract_skeleton(self, params)
        assert self.store is not None
        await self.store.put_bytes(params.bucket, params.output_key, climber_timeline().to_bytes())
        return result

    @activity.defn(name=GENERATE_ADVICE.name)
    async def generate_advice(self, params: AdviceInput) -> AdviceResult:
        move = {"index": 0, "limb": "left_hand", "from_hold": None, "to_hold": "h2"}
        document = AdviceDocument(moves=[{**move, "start_s": 0.3, "end_s": 0.6}], advice=ADVICE)
        assert self.store is not None
        await self.store.put_bytes(params.bucket, params.output_key, encode_advice(document))
        return AdviceResult(params.output_key, 1, len(ADVICE), MetricsSummary(max_reach_cm=170))

    @activity.defn(name=COMPUTE_GHOST.name)
    async def compute_ghost(self, params: GhostInput) -> GhostResult:
        result = await FakePipeline.compute_ghost(self, params)
        assert self.store is not None
        await self.store.put_bytes(params.bucket, params.output_key, ghost_timeline().to_bytes())
        plan = encode_ghost_plan(GhostPlanDocument(verdict=GHOST_VERDICT))
        assert result.plan_key is not None
        await self.store.put_bytes(params.bucket, result.plan_key, plan)
        return result


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


def _validated_map(detected: dict[str, Any]) -> dict[str, Any]:
    """The climber's map: h1 (jug) a centre only, h2 (crimp) an outline, h3 (sloper) a box."""
    holds = {hold["id"]: hold for hold in detected["holds"]}
    holds["h1"].update(x=0.06, y=0.1, polygon=[], bbox=None)
    square = [(0.47, 0.05), (0.53, 0.05), (0.53, 0.12), (0.47, 0.12)]
    holds["h2"].update(x=0.5, y=0.085, polygon=square, bbox=None)
    holds["h3"].update(x=0.92, y=0.1, polygon=[], bbox=[0.88, 0.05, 0.96, 0.15])
    return {**detected, "holds": list(holds.values())}


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
        json={"hold_map": _validated_map(holds["hold_map"])},
        headers=me.headers,
    )
    assert validated.status_code == 200, validated.text
    await _wait_for(api, me, analysis_id, lambda b: "version" in b)
    return analysis_id


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


class Canvas:
    """Where normalised coordinates land in the screenshot (CSS pixels at device ratio 1)."""

    def __init__(self, box: FloatRect) -> None:
        self.left, self.top = box["x"], box["y"]
        self.width, self.height = box["width"], box["height"]

    def point(self, x: float, y: float) -> tuple[int, int]:
        return round(self.left + x * self.width), round(self.top + y * self.height)

    def crop(self, image: np.ndarray) -> np.ndarray:
        top, left = round(self.top), round(self.left)
        return image[top : top + round(self.height), left : left + round(self.width)]


def _has_colour(
    image: np.ndarray, at: tuple[int, int], rgb: tuple[int, int, int], radius: int = 4
) -> bool:
    """Any pixel within ``radius`` of ``at`` is ``rgb`` (to within anti-aliasing)."""
    x, y = at
    patch = image[y - radius : y + radius + 1, x - radius : x + radius + 1].astype(int)
    bgr = np.array(rgb[::-1])
    return bool((np.abs(patch - bgr).max(axis=2) <= 30).any())


CLIMBER_RGB = (80, 220, 80)
GHOST_RGB = (230, 90, 230)
CRIMP_RGB = (255, 64, 64)
SLOPER_RGB = (77, 166, 255)
JUG_RGB = (255, 200, 0)
#: Landmarks checked: left hip, right wrist, left ankle, right shoulder.
CHECKED = (23, 16, 27, 12)


def _video_distance(shot: np.ndarray, canvas: Canvas, frame: np.ndarray) -> float:
    """Median per-cell difference between the screenshot's picture and a frame of the clip:
    small cells, median over them, so the thin overlay lines barely count."""
    cells = (24, 14)
    shown = cv2.resize(canvas.crop(shot), cells, interpolation=cv2.INTER_AREA).astype(float)
    clip = cv2.resize(frame, cells, interpolation=cv2.INTER_AREA).astype(float)
    return float(np.median(np.abs(shown - clip).mean(axis=2)))


def _clip_frames(clip: Path, indices: tuple[int, ...]) -> dict[int, np.ndarray]:
    capture = cv2.VideoCapture(str(clip))
    frames, index = {}, 0
    try:
        while index <= max(indices):
            ok, image = capture.read()
            assert ok, f"the clip ends before frame {index}"
            if index in indices:
                frames[index] = image
            index += 1
    finally:
        capture.release()
    return frames


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
    frames = _clip_frames(clip, (EARLY, LATE))

    async with headless_chromium() as browser:
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(url)
        await page.locator("body:not([data-state='loading'])").wait_for(state="attached")
        status = await page.text_content("#status")
        assert await page.evaluate("document.body.dataset.state") == "ready", status
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
        here = _video_distance(shot, canvas, frames[frame])
        there = _video_distance(shot, canvas, frames[other])
        assert here < 20 and here < there / 2, (frame, here, there)
        ghost_frame = frame - GHOST_FIRST_FRAME
        for landmark in CHECKED:
            x, y = result.skeleton.landmarks[frame, landmark, :2]
            assert _has_colour(shot, canvas.point(x, y), CLIMBER_RGB), (frame, landmark)
            # Where the climber was at the other moment, there is no climber now.
            x, y = result.skeleton.landmarks[other, landmark, :2]
            assert not _has_colour(shot, canvas.point(x, y), CLIMBER_RGB), (frame, landmark)
            assert result.ghost is not None
            x, y = result.ghost.landmarks[ghost_frame, landmark, :2]
            assert _has_colour(shot, canvas.point(x, y), GHOST_RGB), (frame, landmark)
        # The holds of the validated map, coloured by type: the crimp's outline, the sloper's
        # box, the jug's circle around its centre; and not on the empty wall beside them.
        holds = {hold.id: hold for hold in result.hold_map.holds}
        assert _has_colour(shot, canvas.point(0.50, 0.05), CRIMP_RGB, radius=3)
        assert _has_colour(shot, canvas.point(0.53, 0.085), CRIMP_RGB, radius=3)
        assert not _has_colour(shot, canvas.point(0.50, 0.085), CRIMP_RGB, radius=3)
        x0, y0, x1, y1 = holds["h3"].bbox or (0, 0, 0, 0)
        assert _has_colour(shot, canvas.point(x0, (y0 + y1) / 2), SLOPER_RGB, radius=3)
        assert _has_colour(shot, canvas.point((x0 + x1) / 2, y1), SLOPER_RGB, radius=3)
        assert not _has_colour(shot, canvas.point((x0 + x1) / 2, (y0 + y1) / 2), SLOPER_RGB)
        jug = canvas.point(holds["h1"].x, holds["h1"].y)
        assert _has_colour(shot, (jug[0] + 7, jug[1]), JUG_RGB, radius=2)


async def test_viewer_links_grant_one_analysis_to_its_owner_or_support_while_signed_in(
    api: httpx.AsyncClient,
    live_api: LiveApi,
    climber: ClimberFactory,
    pipeline: FakePipeline,
    tmp_path: Path,
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
    page = await api.get(f"/viewer/{analysis_id}")
    assert page.status_code == 200 and "viewer.js" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
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

    # The link ends with the sign-in that issued it.
    assert (await api.post(f"{V1}/auth/logout", headers=me.headers)).status_code in (200, 204)
    ended = await api.get(session_path, headers=bearer(token))
    assert ended.status_code == 401 and "sign in again" in ended.json()["error"]["message"]
    assert (await api.get(session_path, headers=bearer(staff_token))).status_code == 200
