"""Reading a video: validation, frame-rate sampling and a streaming, corruption-tolerant reader.

Frames are decoded one at a time and never collected, so memory does not grow with the video's
length. Frame indices are positions in the stream and timestamps are ``index / fps``: the same
frame gets the same index and timestamp whichever chunk reads it, which is what lets chunks
computed by different processes (or different attempts) be stitched together.

One module of ~440 lines on purpose: validation, sampling and the reader share the stream's
frame numbering, and splitting them would spread that one invariant over several files.
"""

from __future__ import annotations

import logging
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from engines.pose.errors import InvalidVideoError, TruncatedVideoError

logger = logging.getLogger(__name__)

#: Frame rates outside this range come from broken headers, not cameras (slow motion is ≤ 960).
_FPS_RANGE = (1.0, 1000.0)

#: Seconds of consecutive undecodable frames after which the stream is taken to have ended.
MAX_CORRUPT_RUN_S = 2.0

#: A file may decode up to this many frames fewer than its header says, or this fraction of
#: them (whichever is more), before it counts as cut short: real phone files are often a frame
#: or two off. Anything more is an interrupted upload or a damaged file, never a shorter climb.
TOLERATED_SHORTFALL_FRAMES = 3
TOLERATED_SHORTFALL_FRACTION = 0.02

#: Boxes an MP4/MOV file can start with (ISO/IEC 14496-12 and QuickTime).
_ISO_FIRST_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot"})
#: Boxes holding the sample tables (moov) or a fragment's (moof): without one nothing decodes.
_ISO_INDEX_BOXES = frozenset({b"moov", b"moof"})

_UPLOAD_AGAIN = "The upload was probably interrupted — please upload it again."


def max_corrupt_run(fps: float) -> int:
    """Consecutive undecodable frames tolerated before the stream is taken to have ended."""
    return max(8, round(MAX_CORRUPT_RUN_S * fps))


def tolerated_shortfall(frames: int) -> int:
    """How many of ``frames`` (declared by the header) may be unreadable without refusing."""
    return max(TOLERATED_SHORTFALL_FRAMES, math.ceil(TOLERATED_SHORTFALL_FRACTION * frames))


def cut_short_error(declared_s: float, readable_s: float) -> TruncatedVideoError:
    """The refusal of a video that decodes for much less time than its file declares."""
    return TruncatedVideoError(
        f"This video looks cut short: {_lengths(declared_s, readable_s)}. {_UPLOAD_AGAIN}",
        declared_s=declared_s,
        readable_s=readable_s,
    )


def damaged_error(declared_s: float, readable_s: float) -> TruncatedVideoError:
    """The refusal of a video with a long unreadable stretch before its end."""
    return TruncatedVideoError(
        f"Part of this video can't be read: {_lengths(declared_s, readable_s)}. The file looks "
        "damaged, probably during the upload — please upload it again.",
        declared_s=declared_s,
        readable_s=readable_s,
    )


def _lengths(declared_s: float, readable_s: float) -> str:
    if readable_s < 0.05:
        return f"its file says {declared_s:.1f} s but almost none of it could be read"
    # One decimal unless that would show two equal numbers.
    digits = 1 if round(declared_s, 1) != round(readable_s, 1) else 2
    return (
        f"its file says {declared_s:.{digits}f} s but only {readable_s:.{digits}f} s could be read"
    )


@dataclass(frozen=True)
class VideoInfo:
    """What `probe_video` learnt about a file.

    Attributes:
        frame_count: frames in the stream (from the header; counted by decoding when the header
            has none). The last chunk reads to the end of the stream, so a header that
            under-counts costs nothing; one that over-counts by more than
            `tolerated_shortfall` means frames are missing and the video is refused.
        fps: frames per second of the file.
        width: width in pixels of decoded frames (after the rotation stored by phones).
        height: height in pixels of decoded frames.
    """

    frame_count: int
    fps: float
    width: int
    height: int

    @property
    def duration_s(self) -> float:
        return self.frame_count / self.fps


