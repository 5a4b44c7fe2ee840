"""Skeleton extraction end to end with the real MediaPipe model on real-footage clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engines.errors import EngineInputError
from engines.pose import (
    FrameQuality,
    InvalidVideoError,
    NoClimberFoundError,
    SkeletonTimeline,
    bare_loop,
    extract_skeleton,
    quality_counts,
)
from tests.utils import footage

pytestmark = pytest.mark.unit

FPS = 30.0
FRAMES = 90
#: Three one-second chunks (with half-second warm-ups) on the three-second clips.
CHUNKED = {"chunk_seconds": 1.0, "warmup_seconds": 0.5}
WHOLE = {"chunk_seconds": 60.0}


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="module")
def person_clip(clips: Path) -> Path:
    return footage.write_clip(clips / "person.mp4", image="basketball1.png", seconds=3.0, fps=FPS)


@pytest.fixture(scope="module")
def whole(person_clip: Path) -> SkeletonTimeline:
    """The raw timeline computed as one chunk (continuous tracking, like the bare loop)."""
    return extract_skeleton(person_clip, workers=1, smoothing=None, **WHOLE)


@pytest.fixture(scope="module")
def chunked(person_clip: Path) -> tuple[SkeletonTimeline, dict[int, SkeletonTimeline]]:
    """The raw timeline computed as three chunks, and the chunks as checkpointed."""
    stored: dict[int, SkeletonTimeline] = {}
    result = extract_skeleton(
        person_clip,
        workers=1,
        smoothing=None,
        on_chunk_done=lambda index, chunk: stored.__setitem__(index, chunk),
        **CHUNKED,
    )
    return result, stored


def test_person_clip_gives_a_full_skeleton(person_clip: Path) -> None:
    timeline = extract_skeleton(person_clip, workers=1)
    assert len(timeline) == FRAMES
    np.testing.assert_allclose(timeline.timestamps_s, np.arange(FRAMES) / FPS)
    assert timeline.coverage >= 0.95
    assert (timeline.frame_width, timeline.frame_height, timeline.source_fps) == (480, 360, FPS)
    posed = timeline.landmarks[timeline.has_pose]
    assert np.isfinite(posed).all()
    visible = posed[posed[:, :, 3] > 0.5]
    # Landmarks may reach slightly past the border (feet the camera cuts off), no further.
    assert ((visible[:, :2] > -0.1) & (visible[:, :2] < 1.1)).all()
    # The person stands on the left of the photograph: the hips are in the left half.
    hips = posed[:, [23, 24], 0]
    assert np.median(hips) < 0.5


def test_chunked_result_matches_one_chunk(
    whole: SkeletonTimeline, chunked: tuple[SkeletonTimeline, dict[int, SkeletonTimeline]]
) -> None:
    result, stored = chunked
    assert sorted(stored) == [0, 1, 2]
    np.testing.assert_array_equal(result.timestamps_s, whole.timestamps_s)
    assert np.mean(result.quality == whole.quality) >= 0.95
    both = (result.quality == FrameQuality.DETECTED) & (whole.quality == FrameQuality.DETECTED)
    visible = both[:, None] & (result.landmarks[:, :, 3] > 0.5) & (whole.landmarks[:, :, 3] > 0.5)
    error = np.abs(result.landmarks[:, :, :2] - whole.landmarks[:, :, :2]).max(axis=2)[visible]
    # Restarting the tracker changes its crop slightly: differences of model-jitter size.
    assert np.median(error) < 0.01
    assert np.percentile(error, 90) < 0.03
    # The first chunk is computed exactly as in one piece.
    np.testing.assert_array_equal(result.landmarks[:30], whole.landmarks[:30])


def test_retry_computes_only_the_missing_chunks(
    person_clip: Path, chunked: tuple[SkeletonTimeline, dict[int, SkeletonTimeline]]
) -> None:
    first, stored = chunked
    # As the activity would: chunks went through object storage as bytes.
    completed = {i: SkeletonTimeline.from_bytes(stored[i].to_bytes()) for i in (0, 2)}
    computed: list[int] = []
    progress: list[tuple[int, int]] = []
    resumed = extract_skeleton(
        person_clip,
        workers=1,
        smoothing=None,
        completed_chunks=completed,
        on_chunk_done=lambda index, _: computed.append(index),
        on_progress=lambda done, total: progress.append((done, total)),
        progress_interval_s=0.0,
        **CHUNKED,
    )
    assert computed == [1]
    np.testing.assert_array_equal(resumed.landmarks, first.landmarks)
    np.testing.assert_array_equal(resumed.quality, first.quality)
    # Progress starts from the frames already done and ends complete.
    assert progress[0][0] >= 60
    assert progress[-1] == (FRAMES, FRAMES)


def test_checkpoints_from_another_plan_are_recomputed(
    person_clip: Path, whole: SkeletonTimeline
) -> None:
    computed: list[int] = []
    extract_skeleton(
        person_clip,
        workers=1,
        max_fps=10.0,
        completed_chunks={0: whole},  # 90 frames at 30 fps: not chunk 0 of this plan
        on_chunk_done=lambda index, _: computed.append(index),
        **WHOLE,
    )
    assert computed == [0]


@pytest.mark.slow
def test_worker_processes_give_the_same_result(
    person_clip: Path, chunked: tuple[SkeletonTimeline, dict[int, SkeletonTimeline]]
) -> None:
    in_process, _ = chunked
    computed: list[int] = []
    progress: list[tuple[int, int]] = []
    parallel = extract_skeleton(
        person_clip,
        workers=2,
        smoothing=None,
        on_chunk_done=lambda index, _: computed.append(index),
        on_progress=lambda done, total: progress.append((done, total)),
        progress_interval_s=0.0,
        **CHUNKED,
    )
    assert sorted(computed) == [0, 1, 2]
    np.testing.assert_array_equal(parallel.timestamps_s, in_process.timestamps_s)
    np.testing.assert_array_equal(parallel.quality, in_process.quality)
    np.testing.assert_allclose(parallel.landmarks, in_process.landmarks, atol=1e-5)
    done = [d for d, _ in progress]
    assert done == sorted(done) and progress[-1] == (FRAMES, FRAMES)


def test_sampling_and_the_bare_loop_agree(person_clip: Path) -> None:
    baseline = bare_loop(person_clip, max_fps=10.0)
    ours = extract_skeleton(person_clip, workers=1, max_fps=10.0)
    np.testing.assert_allclose(baseline.timestamps_s, np.arange(30) / 10.0)
    np.testing.assert_array_equal(ours.timestamps_s, baseline.timestamps_s)
    assert baseline.coverage >= 0.95
    assert ours.coverage >= baseline.coverage


def test_video_without_a_person_is_refused(clips: Path) -> None:
    wall = footage.write_clip(clips / "wall.mp4", image=footage.WALL_IMAGE, seconds=2.0)
    with pytest.raises(NoClimberFoundError, match="climber") as error:
        extract_skeleton(wall, workers=1)
    assert isinstance(error.value, EngineInputError)
    assert error.value.coverage < 0.5


def test_a_few_corrupt_frames_are_skipped_and_reported(clips: Path) -> None:
    path = footage.write_clip(
        clips / "damaged.avi", image="basketball1.png", seconds=2.0, codec="MJPG"
    )
    footage.corrupt_mjpeg_frames(path, [15, 16, 30])
    timeline = extract_skeleton(path, workers=1, **CHUNKED)
    assert len(timeline) == 60
    corrupt = np.flatnonzero(timeline.quality == FrameQuality.CORRUPT)
    np.testing.assert_array_equal(corrupt, [15, 16, 30])
    assert np.isnan(timeline.landmarks[corrupt]).all()
    counts = quality_counts(timeline)
    assert counts[FrameQuality.CORRUPT] == 3 and counts[FrameQuality.DETECTED] == 57


def test_short_absence_is_interpolated_and_flagged(clips: Path) -> None:
    path = footage.write_clip(
        clips / "absent.mp4", image="basketball1.png", seconds=2.0, absent=(1.0, 1.2)
    )
    timeline = extract_skeleton(path, workers=1, max_gap_s=0.5)
    hidden = np.arange(30, 36)
    # The camera showed only the wall: no detection, filled from the frames around.
    assert (timeline.quality[hidden] == FrameQuality.INTERPOLATED).all()
    assert np.isfinite(timeline.landmarks[hidden]).all()
    assert (timeline.quality[:30] == FrameQuality.DETECTED).all()


def test_unusable_file_is_invalid_video(clips: Path) -> None:
    with pytest.raises(InvalidVideoError):
        extract_skeleton(footage.write_garbage(clips / "upload.mp4"))
