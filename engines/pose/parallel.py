"""Computing chunks: in this thread, or in a pool of worker processes.

MediaPipe's CPU graph runs inference on one core, so throughput scales with processes, not
threads. Workers are spawned (never forked: forking a process that runs a Temporal worker or
MediaPipe threads can deadlock), each builds its MediaPipe graph once and reuses it across chunks.

Spawning a worker and importing MediaPipe costs about two seconds, a fifth of a 30-second video's
whole extraction on two cores. So a long-lived host (the GPU worker) keeps one `PosePool` warm
and every video's chunks go to it; concurrent videos share its processes first come, first
served. Workers report progress through one queue that a thread routes to the right caller;
every callback runs in the calling thread.

One module of ~390 lines on purpose: the pool, its workers and the progress router are one
protocol between processes; each part is only correct together with the others.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import inspect
import itertools
import logging
import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
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

#: In a worker process: one pose graph per set of estimator options, built on first use.
_worker_estimators: dict[tuple[tuple[str, Any], ...], PoseEstimator] = {}
_worker_queue: Any = None
_libc: Any = None


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


@dataclass
class _Generation:
    """One set of worker processes; replaced as a whole when a worker dies."""

    executor: ProcessPoolExecutor
    progress: Any  # multiprocessing queue of (job, chunk index, frames done)
    ready: Any  # multiprocessing counter of workers that finished starting
    routes: dict[int, queue.SimpleQueue[tuple[int, int]]] = field(default_factory=dict)
    dispatcher: threading.Thread | None = None

    def dispatch(self, lock: threading.Lock) -> None:
        """Routes worker progress to the caller that owns the job (runs in its own thread)."""
        while True:
            try:
                item = self.progress.get()
            except (EOFError, OSError, ValueError):  # the queue was closed under us
                return
            if item is None:
                return
            job, index, done = item
            with lock:
                inbox = self.routes.get(job)
            if inbox is not None:  # late progress of a finished job is dropped
                inbox.put((index, done))

    def close(self, *, wait_for_workers: bool) -> None:
        self.executor.shutdown(wait=wait_for_workers, cancel_futures=True)
        with contextlib.suppress(OSError, ValueError):
            self.progress.put(None)
        if self.dispatcher is not None:
            self.dispatcher.join(timeout=5)
        self.progress.close()


class PosePool:
    """Pose worker processes that outlive one video.

    Processes start on first use (or `start`), stay until `close`, and are replaced as a whole
    when one dies (the call that saw it fails; the next one gets fresh processes). Thread-safe:
    several extractions may run on one pool at once.

    Args:
        workers: number of processes.
        estimator_options: keyword arguments of the `PoseEstimator` each worker builds as it
            starts; calls with other options build theirs on first use.
    """

    def __init__(self, workers: int, estimator_options: Mapping[str, Any] | None = None) -> None:
        if workers < 1:
            raise ValueError("a pose pool needs at least one worker")
        self.workers = workers
        self._estimator_options = dict(estimator_options or {})
        self._lock = threading.Lock()
        self._generation: _Generation | None = None
        self._jobs = itertools.count()
        self._closed = False

    def __enter__(self) -> PosePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self, *, timeout_s: float = 300.0) -> None:
        """Spawns every worker and waits until each has imported MediaPipe and built its graph.

        Raises:
            TimeoutError: the workers did not all start within ``timeout_s``.
        """
        generation = self._current()
        # While no worker is idle, each submission spawns one more process, up to `workers`.
        spawned = [generation.executor.submit(_noop) for _ in range(self.workers)]
        deadline = time.monotonic() + timeout_s
        while generation.ready.value < self.workers:
            for future in spawned:
                error = future.exception() if future.done() else None
                if error is not None:  # a worker failed to start
                    raise error
            if time.monotonic() > deadline:
                raise TimeoutError(f"pose workers did not all start within {timeout_s:.0f} s")
            time.sleep(0.05)

    def run(
        self,
        path: str | Path,
        chunks: Sequence[ChunkSpec],
        *,
        info: VideoInfo,
        max_fps: float,
        estimator_options: Mapping[str, Any],
        on_frames: OnFrames,
        on_chunk: OnChunk,
        on_idle: Callable[[], None],
        poll_s: float = 0.25,
    ) -> None:
        """Computes ``chunks`` on the pool's processes; callbacks run in the calling thread.

        Args:
            path: the video file (each worker opens and seeks it itself, so no frame crosses
                processes).
            chunks: the chunks to compute.
            info: the probed video.
            max_fps: sampling rate cap.
            estimator_options: keyword arguments of `PoseEstimator`.
            on_frames: progress of a chunk.
            on_chunk: a finished chunk, in completion order.
            on_idle: called at least every ``poll_s`` seconds, so the caller can heartbeat while
                workers start up or a chunk is slow.
            poll_s: see ``on_idle``.

        Raises:
            BrokenProcessPool: a worker died (killed, out of memory); the pool renews itself.
        """
        generation = self._current()
        job = next(self._jobs)
        inbox: queue.SimpleQueue[tuple[int, int]] = queue.SimpleQueue()
        with self._lock:
            generation.routes[job] = inbox
        # Split FFmpeg's decoding threads among the workers instead of each taking every core.
        decode_threads = max(1, available_cores() // self.workers)
        options = dict(estimator_options)
        pending: set[Future[tuple[int, SkeletonTimeline]]] = set()
        try:
            for chunk in chunks:
                pending.add(
                    generation.executor.submit(
                        _chunk_task, job, str(path), chunk, info, max_fps, options, decode_threads
                    )
                )
            while pending:
                finished, pending = wait(pending, timeout=poll_s, return_when=FIRST_COMPLETED)
                _drain(inbox, on_frames)
                for future in finished:
                    index, result = future.result()
                    on_chunk(index, result)
                on_idle()
        except BrokenProcessPool:
            self._renew(generation)
            raise
        finally:
            # Queued chunks of a failed call are dropped; running ones finish and are discarded.
            for future in pending:
                future.cancel()
            with self._lock:
                generation.routes.pop(job, None)

    def close(self) -> None:
        """Stops the workers (running chunks finish first); the pool cannot be used after."""
        with self._lock:
            self._closed = True
            generation, self._generation = self._generation, None
        if generation is not None:
            generation.close(wait_for_workers=True)

    def _current(self) -> _Generation:
        with self._lock:
            if self._closed:
                raise RuntimeError("this pose pool is closed")
            if self._generation is None:
                context = multiprocessing.get_context("spawn")
                progress = context.Queue()
                ready = context.Value("i", 0)
                executor = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=context,
                    initializer=_init_worker,
                    initargs=(progress, ready, self._estimator_options, os.getpid()),
                )
                generation = _Generation(executor, progress, ready)
                generation.dispatcher = threading.Thread(
                    target=generation.dispatch,
                    args=(self._lock,),
                    name="pose-progress",
                    daemon=True,
                )
                generation.dispatcher.start()
                self._generation = generation
            return self._generation

    def _renew(self, broken: _Generation) -> None:
        with self._lock:
            if self._generation is broken:
                self._generation = None
        logger.warning("a pose worker died; the pool starts fresh processes for the next video")
        broken.close(wait_for_workers=False)


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
    """Computes ``chunks`` on ``workers`` processes started for this call alone (see `PosePool`)."""
    with PosePool(workers, estimator_options) as pool:
        pool.run(
            path,
            chunks,
            info=info,
            max_fps=max_fps,
            estimator_options=estimator_options,
            on_frames=on_frames,
            on_chunk=on_chunk,
            on_idle=on_idle,
            poll_s=poll_s,
        )


def _drain(inbox: queue.SimpleQueue[tuple[int, int]], on_frames: OnFrames) -> None:
    with contextlib.suppress(queue.Empty):
        while True:
            index, done = inbox.get_nowait()
            on_frames(index, done)


def _init_worker(
    progress: Any, ready: Any, estimator_options: dict[str, Any], parent_pid: int
) -> None:
    global _worker_queue
    threading.Thread(
        target=_exit_with_parent, args=(parent_pid,), name="parent-watch", daemon=True
    ).start()
    # One core per worker: OpenCV's own thread pool would fight the other workers.
    cv2.setNumThreads(1)
    _worker_queue = progress
    _estimator(estimator_options)  # the slow MediaPipe import and graph build belong to start-up
    with ready.get_lock():
        ready.value += 1


def _exit_with_parent(parent_pid: int, poll_s: float = 1.0) -> None:
    """Ends this worker once its parent is gone.

    A worker holds both ends of the pool's pipes (spawned processes inherit whole queues), so a
    parent killed with SIGKILL never closes them and the worker would wait forever, holding its
    MediaPipe graph. PR_SET_PDEATHSIG is no help: it fires when the spawning *thread* ends.
    """
    while os.getppid() == parent_pid:
        time.sleep(poll_s)
    os._exit(1)


def _estimator(options: Mapping[str, Any]) -> PoseEstimator:
    # Keyed by the options as resolved, so {} and the defaults spelt out share one graph.
    key = tuple(sorted({**_estimator_defaults(), **options}.items()))
    if key not in _worker_estimators:
        _worker_estimators[key] = PoseEstimator(**options)
    return _worker_estimators[key]


@functools.cache
def _estimator_defaults() -> dict[str, Any]:
    parameters = inspect.signature(PoseEstimator.__init__).parameters.values()
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}


def _noop() -> None:
    pass


def _chunk_task(
    job: int,
    path: str,
    chunk: ChunkSpec,
    info: VideoInfo,
    max_fps: float,
    estimator_options: dict[str, Any],
    decode_threads: int,
) -> tuple[int, SkeletonTimeline]:
    result = run_chunk(
        path,
        chunk,
        info=info,
        sampler=FrameSampler(info.fps, max_fps),
        estimator=_estimator(estimator_options),
        on_frames=lambda done: _worker_queue.put((job, chunk.index, done)),
        decode_threads=decode_threads,
    )
    release_freed_memory()
    return chunk.index, result
