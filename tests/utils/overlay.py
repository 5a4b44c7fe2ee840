"""The walking climber of the overlay viewer's test (`tests/api/routes/test_viewer.py`): a fake
GPU side whose climber and ghost cross the frame, timed advice, a validated map with each kind of
hold outline, and reading a screenshot back: where normalised coordinates land, which colours
are drawn there, which frame of the clip is shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
from playwright.async_api import FloatRect
from temporalio import activity

from engines.pose.timeline import SkeletonTimeline
from schema.activities import COMPUTE_GHOST, EXTRACT_SKELETON, GENERATE_ADVICE
from schema.analysis import MetricsSummary
from schema.documents import AdviceDocument, GhostPlanDocument, encode_advice, encode_ghost_plan
from schema.steps import (
    AdviceInput,
    AdviceResult,
    ExtractSkeletonInput,
    GhostInput,
    GhostResult,
    SkeletonResult,
)
from tests.utils.pipeline import GHOST_VERDICT, FakePipeline

FPS = 30.0
FRAMES = 60
SIZE = (480, 270)
GHOST_FIRST_FRAME = 10
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


def validated_map(detected: dict[str, Any]) -> dict[str, Any]:
    """The climber's map: h1 (jug) a centre only, h2 (crimp) an outline, h3 (sloper) a box."""
    holds = {hold["id"]: hold for hold in detected["holds"]}
    holds["h1"].update(x=0.06, y=0.1, polygon=[], bbox=None)
    square = [(0.47, 0.05), (0.53, 0.05), (0.53, 0.12), (0.47, 0.12)]
    holds["h2"].update(x=0.5, y=0.085, polygon=square, bbox=None)
    holds["h3"].update(x=0.92, y=0.1, polygon=[], bbox=[0.88, 0.05, 0.96, 0.15])
    return {**detected, "holds": list(holds.values())}


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


def has_colour(
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


def video_distance(shot: np.ndarray, canvas: Canvas, frame: np.ndarray) -> float:
    """Median per-cell difference between the screenshot's picture and a frame of the clip:
    small cells, median over them, so the thin overlay lines barely count."""
    cells = (24, 14)
    shown = cv2.resize(canvas.crop(shot), cells, interpolation=cv2.INTER_AREA).astype(float)
    clip = cv2.resize(frame, cells, interpolation=cv2.INTER_AREA).astype(float)
    return float(np.median(np.abs(shown - clip).mean(axis=2)))


def clip_frames(clip: Path, indices: tuple[int, ...]) -> dict[int, np.ndarray]:
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
