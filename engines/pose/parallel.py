"""Computing chunks: in this thread, or in a pool of worker processes.

MediaPipe's CPU graph runs inference on one core, so throughput scales with processes, not
threads. Workers are spawned (never forked: forking a process that runs a Temporal worker or
MediaPipe threads can deadlock), each builds its own MediaPipe graph once and reuses it across
chunks. Workers report progress through a queue; every callback runs in the calling thread.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import multiprocessing
import os
import queue
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import cv2

from engines.pose.chunks import ChunkSpec, run_chunk
from engines.pose.estimator import PoseEstimator
from engines.pose.timeline import SkeletonTimeline
from engines.pose.video import FrameSampler, VideoInfo

logger = logging.getLogger(__name__)

#: ``(chunk index, frames of that chunk done so far)``
OnFrames = Callable[[int, int], None]
OnChunk = Callable[[int, SkeletonTimeline], None]

_worker_estimator: PoseEstimator | None = None
_libc: Any = None
_worker_queue: Any = None


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity; CPU quotas are not seen, pass workers)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def release_freed_memory() -> None:
    """Hands memory freed by a finished chunk back to the OS (glibc only; no-op elsewhere).

    Decoder and MediaPipe buffers are freed between chunks, but glibc keeps the pages in its
    arenas, so a worker's RSS creeps up over a long video; trimming keeps it flat.
    """
    global _libc
    if _libc is None:
        try:
            # Named directly: ctypes.util.find_library would run ldconfig in a subprocess.
            _libc = ctypes.CDLL("libc.so.6")
            _libc.malloc_trim  # noqa: B018 - probe: musl and macOS lack it
        except (OSError, AttributeError):
            _libc = False
    if _libc:
        _libc.malloc_trim(0)


def run_here(
    path: str | Path,
    chunks: Sequence[ChunkSpec],
    *,
    info: VideoInfo,
    max_fps: float,
    estimator_options: Mapping[str, Any],
    on_frames: OnFrames,
    on_chunk: OnChunk,
) -> None:
    """Computes ``chunks`` one after the other in the calling thread."""
    sampler = FrameSampler(info.fps, max_fps)
    with PoseEstimator(**estimator_options) as estimator:
        for chunk in chunks:
            result = run_chunk(
                path,
                chunk,
                info=info,
                sampler=sampler,
                estimator=estimator,
                on_frames=functools.partial(on_frames, chunk.index),
            )
            on_chunk(chunk.index, result)
            release_freed_memory()


def run_in_processes(
    path: str | Path,
    chunks: Sequence[ChunkSpec],
    *,
    info: VideoInfo,
    max_fps: float,
    workers: int,
    estimator_options: Mapping[str, Any],
    on_frames: OnFrames,
    on_chunk: OnChunk,
    on_idle: Callable[[], None],
    poll_s: float = 0.25,
) -> None:
    """Computes ``chunks`` on ``workers`` spawned processes.

    Args:
        path: the video file (each worker opens and seeks it itself, so no frame crosses
            processes).
        chunks: the chunks to compute.
        info: the probed video.
        max_fps: sampling rate cap.
        workers: number of processes.
        estimator_options: keyword arguments of `PoseEstimator`.
        on_frames: progress of a chunk.
        on_chunk: a finished chunk, in completion order.
        on_idle: called at least every ``poll_s`` seconds, so the caller can heartbeat while
            workers start up or a chunk is slow.
        poll_s: see ``on_idle``.
    """
    context = multiprocessing.get_context("spawn")
    progress = context.Queue()
    # Split FFmpeg's decoding threads among the workers instead of each taking every core.
    decode_threads = max(1, available_cores() // workers)
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(progress, dict(estimator_options)),
    )
    try:
        pending: set[Future[tuple[int, SkeletonTimeline]]] = {
            pool.submit(_chunk_task, str(path), chunk, info, max_fps, decode_threads)
            for chunk in chunks
        }
        while pending:
            finished, pending = wait(pending, timeout=poll_s, return_when=FIRST_COMPLETED)
            _drain(progress, on_frames)
            for future in finished:
                index, result = future.result()
                on_chunk(index, result)
            on_idle()
    except BaseException:
        # Queued chunks are dropped; running ones finish in the background and are discarded.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        progress.close()


def _drain(progress: Any, on_frames: OnFrames) -> None:
    with contextlib.suppress(queue.Empty):
        while True:
            index, done = progress.get_nowait()
            on_frames(index, done)


def _init_worker(progress: Any, estimator_options: dict[str, Any]) -> None:
    global _worker_estimator, _worker_queue
    # One core per worker: OpenCV's own thread pool would fight the other workers.
    cv2.setNumThreads(1)
    _worker_estimator = PoseEstimator(**estimator_options)
    _worker_queue = progress


def _chunk_task(
    path: str, chunk: ChunkSpec, info: VideoInfo, max_fps: float, decode_threads: int
) -> tuple[int, SkeletonTimeline]:
    assert _worker_estimator is not None, "worker not initialised"
    result = run_chunk(
        path,
        chunk,
        info=info,
        sampler=FrameSampler(info.fps, max_fps),
        estimator=_worker_estimator,
        on_frames=lambda done: _worker_queue.put((chunk.index, done)),
        decode_threads=decode_threads,
    )
    release_freed_memory()
    return chunk.index, result
