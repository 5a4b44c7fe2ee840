"""Video → `SkeletonTimeline`: probe, plan chunks, compute the missing ones, stitch, clean up."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from engines.pose.chunks import ChunkSpec, chunk_fits, concatenate, plan_chunks
from engines.pose.errors import InvalidVideoError, NoClimberFoundError
from engines.pose.parallel import PosePool, available_cores, run_here, run_in_processes
from engines.pose.postprocess import (
    OneEuroParams,
    interpolate_gaps,
    one_euro_smooth,
    quality_counts,
)
from engines.pose.timeline import FrameQuality, SkeletonTimeline
from engines.pose.video import (
    FrameSampler,
    VideoInfo,
    cut_short_error,
    damaged_error,
    probe_video,
    tolerated_shortfall,
)

logger = logging.getLogger(__name__)

_DEFAULT_SMOOTHING = OneEuroParams()


def extract_skeleton(
    path: str | Path,
    *,
    max_fps: float = 30.0,
    chunk_seconds: float = 5.0,
    warmup_seconds: float = 0.5,
    workers: int | None = None,
    pool: PosePool | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    completed_chunks: Mapping[int, SkeletonTimeline] | None = None,
    on_chunk_done: Callable[[int, SkeletonTimeline], None] | None = None,
    progress_interval_s: float = 1.0,
    max_gap_s: float = 0.5,
    smoothing: OneEuroParams | None = _DEFAULT_SMOOTHING,
    min_coverage: float = 0.5,
    inference_max_side: int | None = 960,
    max_duration_s: float = 900.0,
    min_duration_s: float = 0.5,
    max_side_px: int = 4096,
    min_side_px: int = 64,
) -> SkeletonTimeline:
    """Extracts the climber's skeleton from every sampled frame of a video.

    The video is cut into chunks numbered from the video alone (`plan_chunks`), so a retry can
    hand back the chunks an earlier attempt finished and only the rest is computed. Chunks run in
    parallel on spawned processes when more than one core and more than one chunk are available.
    The raw chunks are stitched, short gaps are filled (`interpolate_gaps`) and the result is
    smoothed (`one_euro_smooth`).

    Worker processes are spawned, so they import the caller's ``__main__`` module: a script
    that calls this must guard its entry point with ``if __name__ == "__main__":``. An exception
    raised by a callback stops the extraction (queued chunks are dropped) and propagates.

    Args:
        path: local video file.
        max_fps: analyse at most this many frames per second (evenly spread).
        chunk_seconds: source time per chunk: the unit of parallel work and of checkpoints.
            Five seconds gives a 30-second climb six chunks to spread over cores while the
            warm-up adds a tenth to the work.
        warmup_seconds: source time tracked before each chunk and discarded, so tracking has
            locked onto the climber when the chunk's own frames begin.
        workers: processes to use; ``None`` uses every core available to this process. With one
            worker (or one chunk left) everything runs in the calling thread.
        pool: long-lived worker processes to run the chunks on instead (``workers`` is then
            ignored); a host that extracts many videos keeps one, saving each video the
            processes' start-up.
        on_progress: called in the calling thread as ``on_progress(frames_done, frames_total)``
            (sampled frames) at least every ``progress_interval_s`` while working, and once at
            the end; suitable for heartbeats.
        completed_chunks: raw chunks from an earlier attempt, by chunk index (as given to
            ``on_chunk_done``). Chunks that do not fit this video's plan are recomputed.
        on_chunk_done: called in the calling thread with each newly computed raw chunk, to store
            it as a checkpoint.
        progress_interval_s: see ``on_progress``.
        max_gap_s: see `interpolate_gaps`.
        smoothing: see `one_euro_smooth`; ``None`` leaves landmarks unsmoothed.
        min_coverage: fraction of decodable frames that must show a person.
        inference_max_side: see `PoseEstimator`.
        max_duration_s: see `probe_video`.
        min_duration_s: see `probe_video`.
        max_side_px: see `probe_video`.
        min_side_px: see `probe_video`.

    Returns:
        The cleaned timeline: one row per sampled frame, DETECTED, INTERPOLATED, MISSING or
        CORRUPT.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        InvalidVideoError: not a usable video, or no frame could be decoded.
        TruncatedVideoError: (an `InvalidVideoError`) frames the file declares could not be
            read, beyond the few that real phone files are off by: an interrupted upload or a
            damaged file, which must not pass for a shorter climb.
        NoClimberFoundError: a person is visible in less than ``min_coverage`` of the frames.
    """
    if workers is not None and workers < 1:
        raise ValueError("workers must be at least 1")
    info = probe_video(
        path,
        max_duration_s=max_duration_s,
        min_duration_s=min_duration_s,
        max_side_px=max_side_px,
        min_side_px=min_side_px,
    )
    chunks = plan_chunks(
        info, max_fps=max_fps, chunk_seconds=chunk_seconds, warmup_seconds=warmup_seconds
    )
    results = _reusable(completed_chunks or {}, chunks, info, max_fps)
    todo = [chunk for chunk in chunks if chunk.index not in results]
    progress = _Progress(chunks, results, on_progress, progress_interval_s)
    logger.info(
        "skeleton: %d frames at %.2f fps, %d chunks (%d reused)",
        info.frame_count,
        info.fps,
        len(chunks),
        len(results),
    )

    def chunk_done(index: int, result: SkeletonTimeline) -> None:
        results[index] = result
        progress.update(index, len(result))
        if on_chunk_done is not None:
            on_chunk_done(index, result)

    estimator_options = {"inference_max_side": inference_max_side}
    processes = min(workers or available_cores(), len(todo))
    if pool is not None and todo:
        pool.run(
            path,
            todo,
            info=info,
            max_fps=max_fps,
            estimator_options=estimator_options,
            on_frames=progress.update,
            on_chunk=chunk_done,
            on_idle=progress.tick,
        )
    elif processes > 1:
        run_in_processes(
            path,
            todo,
            info=info,
            max_fps=max_fps,
            workers=processes,
            estimator_options=estimator_options,
            on_frames=progress.update,
            on_chunk=chunk_done,
            on_idle=progress.tick,
        )
    elif todo:
        run_here(
            path,
            todo,
            info=info,
            max_fps=max_fps,
            estimator_options=estimator_options,
            on_frames=progress.update,
            on_chunk=chunk_done,
        )
    progress.finish()

    raw = concatenate([results[chunk.index] for chunk in chunks], info=info)
    _check_complete(raw, info, FrameSampler(info.fps, max_fps))
    _check_coverage(raw, min_coverage)
    timeline = interpolate_gaps(raw, max_gap_s=max_gap_s)
    if smoothing is not None:
        timeline = one_euro_smooth(timeline, smoothing)
    counts = quality_counts(timeline)
    logger.info("skeleton done: %s", {quality.name: n for quality, n in counts.items()})
    if counts[FrameQuality.CORRUPT]:
        logger.warning("%d frames could not be decoded", counts[FrameQuality.CORRUPT])
    return timeline


def _reusable(
    completed: Mapping[int, SkeletonTimeline],
    chunks: tuple[ChunkSpec, ...],
    info: VideoInfo,
    max_fps: float,
) -> dict[int, SkeletonTimeline]:
    """The completed chunks that are exactly what this plan would compute."""
    sampler = FrameSampler(info.fps, max_fps)
    reusable = {}
    for index, result in completed.items():
        if 0 <= index < len(chunks) and chunk_fits(
            chunks[index], result, info=info, sampler=sampler
        ):
            reusable[index] = result
        else:
            logger.warning("completed chunk %d does not fit this video's plan; recomputing", index)
    return reusable


def _check_complete(raw: SkeletonTimeline, info: VideoInfo, sampler: FrameSampler) -> None:
    """Refuses a video whose declared frames were not all read.

    A chunk stops where the stream ends or after a long run of undecodable frames, and returns
    short; so do the chunks after it. Whatever the chunking, the stitched frames must cover the
    header's sampled frames but for `tolerated_shortfall` of them. Frames reported CORRUPT were
    met (a later frame decoded) and stay in the timeline as before.
    """
    expected = sampler.indices(0, info.frame_count)
    present = np.rint(raw.timestamps_s * info.fps).astype(np.int64)
    absent = np.setdiff1d(expected, present)
    if len(absent) <= tolerated_shortfall(len(expected)):
        return
    decoded = np.isin(expected, present[raw.quality != FrameQuality.CORRUPT]).sum()
    readable_s = info.duration_s * float(decoded) / len(expected)
    logger.warning(
        "%d of %d sampled frames missing (first %d)", len(absent), len(expected), absent[0]
    )
    if len(present) and absent[0] < present.max():
        raise damaged_error(info.duration_s, readable_s)
    raise cut_short_error(info.duration_s, readable_s)


def _check_coverage(raw: SkeletonTimeline, min_coverage: float) -> None:
    decodable = int((raw.quality != FrameQuality.CORRUPT).sum())
    if decodable == 0:
        raise InvalidVideoError(
            "None of this video's frames could be decoded; the file looks damaged. "
            "Please upload it again."
        )
    coverage = int((raw.quality == FrameQuality.DETECTED).sum()) / decodable
    if coverage < min_coverage:
        raise NoClimberFoundError(
            "We couldn't find a climber in most of this video (a person was visible in "
            f"{coverage:.0%} of it). Film the whole climber from a few metres back, in good "
            "light, and keep them in the picture.",
            coverage=coverage,
        )


class _Progress:
    """Sampled frames done per chunk, reported to the caller at a bounded rate."""

    def __init__(
        self,
        chunks: tuple[ChunkSpec, ...],
        completed: Mapping[int, SkeletonTimeline],
        callback: Callable[[int, int], None] | None,
        interval_s: float,
    ) -> None:
        self._expected = {chunk.index: chunk.expected_frames for chunk in chunks}
        self._done = {index: len(result) for index, result in completed.items()}
        self._callback = callback
        self._interval_s = interval_s
        self._last = float("-inf")

    def update(self, index: int, frames: int) -> None:
        # Progress messages may arrive after the chunk's result: never go backwards.
        self._done[index] = max(self._done.get(index, 0), frames)
        self.tick()

    def tick(self) -> None:
        if time.monotonic() - self._last >= self._interval_s:
            self._report()

    def finish(self) -> None:
        # Headers can over- or under-count frames; at the end the real count is the total.
        self._expected = dict(self._done)
        self._report()

    def _report(self) -> None:
        self._last = time.monotonic()
        if self._callback is not None:
            done = sum(self._done.values())
            total = sum(max(self._expected[i], self._done.get(i, 0)) for i in self._expected)
            self._callback(done, total)
