"""Cut-short and damaged uploads are refused, never analysed as a shorter climb.

Real files throughout: clips written by OpenCV (mp4v in MP4 with its sample tables at the end, as
phones record, or MJPG in AVI), the same MP4 rewritten as "fast start" (tables first, as many apps
and web uploads send it), and their bytes cut as an interrupted upload leaves them.
"""

from __future__ import annotations

import pickle
import re
import struct
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from activities.vision import bad_input
from engines.errors import EngineInputError
from engines.pose import (
    FrameQuality,
    InvalidVideoError,
    TruncatedVideoError,
    extract_skeleton,
    probe_video,
)
from schema import names
from tests.utils import footage

pytestmark = pytest.mark.unit

FPS = 30.0
SMALL = (160, 120)
UPLOAD_AGAIN = "The upload was probably interrupted — please upload it again."
#: One-second chunks: a cut clip leaves whole chunks, and chunks part-read, behind.
CHUNKED: dict[str, Any] = {"chunk_seconds": 1.0, "warmup_seconds": 0.5}


# --- making the files ---------------------------------------------------------------------------


def boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, int, int]]:
    """``(type, offset, size)`` of the boxes in ``data[start:end]`` (32-bit sizes only)."""
    end = len(data) if end is None else end
    found, position = [], start
    while position + 8 <= end:
        size, kind = struct.unpack(">I4s", data[position : position + 8])
        found.append((kind, position, size))
        position += size
    return found


def fast_start(source: Path, target: Path) -> Path:
    """``source`` rewritten with ``moov`` before the media, as qt-faststart does."""
    data = source.read_bytes()
    top = boxes(data)
    assert [kind for kind, _, _ in top][-1] == b"moov", "OpenCV writes the tables last"
    _, moov_at, moov_size = top[-1]
    moov = bytearray(data[moov_at : moov_at + moov_size])
    _shift_chunk_offsets(moov, 8, len(moov), delta=moov_size)
    ftyp_kind, _, ftyp_size = top[0]
    assert ftyp_kind == b"ftyp"
    target.write_bytes(data[:ftyp_size] + bytes(moov) + data[ftyp_size:moov_at])
    return target


def _shift_chunk_offsets(moov: bytearray, start: int, end: int, *, delta: int) -> None:
    for kind, at, size in boxes(bytes(moov), start, end):
        if kind in (b"trak", b"mdia", b"minf", b"stbl"):
            _shift_chunk_offsets(moov, at + 8, at + size, delta=delta)
        elif kind == b"stco":
            (count,) = struct.unpack(">I", moov[at + 12 : at + 16])
            for entry in range(at + 16, at + 16 + 4 * count, 4):
                (offset,) = struct.unpack(">I", moov[entry : entry + 4])
                moov[entry : entry + 4] = struct.pack(">I", offset + delta)
        elif kind == b"co64":  # pragma: no cover - OpenCV's small files use stco
            raise AssertionError("64-bit chunk offsets are not handled here")


def sample_sizes(path: Path) -> list[int]:
    """The video track's frame sizes in bytes, from the ``stsz`` box."""
    data = path.read_bytes()
    at = data.find(b"stsz") - 4
    uniform, count = struct.unpack(">II", data[at + 12 : at + 20])
    if uniform:
        return [uniform] * count
    return list(struct.unpack(f">{count}I", data[at + 20 : at + 20 + 4 * count]))


def cut(path: Path, target: Path, *, keep: float | None = None, drop: int = 0) -> Path:
    """The first ``keep`` of the bytes of ``path``, or all but its last ``drop`` bytes."""
    data = path.read_bytes()
    end = round(len(data) * keep) if keep is not None else len(data) - drop
    target.write_bytes(data[:end])
    return target


def decodable_frames(path: Path) -> int:
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    count = 0
    while capture.grab():
        count += 1
    capture.release()
    return count


def set_avi_frame_count(path: Path, frames: int) -> Path:
    """Rewrites the frame count in an AVI's headers (``avih`` and the stream's ``strh``)."""
    data = bytearray(path.read_bytes())
    avih, strh = data.find(b"avih") + 8, data.find(b"strh") + 8
    data[avih + 16 : avih + 20] = struct.pack("<I", frames)  # dwTotalFrames
    data[strh + 32 : strh + 36] = struct.pack("<I", frames)  # dwLength
    path.write_bytes(bytes(data))
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("uploads")


@pytest.fixture(scope="module")
def tables_last(folder: Path) -> Path:
    """Four seconds of 160x120 mp4v, the sample tables after the media."""
    return footage.write_clip(folder / "phone.mp4", seconds=4.0, fps=FPS, size=SMALL)


@pytest.fixture(scope="module")
def tables_first(folder: Path, tables_last: Path) -> Path:
    return fast_start(tables_last, folder / "faststart.mp4")


