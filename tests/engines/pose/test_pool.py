"""A long-lived pose pool: the same skeletons, no new processes per video, recovery from a crash."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pytest

from engines.pose import PosePool, SkeletonTimeline, extract_skeleton
from tests.utils import footage

pytestmark = [pytest.mark.unit, pytest.mark.slow]

FRAMES = 90
#: Three one-second chunks on the three-second clips.
CHUNKED = {"chunk_seconds": 1.0, "warmup_seconds": 0.5, "smoothing": None}


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    return {
        "first": footage.write_clip(folder / "first.mp4", image="basketball1.png", seconds=3.0),
        "second": footage.write_clip(folder / "second.mp4", image="basketball2.png", seconds=3.0),
    }


@pytest.fixture(scope="module")
def in_thread(clips: dict[str, Path]) -> dict[str, SkeletonTimeline]:
    return {name: extract_skeleton(clip, workers=1, **CHUNKED) for name, clip in clips.items()}


@pytest.fixture
def pool() -> Iterator[PosePool]:
    with PosePool(2) as pool:
        yield pool


def _pool_processes() -> set[int]:
    return {child.pid for child in multiprocessing.active_children() if child.pid is not None}


def _assert_same(result: SkeletonTimeline, expected: SkeletonTimeline) -> None:
    np.testing.assert_array_equal(result.timestamps_s, expected.timestamps_s)
    np.testing.assert_array_equal(result.quality, expected.quality)
    np.testing.assert_allclose(result.landmarks, expected.landmarks, atol=1e-5)


def test_videos_share_the_started_processes(
    pool: PosePool, clips: dict[str, Path], in_thread: dict[str, SkeletonTimeline]
) -> None:
    before = _pool_processes()
    pool.start()
    workers = _pool_processes() - before
    assert len(workers) == 2  # started ahead of the first video, each with its graph built

    for name, clip in clips.items():
        _assert_same(extract_skeleton(clip, pool=pool, **CHUNKED), in_thread[name])
    assert _pool_processes() - before == workers  # no process was started for either video


def test_concurrent_videos_get_their_own_chunks_and_progress(
    pool: PosePool, clips: dict[str, Path], in_thread: dict[str, SkeletonTimeline]
) -> None:
    progress: dict[str, list[tuple[int, int]]] = {name: [] for name in clips}

    def extract(name: str) -> SkeletonTimeline:
        return extract_skeleton(
            clips[name],
            pool=pool,
            on_progress=lambda done, total: progress[name].append((done, total)),
            progress_interval_s=0.0,
            **CHUNKED,
        )

    with ThreadPoolExecutor(2) as threads:
        results = dict(zip(clips, threads.map(extract, clips), strict=True))
    for name in clips:
        _assert_same(results[name], in_thread[name])
        done = [d for d, _ in progress[name]]
        assert done == sorted(done) and progress[name][-1] == (FRAMES, FRAMES)


def test_a_killed_worker_fails_that_video_and_the_next_one_gets_fresh_processes(
    pool: PosePool, clips: dict[str, Path], in_thread: dict[str, SkeletonTimeline]
) -> None:
    before = _pool_processes()
    pool.start()
    doomed = _pool_processes() - before
    started = threading.Event()

    def kill_once_started(done: int, total: int) -> None:
        if done and not started.is_set():
            started.set()
            for pid in doomed:
                os.kill(pid, signal.SIGKILL)

    with pytest.raises(BrokenProcessPool):
        extract_skeleton(
            clips["first"],
            pool=pool,
            on_progress=kill_once_started,
            progress_interval_s=0.0,
            **CHUNKED,
        )
    _assert_same(extract_skeleton(clips["second"], pool=pool, **CHUNKED), in_thread["second"])
    assert not (_pool_processes() & doomed)