@dataclass(frozen=True)
class FrameSampler:
    """Keeps at most ``max_fps`` frames per second of a ``fps`` stream, evenly spread.

    Frame ``i`` is kept when ``floor(i * r)`` steps up at ``i`` (``r = max_fps / fps``), a pure
    function of the index, so every reader of any range agrees on which frames are kept.
    """

    fps: float
    max_fps: float

    def __post_init__(self) -> None:
        if self.fps <= 0 or self.max_fps <= 0:
            raise ValueError("fps and max_fps must be positive")

    @property
    def ratio(self) -> float:
        return min(1.0, self.max_fps / self.fps)

    def __call__(self, index: int) -> bool:
        ratio = self.ratio
        if ratio >= 1.0 or index == 0:
            return True
        return math.floor(index * ratio) != math.floor((index - 1) * ratio)

    def indices(self, start: int, stop: int) -> np.ndarray:
        """``(N,)`` int64: the kept frame indices in ``[start, stop)``."""
        candidates = np.arange(max(0, start), max(0, stop), dtype=np.int64)
        ratio = self.ratio
        if ratio >= 1.0:
            return candidates
        steps = np.floor(candidates * ratio) != np.floor((candidates - 1) * ratio)
        return candidates[steps | (candidates == 0)]


def open_capture(path: str | Path, *, decode_threads: int | None = None) -> cv2.VideoCapture:
    """Opens ``path`` with the FFmpeg backend (never the image-sequence one).

    Args:
        path: the video file.
        decode_threads: FFmpeg decoding threads; ``None`` lets FFmpeg choose (one per core),
            which oversubscribes the CPU when several workers decode at once.

    Returns:
        The capture; check ``isOpened()``.
    """
    return cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, _params(decode_threads))


def _params(decode_threads: int | None) -> list[int]:
    return [] if decode_threads is None else [cv2.CAP_PROP_N_THREADS, max(1, decode_threads)]