@pytest.fixture(scope="module")
def person(folder: Path) -> Path:
    """Two seconds of a person, fast start (the layout that still opens once cut)."""
    clip = footage.write_clip(
        folder / "person-raw.mp4", image="basketball1.png", seconds=2.0, fps=FPS
    )
    return fast_start(clip, folder / "person.mp4")


def test_the_fast_start_rewrite_is_a_real_fast_start_file(
    tables_last: Path, tables_first: Path
) -> None:
    kinds = [kind for kind, _, _ in boxes(tables_first.read_bytes())]
    assert kinds.index(b"moov") < kinds.index(b"mdat")
    assert decodable_frames(tables_first) == decodable_frames(tables_last) == 120
    for path in (tables_last, tables_first):
        info = probe_video(path)
        assert (info.frame_count, info.fps, info.width, info.height) == (120, FPS, *SMALL)


# --- cut uploads --------------------------------------------------------------------------------


def test_cut_upload_with_tables_last_is_refused_as_incomplete(
    folder: Path, tables_last: Path
) -> None:
    upload = cut(tables_last, folder / "cut-tables-last.mp4", keep=0.4)
    with pytest.raises(TruncatedVideoError) as error:
        probe_video(upload)
    assert str(error.value) == (
        f"This video file is incomplete (only 40% of it arrived), so it can't be opened. "
        f"{UPLOAD_AGAIN}"
    )
    # The same refusal through the whole extraction, before any pose work.
    with pytest.raises(TruncatedVideoError, match="incomplete"):
        extract_skeleton(upload, workers=1)


