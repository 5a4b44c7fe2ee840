"""The chunk plan: deterministic, covering every frame once, independent of the machine."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from engines.pose import LANDMARK_COUNT, FrameSampler, SkeletonTimeline, VideoInfo, plan_chunks
from engines.pose.chunks import chunk_fits

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "info",
    [
        VideoInfo(frame_count=9000, fps=30.0, width=1920, height=1080),
        VideoInfo(frame_count=1799, fps=59.94, width=1080, height=1920),
        VideoInfo(frame_count=31, fps=30.0, width=640, height=480),
    ],
)
def test_chunks_cover_every_sampled_frame_once(info: VideoInfo) -> None:
    chunks = plan_chunks(info, max_fps=30.0, chunk_seconds=5.0, warmup_seconds=0.5)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert chunks[0].start == 0 and chunks[-1].stop is None
    for before, after in itertools.pairwise(chunks):
        assert before.stop == after.start
        assert after.warmup_start == max(0, after.start - round(0.5 * info.fps))
    sampler = FrameSampler(info.fps, 30.0)
    assert sum(c.expected_frames for c in chunks) == len(sampler.indices(0, info.frame_count))


def test_plan_depends_only_on_the_video_and_settings() -> None:
    info = VideoInfo(frame_count=900, fps=30.0, width=1920, height=1080)
    first = plan_chunks(info, max_fps=30.0, chunk_seconds=5.0, warmup_seconds=0.5)
    assert first == plan_chunks(info, max_fps=30.0, chunk_seconds=5.0, warmup_seconds=0.5)
    assert len(first) == 6
    assert [c.start for c in first] == list(range(0, 900, 150))


def test_a_short_tail_joins_the_last_chunk() -> None:
    info = VideoInfo(frame_count=930, fps=30.0, width=640, height=480)
    chunks = plan_chunks(info, max_fps=30.0, chunk_seconds=5.0, warmup_seconds=0.5)
    assert len(chunks) == 6
    assert chunks[-1].expected_frames == 180


def raw_chunk(
    indices: np.ndarray, fps: float, size: tuple[int, int] = (640, 480)
) -> SkeletonTimeline:
    frames = len(indices)
    return SkeletonTimeline(
        timestamps_s=np.asarray(indices) / fps,
        landmarks=np.zeros((frames, LANDMARK_COUNT, 4), np.float32),
        quality=np.zeros(frames, np.uint8),
        frame_width=size[0],
        frame_height=size[1],
        source_fps=fps,
    )


def test_only_checkpoints_of_this_plan_fit() -> None:
    info = VideoInfo(frame_count=300, fps=30.0, width=640, height=480)
    sampler = FrameSampler(30.0, 30.0)
    first, second = plan_chunks(info, max_fps=30.0, chunk_seconds=5.0, warmup_seconds=0.5)
    assert chunk_fits(first, raw_chunk(np.arange(150), 30.0), info=info, sampler=sampler)
    assert chunk_fits(second, raw_chunk(np.arange(150, 310), 30.0), info=info, sampler=sampler)
    # The stream ended early inside the chunk.
    assert chunk_fits(first, raw_chunk(np.arange(100), 30.0), info=info, sampler=sampler)
    misfits = [
        (first, raw_chunk(np.arange(150, 300), 30.0)),  # another chunk's frames
        (first, raw_chunk(np.arange(200), 30.0)),  # another chunk length
        (first, raw_chunk(np.arange(0, 150, 2), 30.0)),  # another frame rate cap
        (first, raw_chunk(np.arange(150), 25.0)),  # another video
        (first, raw_chunk(np.arange(150), 30.0, size=(480, 640))),
        (first, raw_chunk(np.arange(1, 150), 30.0)),
    ]
    for chunk, result in misfits:
        assert not chunk_fits(chunk, result, info=info, sampler=sampler)


def test_bad_settings_are_refused() -> None:
    info = VideoInfo(frame_count=300, fps=30.0, width=640, height=480)
    with pytest.raises(ValueError):
        plan_chunks(info, max_fps=30.0, chunk_seconds=0.0, warmup_seconds=0.5)