def probe_video(
    path: str | Path,
    *,
    max_duration_s: float = 900.0,
    min_duration_s: float = 0.5,
    max_side_px: int = 4096,
    min_side_px: int = 64,
) -> VideoInfo:
    """Checks that ``path`` is a video we can analyse and describes it.

    Args:
        path: local video file.
        max_duration_s: longest accepted video (a single climb, not a session recording).
        min_duration_s: shortest accepted video; also rejects still images, which FFmpeg opens
            as one-frame videos.
        max_side_px: largest accepted frame side (4096 admits 4K; 8K is refused).
        min_side_px: smallest accepted frame side.

    Returns:
        The video's frame count, frame rate and decoded frame size.

    Raises:
        FileNotFoundError: ``path`` does not exist (a problem on our side, not the climber's).
        InvalidVideoError: the file is not a readable video or is outside the limits.
        TruncatedVideoError: (an `InvalidVideoError`) an MP4/MOV file whose end is missing:
            it cannot be opened, or decodes well short of the frames it declares (an
            interrupted upload). Other containers are checked as their frames are read
            (`extract_skeleton`).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(path)
    capture = open_capture(path)
    try:
        if not capture.isOpened():
            incomplete = _iso_incomplete(path)
            if incomplete is not None:
                raise _unopenable_error(*incomplete)
            raise InvalidVideoError(
                "We couldn't read this file as a video. Please upload the video straight from "
                "your phone's camera (MP4 or MOV)."
            )
        fps = float(capture.get(cv2.CAP_PROP_FPS))
        header_count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        ok, first = capture.read()
        if not ok or first is None:
            incomplete = _iso_incomplete(path)
            if incomplete is not None:
                raise _unopenable_error(*incomplete)
            raise InvalidVideoError(
                "This video has no pictures we can decode. The upload may have been cut short "
                "or the file damaged; please try uploading it again."
            )
        height, width = first.shape[:2]
        if not (_FPS_RANGE[0] <= fps <= _FPS_RANGE[1]) or math.isnan(fps):
            raise InvalidVideoError(
                "This video's frame rate is unreadable, so we can't time your moves. Please "
                "upload the video straight from your phone's camera."
            )
        max_frames = math.ceil(max_duration_s * fps) + 1
        frame_count = header_count if header_count > 0 else _count_frames(capture, max_frames)
        info = VideoInfo(frame_count=frame_count, fps=fps, width=width, height=height)
        _check_limits(info, max_duration_s, min_duration_s, max_side_px, min_side_px)
        if _iso_incomplete(path) is not None:
            _check_readable(capture, info, counted=header_count <= 0)
    finally:
        capture.release()
    return info


def _iso_incomplete(path: Path) -> tuple[int, int | None] | None:
    """For an MP4/MOV file whose boxes run past its end (or that has no sample tables): the
    bytes present and about the bytes of the whole file (``None`` if unknown: only a cut media
    box tells). ``None`` for a complete file and for other containers, which are checked by
    decoding only.

    Reads only the top-level box headers. A file with its sample tables (``moov``) at the end,
    as phones record, cannot be opened at all once cut; a "fast start" file (``moov`` first, as
    many apps and web uploads rewrite it) opens, and the frames it declares run out part-way.
    """
    size = path.stat().st_size
    position, has_index = 0, False
    with path.open("rb") as file:
        while position + 8 <= size:
            file.seek(position)
            header = file.read(16)
            box_size, kind = struct.unpack(">I4s", header[:8])
            if position == 0 and kind not in _ISO_FIRST_BOXES:
                return None
            if box_size == 1:  # 64-bit size after the type
                if len(header) < 16:
                    return size, None
                box_size = struct.unpack(">Q", header[8:16])[0]
            elif box_size == 0:  # the box runs to the end of the file
                box_size = size - position
            if box_size < 8:
                return None  # not box structure after all: leave it to the decoder
            has_index = has_index or kind in _ISO_INDEX_BOXES
            if position + box_size > size:
                # Only the media box ends at (or just before the tables at) the end of the file.
                return size, position + box_size if kind == b"mdat" else None
            position += box_size
    if position == 0 or has_index:
        return None
    return size, None


def _unopenable_error(received: int, declared: int | None) -> TruncatedVideoError:
    """The refusal of a cut MP4/MOV file that cannot be opened, or shows no picture."""
    if declared is None:
        return TruncatedVideoError(
            f"This video file is incomplete, so it can't be opened. {_UPLOAD_AGAIN}"
        )
    percent = max(1, math.floor(100 * received / declared))
    return TruncatedVideoError(
        f"This video file is incomplete (only {percent}% of it arrived), so it can't be "
        f"opened. {_UPLOAD_AGAIN}"
    )


def _check_readable(capture: cv2.VideoCapture, info: VideoInfo, *, counted: bool) -> None:
    """Refuses a file cut short: its boxes run past its end and the frames run out early.

    ``capture`` has read the first frame only, unless ``counted`` (no header count: the frames
    were counted by decoding, so they are what could be read and the declared length is
    unknown).
    """
    if counted:
        readable_s = info.frame_count / info.fps
        raise TruncatedVideoError(
            f"This video file is incomplete: it stops after {readable_s:.1f} s and its end is "
            f"missing. {_UPLOAD_AGAIN}",
            readable_s=readable_s,
        )
    readable = _readable_frames(capture, info.frame_count, max_corrupt_run(info.fps))
    shortfall = info.frame_count - readable
    if shortfall > tolerated_shortfall(info.frame_count):
        raise cut_short_error(info.duration_s, readable / info.fps)
    logger.warning(
        "video file ends early but only %d of %d frames are missing", shortfall, info.frame_count
    )


def _readable_frames(capture: cv2.VideoCapture, limit: int, max_failures: int) -> int:
    """Frames up to the last one that decodes (at most ``limit``); one was already read.

    Like `iter_frames`, a short run of undecodable frames is damage, not the end.
    """
    index, readable, failures = 1, 1, 0
    while index < limit and failures <= max_failures:
        if capture.grab():
            readable, failures = index + 1, 0
        else:
            failures += 1
        index += 1
    return readable


def _count_frames(capture: cv2.VideoCapture, limit: int) -> int:
    # Some containers (streamed WebM, fragmented MP4) carry no frame count; decoding is the only
    # way to know, stopped at the limit so a huge file fails fast. One frame was already read.
    logger.warning("video header has no frame count; counting frames by decoding")
    count = 1
    while count <= limit and capture.grab():
        count += 1
    return count


def _check_limits(
    info: VideoInfo,
    max_duration_s: float,
    min_duration_s: float,
    max_side_px: int,
    min_side_px: int,
) -> None:
    long_side, short_side = max(info.width, info.height), min(info.width, info.height)
    if long_side > max_side_px:
        raise InvalidVideoError(
            f"This video's resolution ({info.width}x{info.height}) is larger than we can analyse "
            f"(at most {max_side_px} pixels on a side). Please record in 1080p or 4K."
        )
    if short_side < min_side_px:
        raise InvalidVideoError(
            f"This video is too small ({info.width}x{info.height} pixels) to see a climber. "
            "Please record in at least 480p."
        )
    if info.duration_s > max_duration_s:
        raise InvalidVideoError(
            f"This video is {info.duration_s / 60:.1f} minutes long; we analyse videos of up to "
            f"{max_duration_s / 60:.0f} minutes. Please trim it to a single climb."
        )
    if info.duration_s < min_duration_s:
        raise InvalidVideoError(
            f"This video is only {info.duration_s:.2f} s long, too short to show a climb. "
            "Please upload the whole climb (a still photo is not enough)."
        )


def iter_frames(
    path: str | Path,
    *,
    start: int,
    stop: int | None,
    sampler: FrameSampler,
    max_corrupt_run: int,
    expected_end: int | None = None,
    decode_threads: int | None = None,
) -> Iterator[tuple[int, np.ndarray | None]]:
    """Yields the sampled frames with index in ``[start, stop)``, one at a time.

    A frame that fails to decode is yielded as ``(index, None)`` once a later frame decodes,
    which proves the failure was damage and not the end of the stream. After more than
    ``max_corrupt_run`` failures in a row the stream is taken to have ended and the unconfirmed
    failures are dropped, so a header that over-counts frames yields no phantom corrupt frames.

    Args:
        path: the video file.
        start: first frame index.
        stop: end of the range (exclusive), or ``None`` to read to the end of the stream.
        sampler: decides which frames are returned; the others are decoded (the codec needs
            them) but never converted to BGR.
        max_corrupt_run: consecutive decode failures tolerated before assuming the end.
        expected_end: frame count from the header; a failure at or past it ends the stream at
            once instead of after ``max_corrupt_run`` attempts.
        decode_threads: see `open_capture`.

    Yields:
        ``(index, frame)`` with ``frame`` a BGR ``(H, W, 3)`` uint8 array, or ``None`` if corrupt.
    """
    capture = open_capture(path, decode_threads=decode_threads)
    if not capture.isOpened():
        raise InvalidVideoError("We couldn't read this file as a video; please upload it again.")
    try:
        _seek(capture, path, start, decode_threads)
        index, failures = start, 0
        unconfirmed: list[int] = []
        while stop is None or index < stop or unconfirmed:
            if not capture.grab():
                failures += 1
                past_end = expected_end is not None and index >= expected_end
                if past_end or failures > max_corrupt_run:
                    break
                if sampler(index) and (stop is None or index < stop):
                    unconfirmed.append(index)
                index += 1
                continue
            failures = 0
            for damaged in unconfirmed:
                yield damaged, None
            unconfirmed.clear()
            if stop is not None and index >= stop:
                break
            if sampler(index):
                ok, frame = capture.retrieve()
                yield index, frame if ok else None
            index += 1
        if unconfirmed:
            logger.info("stream ended after %d undecodable frames at %d", len(unconfirmed), index)
    finally:
        capture.release()


def _seek(capture: cv2.VideoCapture, path: str | Path, start: int, threads: int | None) -> None:
    if start <= 0:
        return
    capture.set(cv2.CAP_PROP_POS_FRAMES, start)
    landed = int(capture.get(cv2.CAP_PROP_POS_FRAMES))
    if landed == start:
        return
    # The FFmpeg backend seeks by timestamp; with irregular timestamps it can land elsewhere.
    # Decoding from the start is slow but exact.
    logger.warning("seek to frame %d landed on %d; skipping forward from the start", start, landed)
    capture.open(str(path), cv2.CAP_FFMPEG, _params(threads))
    for _ in range(start):
        # A failed grab still consumes its frame, so the count stays aligned with indices.
        capture.grab()