@pytest.mark.parametrize("layout", ["tables-last", "fast-start"])
def test_upload_cut_inside_the_tables_is_refused_as_incomplete(
    folder: Path, tables_last: Path, tables_first: Path, layout: str
) -> None:
    # Cut inside the sample tables: the file cannot be opened, and how much is missing is unknown.
    source = tables_last if layout == "tables-last" else tables_first
    _, tables_at, tables_size = next(b for b in boxes(source.read_bytes()) if b[0] == b"moov")
    upload = folder / f"cut-tables-{layout}.mp4"
    upload.write_bytes(source.read_bytes()[: tables_at + tables_size // 2])
    with pytest.raises(TruncatedVideoError) as error:
        probe_video(upload)
    assert (
        str(error.value) == f"This video file is incomplete, so it can't be opened. {UPLOAD_AGAIN}"
    )


def test_cut_fast_start_upload_is_refused_with_both_lengths(
    folder: Path, tables_first: Path
) -> None:
    upload = cut(tables_first, folder / "cut-faststart.mp4", keep=0.4)
    readable = decodable_frames(upload)
    assert 20 < readable < 90, "the cut file opens and decodes part of the clip"
    with pytest.raises(TruncatedVideoError) as error:
        probe_video(upload)
    assert error.value.declared_s == pytest.approx(4.0)
    assert error.value.readable_s == pytest.approx(readable / FPS)
    assert str(error.value) == (
        f"This video looks cut short: its file says 4.0 s but only {readable / FPS:.1f} s could "
        f"be read. {UPLOAD_AGAIN}"
    )


def test_cut_upload_is_a_non_retryable_invalid_video(folder: Path, tables_first: Path) -> None:
    upload = cut(tables_first, folder / "cut-for-activity.mp4", keep=0.4)
    with pytest.raises(TruncatedVideoError) as error:
        extract_skeleton(upload, workers=1)
    assert isinstance(error.value, InvalidVideoError)
    assert isinstance(error.value, EngineInputError)
    failure = bad_input(error.value)
    assert failure.type == names.INVALID_VIDEO
    assert failure.non_retryable
    assert failure.message == str(error.value)
    # It survives pickling, as errors crossing a process pool must.
    copy = pickle.loads(pickle.dumps(error.value))
    assert (str(copy), copy.declared_s, copy.readable_s) == (
        str(error.value),
        error.value.declared_s,
        error.value.readable_s,
    )


@pytest.mark.parametrize("plan", [{"chunk_seconds": 60.0}, CHUNKED], ids=["one-chunk", "chunked"])
def test_cut_upload_in_a_container_without_sizes_is_refused_after_decoding(
    folder: Path, plan: dict[str, Any]
) -> None:
    # An AVI cut at 40% opens and its header still says 4 s: only decoding finds the end.
    # Chunked, the cut leaves one chunk part-read and the ones after it empty.
    clip = footage.write_clip(folder / "clip.avi", seconds=4.0, fps=FPS, size=SMALL, codec="MJPG")
    upload = cut(clip, folder / "cut.avi", keep=0.4)
    assert probe_video(upload).frame_count == 120
    readable = decodable_frames(upload)
    assert 20 < readable < 90
    with pytest.raises(TruncatedVideoError) as error:
        extract_skeleton(upload, workers=1, max_fps=10.0, **plan)
    assert error.value.declared_s == pytest.approx(4.0)
    # Sampled at 10 fps, what was read is measured to a sample (0.1 s).
    assert error.value.readable_s == pytest.approx(readable / FPS, abs=0.1)
    assert re.fullmatch(
        r"This video looks cut short: its file says 4\.0 s but only \d\.\d s could be read\. "
        + re.escape(UPLOAD_AGAIN),
        str(error.value),
    )


@pytest.mark.slow
def test_cut_upload_is_refused_when_chunks_run_in_worker_processes(folder: Path) -> None:
    clip = footage.write_clip(
        folder / "parallel.avi", seconds=4.0, fps=FPS, size=SMALL, codec="MJPG"
    )
    upload = cut(clip, folder / "parallel-cut.avi", keep=0.4)
    done: list[int] = []
    with pytest.raises(TruncatedVideoError, match="looks cut short"):
        extract_skeleton(
            upload,
            workers=2,
            max_fps=10.0,
            on_chunk_done=lambda index, _: done.append(index),
            **CHUNKED,
        )
    assert sorted(done) == [0, 1, 2, 3], "every chunk came back, the short ones included"


def test_a_long_unreadable_stretch_is_refused_not_skipped(folder: Path) -> None:
    # 70 undecodable frames in a row (more than the reader's 2 s) in the middle of the clip.
    clip = footage.write_clip(
        folder / "damaged.avi", seconds=4.0, fps=FPS, size=SMALL, codec="MJPG"
    )
    footage.corrupt_mjpeg_frames(clip, list(range(30, 100)))
    with pytest.raises(TruncatedVideoError) as error:
        extract_skeleton(clip, workers=1, max_fps=10.0, **CHUNKED)
    assert error.value.declared_s == pytest.approx(4.0)
    assert error.value.readable_s is not None and error.value.readable_s < 2.0
    assert str(error.value).startswith("Part of this video can't be read: its file says 4.0 s")
    assert "please upload it again" in str(error.value)
    # In one chunk the reader gives up at the damage: the rest is missing, as for a cut file.
    with pytest.raises(TruncatedVideoError, match="looks cut short"):
        extract_skeleton(clip, workers=1, max_fps=10.0, chunk_seconds=60.0)


# --- what must still pass -----------------------------------------------------------------------


@pytest.mark.parametrize("missing", [0, 1, 2])
def test_a_frame_or_two_short_of_the_header_is_analysed(
    folder: Path, person: Path, missing: int
) -> None:
    # The last frames' bytes are cut, so the header declares frames the file no longer holds.
    dropped = sum(sample_sizes(person)[60 - missing :])
    upload = cut(person, folder / f"short-{missing}.mp4", drop=dropped)
    assert decodable_frames(upload) == 60 - missing
    assert probe_video(upload).frame_count == 60
    timeline = extract_skeleton(upload, workers=1, max_fps=15.0, **CHUNKED)
    kept = [index for index in range(0, 60, 2) if index < 60 - missing]
    np.testing.assert_allclose(timeline.timestamps_s, np.asarray(kept) / FPS)
    assert timeline.coverage >= 0.9
    assert not (timeline.quality == FrameQuality.CORRUPT).any()


def test_a_header_two_frames_over_is_analysed(folder: Path) -> None:
    clip = footage.write_clip(
        folder / "person.avi", image="basketball1.png", seconds=2.0, fps=FPS, codec="MJPG"
    )
    set_avi_frame_count(clip, 62)
    assert probe_video(clip).frame_count == 62
    assert decodable_frames(clip) == 60
    timeline = extract_skeleton(clip, workers=1, **CHUNKED)
    np.testing.assert_allclose(timeline.timestamps_s, np.arange(60) / FPS)
    assert timeline.coverage >= 0.9


@pytest.mark.parametrize("layout", ["tables-last", "fast-start", "fast-start-cut"])
def test_a_very_short_clip_is_still_too_short(folder: Path, layout: str) -> None:
    clip = footage.write_clip(folder / "blink.mp4", seconds=0.3, fps=FPS, size=SMALL)
    if layout != "tables-last":
        clip = fast_start(clip, folder / "blink-faststart.mp4")
    if layout == "fast-start-cut":
        clip = cut(clip, folder / "blink-cut.mp4", keep=0.6)
    with pytest.raises(InvalidVideoError) as error:
        probe_video(clip)
    assert not isinstance(error.value, TruncatedVideoError)
    assert str(error.value) == (
        "This video is only 0.30 s long, too short to show a climb. "
        "Please upload the whole climb (a still photo is not enough)."
    )
