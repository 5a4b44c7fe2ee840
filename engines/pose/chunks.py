"""Cutting a video into chunks that can be computed independently, and computing one.

The plan depends only on the video (`VideoInfo`) and the sampling and chunk lengths, never on the
machine's core count: a retry on another worker numbers the chunks the same way, so chunks that an
earlier attempt finished can be reused. Each chunk but the first starts tracking a little before
its first frame (the warm-up) so MediaPipe has found and locked onto the climber by the time its
frames count; warm-up results are discarded.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engines.pose.estimator import PoseEstimator
from engines.pose.timeline import LANDMARK_COUNT, FrameQuality, SkeletonTimeline
from engines.pose.video import FrameSampler, VideoInfo, iter_frames, max_corrupt_run


@dataclass(frozen=True)
class ChunkSpec:
    """A contiguous range of source frames computed as one unit.

    Attributes:
        index: position in the plan, 0-based.
        warmup_start: first frame fed to the tracker (``<= start``); results before ``start``
            are discarded.
        start: first frame whose pose belongs to this chunk.
        stop: end of the chunk (exclusive); ``None`` for the last chunk, which reads to the end
            of the stream whatever the header claimed.
        expected_frames: sampled frames in the chunk according to the header's frame count.
    """

    index: int
    warmup_start: int
    start: int
    stop: int | None
    expected_frames: int

    def __post_init__(self) -> None:
        if not 0 <= self.warmup_start <= self.start:
            raise ValueError("warm-up must start at or before the chunk")
        if self.stop is not None and self.stop <= self.start:
            raise ValueError("chunk must not be empty")


def plan_chunks(
    info: VideoInfo,
    *,
    max_fps: float,
    chunk_seconds: float,
    warmup_seconds: float,
) -> tuple[ChunkSpec, ...]:
    """Cuts the video into chunks of ``chunk_seconds`` (the last one absorbs a short tail).

    Args:
        info: the probed video.
        max_fps: sampling rate cap (decides ``expected_frames``).
        chunk_seconds: length of each chunk in source time.
        warmup_seconds: source time tracked before each chunk's first frame.

    Returns:
        The chunks in order; together they cover every frame exactly once.
    """
    if chunk_seconds <= 0 or warmup_seconds < 0:
        raise ValueError("chunk_seconds must be positive and warmup_seconds not negative")
    sampler = FrameSampler(info.fps, max_fps)
    chunk_frames = max(1, round(chunk_seconds * info.fps))
    warmup_frames = round(warmup_seconds * info.fps)
    count = max(1, math.ceil(info.frame_count / chunk_frames))
    # A tail shorter than a quarter chunk would pay a whole warm-up for little work.
    if count > 1 and info.frame_count - (count - 1) * chunk_frames < chunk_frames / 4:
        count -= 1
    chunks = []
    for index in range(count):
        start = index * chunk_frames
        stop = start + chunk_frames if index < count - 1 else None
        end = stop if stop is not None else max(info.frame_count, start + 1)
        chunks.append(
            ChunkSpec(
                index=index,
                warmup_start=max(0, start - warmup_frames),
                start=start,
                stop=stop,
                expected_frames=len(sampler.indices(start, end)),
            )
        )
    return tuple(chunks)


def chunk_fits(
    chunk: ChunkSpec, result: SkeletonTimeline, *, info: VideoInfo, sampler: FrameSampler
) -> bool:
    """Whether ``result`` has exactly the frames `run_chunk` computes for ``chunk`` here.

    A checkpoint from an attempt with other settings (frame rate cap, chunk length) or from
    another video must not be stitched in. A chunk may be shorter than planned only at its end,
    where the stream ended early.
    """
    if abs(result.source_fps - info.fps) > 1e-9:
        return False
    if (result.frame_width, result.frame_height) != (info.width, info.height):
        return False
    if not len(result):
        return True
    indices = np.rint(result.timestamps_s * info.fps).astype(np.int64)
    last = int(indices[-1])
    if chunk.stop is not None and last >= chunk.stop:
        return False
    return np.array_equal(indices, sampler.indices(chunk.start, last + 1))


def run_chunk(
    path: str | Path,
    chunk: ChunkSpec,
    *,
    info: VideoInfo,
    sampler: FrameSampler,
    estimator: PoseEstimator,
    on_frames: Callable[[int], None] | None = None,
    progress_every: int = 15,
    decode_threads: int | None = None,
) -> SkeletonTimeline:
    """Computes the raw (unfilled, unsmoothed) skeleton of one chunk.

    Args:
        path: the video file.
        chunk: the chunk to compute.
        info: the probed video.
        sampler: which frames to analyse.
        estimator: a pose estimator; it is reset first, so chunks never share tracking state.
        on_frames: called with the number of this chunk's frames done so far, every
            ``progress_every`` frames and once at the end.
        progress_every: see ``on_frames``.
        decode_threads: FFmpeg decoding threads (see `open_capture`).

    Returns:
        The chunk's frames with quality DETECTED, MISSING or CORRUPT (landmarks NaN unless
        DETECTED).
    """
    estimator.reset()
    indices: list[int] = []
    rows: list[np.ndarray] = []
    quality: list[int] = []
    missing = np.full((LANDMARK_COUNT, 4), np.nan, dtype=np.float32)
    frames = iter_frames(
        path,
        start=chunk.warmup_start,
        stop=chunk.stop,
        sampler=sampler,
        max_corrupt_run=max_corrupt_run(info.fps),
        expected_end=info.frame_count,
        decode_threads=decode_threads,
    )
    for index, frame in frames:
        if index < chunk.start:
            if frame is not None:
                estimator(frame)
            continue
        landmarks = None if frame is None else estimator(frame)
        indices.append(index)
        rows.append(missing if landmarks is None else landmarks)
        if frame is None:
            quality.append(FrameQuality.CORRUPT)
        else:
            quality.append(FrameQuality.MISSING if landmarks is None else FrameQuality.DETECTED)
        if on_frames is not None and len(indices) % progress_every == 0:
            on_frames(len(indices))
    if on_frames is not None:
        on_frames(len(indices))
    return SkeletonTimeline(
        timestamps_s=np.asarray(indices, dtype=np.float64) / info.fps,
        landmarks=np.stack(rows) if rows else np.empty((0, LANDMARK_COUNT, 4), np.float32),
        quality=np.asarray(quality, dtype=np.uint8),
        frame_width=info.width,
        frame_height=info.height,
        source_fps=info.fps,
    )


def concatenate(chunks: list[SkeletonTimeline], *, info: VideoInfo) -> SkeletonTimeline:
    """Stitches chunk timelines (in plan order) into one.

    Raises:
        ValueError: the chunks overlap or are out of order (they come from different plans).
    """
    non_empty = [chunk for chunk in chunks if len(chunk)]
    if not non_empty:
        timestamps, quality = np.empty(0), np.empty(0, np.uint8)
        landmarks = np.empty((0, LANDMARK_COUNT, 4), np.float32)
    else:
        timestamps = np.concatenate([chunk.timestamps_s for chunk in non_empty])
        landmarks = np.concatenate([chunk.landmarks for chunk in non_empty])
        quality = np.concatenate([chunk.quality for chunk in non_empty])
    return SkeletonTimeline(
        timestamps_s=timestamps,
        landmarks=landmarks,
        quality=quality,
        frame_width=info.width,
        frame_height=info.height,
        source_fps=info.fps,
    )
