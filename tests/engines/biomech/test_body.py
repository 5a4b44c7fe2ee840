"""Body scale: the skeleton's size on screen and the pixels-per-centimetre scale."""

from __future__ import annotations

import numpy as np
import pytest

from engines.biomech.body import (
    DEFAULT_HEIGHT_CM,
    body_height_px,
    body_scale,
    pixel_points,
    resolve_height,
)
from engines.errors import EngineInputError
from engines.pose import FrameQuality, SkeletonTimeline
from schema.analysis import Morphology
from tests.utils.skeletons import Body, Pose, Scene, climb, still

pytestmark = pytest.mark.unit

POSE = Pose(
    hips=(135.0, 120.0),
    left_hand=(105.0, 200.0),
    right_hand=(165.0, 200.0),
    left_foot=(115.0, 60.0),
    right_foot=(155.0, 60.0),
)


@pytest.mark.parametrize("height_cm", [150.0, 175.0, 195.0])
def test_stature_on_screen_matches_the_constructed_climber(height_cm: float) -> None:
    scene = Scene()
    timeline = still(POSE, 1.0, body=Body(height_cm), scene=scene)

    stature_px, _ = body_height_px(pixel_points(timeline))

    assert stature_px == pytest.approx(height_cm * scene.px_per_cm, rel=0.01)


def test_pixels_respect_the_frame_aspect_ratio() -> None:
    # Same climber filmed portrait and landscape at the same px/cm: same stature in pixels.
    portrait = still(POSE, 0.5, scene=Scene(frame_width=1080, frame_height=1920))
    landscape = still(POSE, 0.5, scene=Scene(frame_width=1920, frame_height=1080))

    portrait_px, _ = body_height_px(pixel_points(portrait))
    landscape_px, _ = body_height_px(pixel_points(landscape))

    assert landscape_px == pytest.approx(portrait_px, rel=1e-4)


def test_stature_survives_legs_foreshortened_most_of_the_video() -> None:
    # In plane for the first second, hips 40 cm off the wall for the next four.
    away = POSE.moved(hip_depth=64.0, shoulder_depth=34.0)
    timeline = climb([(0.0, POSE), (1.0, POSE), (1.3, away), (5.0, away)])

    stature_px, segments = body_height_px(pixel_points(timeline))

    assert stature_px == pytest.approx(175.0 * 4.0, rel=0.02)
    assert segments["left_thigh"] == pytest.approx(0.245 * 175.0 * 4.0, rel=0.03)


def test_scale_uses_the_given_height() -> None:
    timeline = still(POSE, 0.5)

    scale = body_scale(timeline, Morphology(height_cm=160.0))

    assert scale.height_source == "morphology"
    assert scale.px_per_cm == pytest.approx(175.0 * 4.0 / 160.0, rel=0.01)


def test_height_falls_back_to_arm_span_then_default() -> None:
    assert resolve_height(Morphology(height_cm=180.0)) == (180.0, "morphology", 180.0)
    assert resolve_height(Morphology(height_cm=180.0, arm_span_cm=186.0))[2] == 186.0
    assert resolve_height(Morphology(arm_span_cm=172.0)) == (172.0, "arm_span", 172.0)
    height, source, _ = resolve_height(Morphology())
    assert (height, source) == (DEFAULT_HEIGHT_CM, "default")


def test_non_positive_height_is_rejected() -> None:
    with pytest.raises(EngineInputError):
        resolve_height(Morphology(height_cm=0.0))


def test_a_video_without_any_pose_is_rejected() -> None:
    frames = 5
    timeline = SkeletonTimeline(
        timestamps_s=np.arange(frames) / 30.0,
        landmarks=np.full((frames, 33, 4), np.nan),
        quality=np.full(frames, FrameQuality.MISSING),
        frame_width=1080,
        frame_height=1920,
        source_fps=30.0,
    )

    with pytest.raises(EngineInputError, match="no climber"):
        body_scale(timeline, Morphology(height_cm=170.0))
