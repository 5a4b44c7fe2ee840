"""The thumbnail's frame: inside the climb, where the body is best seen; the JPEG it becomes."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ascension.media import write_clip
from engines.pose.thumbnail import (
    MAX_SIDE_PX,
    climb_frame_time,
    middle_frame_time,
    render_thumbnail,
)
from engines.pose.timeline import LANDMARK_COUNT, FrameQuality, SkeletonTimeline

pytestmark = pytest.mark.unit


def _timeline(visibility: list[float], missing: tuple[int, ...] = ()) -> SkeletonTimeline:
    frames = len(visibility)
    landmarks = np.full((frames, LANDMARK_COUNT, 4), 0.5, dtype=np.float32)
    landmarks[:, :, 3] = np.asarray(visibility, dtype=np.float32)[:, None]
    quality = np.full(frames, FrameQuality.DETECTED, dtype=np.uint8)
    for index in missing:
        landmarks[index] = np.nan
        quality[index] = FrameQuality.MISSING
    return SkeletonTimeline(
        timestamps_s=np.arange(frames) * 0.5,
        landmarks=landmarks,
        quality=quality,
        frame_width=360,
        frame_height=640,
        source_fps=2.0,
    )


def test_the_climb_frame_is_the_best_seen_one_inside_the_climb() -> None:
    # 0.5 s a frame; the climb is 1.0..9.0 s, its inner part 1.8..8.2 s (frames 4..16).
    visibility = [0.3] * 21
    visibility[0] = 1.0  # standing on the mat, perfectly seen: not on the wall
    visibility[2] = 0.99  # the climb's first tenth: still stepping on
    visibility[11] = 0.9
    visibility[14] = 0.8
    assert climb_frame_time(_timeline(visibility), 1.0, 9.0) == pytest.approx(5.5)
    # Without a pose there, the best-seen frame is not chosen, whatever its numbers said.
    assert climb_frame_time(_timeline(visibility, missing=(11,)), 1.0, 9.0) == pytest.approx(7.0)


def test_equally_seen_frames_go_to_the_one_nearest_the_climbs_middle() -> None:
    assert climb_frame_time(_timeline([0.7] * 21), 2.0, 8.0) == pytest.approx(5.0)


def test_a_climb_without_any_pose_has_no_frame() -> None:
    assert climb_frame_time(_timeline([0.7] * 6, missing=tuple(range(6))), 0.0, 2.5) is None


def test_render_scales_the_frame_down_to_a_jpeg(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip.mp4", seconds=2.0, size=(720, 1280), motion="pan")
    middle = middle_frame_time(clip)
    assert middle == pytest.approx(1.0, abs=0.05)
    thumbnail = render_thumbnail(clip, middle, "middle")
    image = cv2.imdecode(np.frombuffer(thumbnail.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape[:2] == (MAX_SIDE_PX, 360)
    assert thumbnail.time_s == pytest.approx(middle, abs=0.05)
    # A moving camera: another moment is another picture.
    early = render_thumbnail(clip, 0.1, "climb")
    other = cv2.imdecode(np.frombuffer(early.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert np.abs(image.astype(int) - other.astype(int)).mean() > 5
