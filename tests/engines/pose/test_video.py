"""Probing, sampling and the streaming reader, on real-footage clips (no pose model)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from engines.errors import EngineInputError
from engines.pose import FrameSampler, InvalidVideoError, probe_video
from engines.pose.video import iter_frames
from tests.utils import footage

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("video") / "messi.mp4"
    return footage.write_clip(path, seconds=2.0, fps=30.0, size=(320, 240))


def test_probe_describes_the_clip(clip: Path) -> None:
    info = probe_video(clip)
    assert (info.frame_count, info.fps, info.width, info.height) == (60, 30.0, 320, 240)
    assert info.duration_s == pytest.approx(2.0)


def text_file(folder: Path) -> Path:
    path = folder / "notes.mp4"
    path.write_text("not a video")
    return path


def still_photo(folder: Path) -> Path:
    return Path(shutil.copy(footage.DATA_DIR / "messi5.jpg", folder / "photo.mp4"))


@pytest.mark.parametrize(
    "make",
    [
        lambda folder: footage.write_garbage(folder / "garbage.mp4"),
        lambda folder: footage.write_zero_frame_video(folder / "empty.avi"),
        text_file,
        still_photo,
    ],
    ids=["garbage", "zero-frames", "text", "still-photo"],
)
def test_unusable_files_are_invalid_video(tmp_path: Path, make: Callable[[Path], Path]) -> None:
    with pytest.raises(InvalidVideoError) as error:
        probe_video(make(tmp_path))
    assert isinstance(error.value, EngineInputError)
    assert "video" in str(error.value).lower()


@pytest.mark.parametrize(
    ("limits", "words"),
    [
        ({"max_side_px": 300}, "resolution"),
        ({"min_side_px": 480}, "too small"),
        ({"max_duration_s": 1.0}, "minutes long"),
        ({"min_duration_s": 5.0}, "too short"),
    ],
)
def test_limits_are_keyword_arguments(clip: Path, limits: dict[str, float], words: str) -> None:
    with pytest.raises(InvalidVideoError, match=words):
        probe_video(clip, **limits)  # type: ignore[arg-type]


def test_missing_file_is_not_the_climbers_fault(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        probe_video(tmp_path / "absent.mp4")


@pytest.mark.parametrize(
    ("fps", "max_fps", "kept_per_second"),
    [(30.0, 30.0, 30), (60.0, 30.0, 30), (25.0, 30.0, 25), (240.0, 30.0, 30), (30.0, 12.0, 12)],
)
def test_sampler_keeps_at_most_max_fps(fps: float, max_fps: float, kept_per_second: int) -> None:
    sampler = FrameSampler(fps, max_fps)
    kept = sampler.indices(0, round(fps * 10))
    assert len(kept) == kept_per_second * 10
    assert kept[0] == 0
    np.testing.assert_array_equal(kept, [i for i in range(round(fps * 10)) if sampler(i)])
    gaps = np.diff(kept)
    assert gaps.max() - gaps.min() <= 1, "kept frames are evenly spread"


def test_sampler_ranges_agree_with_the_whole() -> None:
    sampler = FrameSampler(59.94, 30.0)
    whole = sampler.indices(0, 1000)
    pieces = np.concatenate([sampler.indices(a, min(a + 137, 1000)) for a in range(0, 1000, 137)])
    np.testing.assert_array_equal(pieces, whole)


def frames_of(path: Path, **kwargs: object) -> list[tuple[int, bool]]:
    options: dict = {"start": 0, "stop": None, "max_corrupt_run": 30, **kwargs}
    options.setdefault("sampler", FrameSampler(30.0, 30.0))
    return [(index, frame is not None) for index, frame in iter_frames(path, **options)]


def test_reader_streams_a_range(clip: Path) -> None:
    assert frames_of(clip, start=20, stop=30) == [(i, True) for i in range(20, 30)]
    every_other = frames_of(clip, start=0, stop=10, sampler=FrameSampler(30.0, 15.0))
    assert [index for index, _ in every_other] == [0, 2, 4, 6, 8]


def test_reader_reports_corrupt_frames_and_carries_on(tmp_path: Path) -> None:
    path = footage.write_clip(tmp_path / "damaged.avi", seconds=2.0, codec="MJPG")
    footage.corrupt_mjpeg_frames(path, [10, 11, 40])
    frames = frames_of(path)
    assert len(frames) == 60
    assert [index for index, ok in frames if not ok] == [10, 11, 40]
    # A chunk ending on damaged frames looks past its end to tell damage from the end of file.
    assert frames_of(path, start=0, stop=12)[-2:] == [(10, False), (11, False)]


def test_reader_ignores_a_header_that_overcounts(tmp_path: Path) -> None:
    path = footage.write_clip(tmp_path / "clip.avi", seconds=1.0, codec="MJPG")
    frames = frames_of(path, expected_end=200)
    assert len(frames) == 30 and all(ok for _, ok in frames)
