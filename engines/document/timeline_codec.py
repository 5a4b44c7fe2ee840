"""Compact, exact-to-the-step JSON form of a `SkeletonTimeline`, and its reference decoder.

A 30 s climb is 900 frames x 33 landmarks x 4 values; written as floats that is ~1 MB of JSON.
Here every value becomes a small integer: coordinates are quantised (x and y to one pixel of the
analysed frame), each landmark's series is delta-coded over time so a still or slowly moving
landmark writes runs of 0, ±1, ±2, and frames without a pose are not written at all: the quality
flags (run-length coded) say which frames they are, and the decoder gives them NaN. gzip then does
the rest (see ``schema/json/analysis_result.schema.json`` for the format as the app reads it).
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np

from engines.document.errors import ResultDocumentError
from engines.pose.timeline import LANDMARK_COUNT, FrameQuality, SkeletonTimeline

#: Timestamps are written in whole milliseconds.
TIME_UNIT_S: Final = 0.001
#: x and y are written in pixels of the analysed frame, up to this many steps across the frame:
#: beyond 2048 px (4K video) a step is 1/2048 of the frame, still under one pixel of a phone screen.
MAX_XY_SCALE: Final = 2048
#: z (MediaPipe's relative depth, about the scale of x) in 1/64 units: it is far noisier than x
#: and y (MediaPipe's depth jitters by more than a step of ~17 px of a 1080 px frame) and only
#: used for depth cues; finer steps spent a third of the skeleton's bytes on that noise.
Z_SCALE: Final = 64
#: Visibility in 4 levels (0..3): it decides whether the app draws a landmark, not where.
VISIBILITY_SCALE: Final = 3
#: Channel names in the document, in the landmark array's last-axis order.
CHANNELS: Final = ("x", "y", "z", "visibility")


def channel_scales(frame_width: int, frame_height: int) -> dict[str, int]:
    """Integer steps per unit of each channel for a frame size (decoded value = integer / scale)."""
    return {
        "x": min(frame_width, MAX_XY_SCALE),
        "y": min(frame_height, MAX_XY_SCALE),
        "z": Z_SCALE,
        "visibility": VISIBILITY_SCALE,
    }


def encode_timeline(timeline: SkeletonTimeline, *, first_frame: int = 0) -> dict[str, Any]:
    """The JSON-ready encoded form of a timeline.

    Args:
        timeline: the skeleton (the climber's or the ghost's).
        first_frame: index of the timeline's first frame among the video's analysed frames
            (non-zero for a ghost that starts later than the video).

    Returns:
        The ``timeline`` object of the result document's schema.

    Raises:
        ResultDocumentError: a frame with a pose has non-finite values, a quality is unknown, or
            two frames fall on the same millisecond.
    """
    if first_frame < 0:
        raise ResultDocumentError("first_frame cannot be negative")
    frames = len(timeline)
    stamps_ms = np.rint(timeline.timestamps_s / TIME_UNIT_S).astype(np.int64)
    steps = np.diff(stamps_ms)
    if np.any(steps <= 0):
        raise ResultDocumentError("two frames are less than a millisecond apart")
    quality = timeline.quality
    if frames and int(quality.max()) > FrameQuality.CORRUPT:
        raise ResultDocumentError(f"unknown frame quality {int(quality.max())}")
    posed = timeline.landmarks[timeline.has_pose].astype(np.float64)  # (P, 33, 4)
    if not np.isfinite(posed).all():
        raise ResultDocumentError(
            "a frame marked DETECTED or INTERPOLATED has non-finite landmarks; "
            "frames without a pose must be marked MISSING or CORRUPT"
        )
    values, runs = run_lengths(quality)
    encoded: dict[str, Any] = {
        "frame_count": frames,
        "first_frame": first_frame,
        "frame_width": timeline.frame_width,
        "frame_height": timeline.frame_height,
        "source_fps": float(timeline.source_fps),
        "time_ms": {"start": int(stamps_ms[0]) if frames else 0, "steps": steps.tolist()},
        "quality": {"values": values.tolist(), "runs": runs.tolist()},
        "landmark_count": LANDMARK_COUNT,
    }
    scales = channel_scales(timeline.frame_width, timeline.frame_height)
    for column, name in enumerate(CHANNELS):
        quantised = np.rint(posed[:, :, column].T * scales[name]).astype(np.int64)  # (33, P)
        # The first delta of each landmark is from 0, i.e. the value itself.
        deltas = np.diff(quantised, axis=1, prepend=0)
        encoded[name] = {"scale": scales[name], "deltas": deltas.tolist()}
    return encoded


def decode_timeline(encoded: dict[str, Any]) -> SkeletonTimeline:
    """Reference decoder of `encode_timeline`'s output (what the app implements).

    Args:
        encoded: a ``timeline`` object of the result document.

    Returns:
        The timeline: timestamps within half a millisecond and each value within half a
        quantisation step of the encoded one; NaN landmarks on MISSING and CORRUPT frames.

    Raises:
        ResultDocumentError: the object is malformed (missing fields, inconsistent lengths).
    """
    try:
        return _decode(encoded)
    except ResultDocumentError:
        raise
    except (KeyError, TypeError, ValueError) as error:
        raise ResultDocumentError(f"malformed timeline: {error!r}") from error


def _decode(encoded: dict[str, Any]) -> SkeletonTimeline:
    frames = _count(encoded["frame_count"], "frame_count")
    if encoded["landmark_count"] != LANDMARK_COUNT:
        raise ResultDocumentError(f"landmark_count must be {LANDMARK_COUNT}")
    steps = _integers(encoded["time_ms"]["steps"], "time_ms.steps")
    if steps.shape != (max(frames - 1, 0),) or np.any(steps <= 0):
        raise ResultDocumentError("time_ms.steps must hold frame_count - 1 positive steps")
    start = encoded["time_ms"]["start"]
    if not isinstance(start, int):
        raise ResultDocumentError("time_ms.start must be an integer")
    stamps_ms = start + np.concatenate([[0], np.cumsum(steps)])
    quality = expand_runs(
        _integers(encoded["quality"]["values"], "quality.values"),
        _integers(encoded["quality"]["runs"], "quality.runs"),
    )
    if quality.shape != (frames,) or (
        frames and not 0 <= quality.min() <= quality.max() <= FrameQuality.CORRUPT
    ):
        raise ResultDocumentError("quality runs must cover frame_count frames with values 0..3")
    posed = quality <= FrameQuality.INTERPOLATED
    landmarks = np.full((frames, LANDMARK_COUNT, 4), np.nan, dtype=np.float32)
    for column, name in enumerate(CHANNELS):
        scale = encoded[name]["scale"]
        if not isinstance(scale, int) or scale < 1:
            raise ResultDocumentError(f"{name}.scale must be a positive integer")
        deltas = _integers(encoded[name]["deltas"], f"{name}.deltas")
        if deltas.shape != (LANDMARK_COUNT, int(posed.sum())):
            raise ResultDocumentError(
                f"{name}.deltas must be {LANDMARK_COUNT} rows of one value per frame with a pose"
            )
        landmarks[posed, :, column] = (np.cumsum(deltas, axis=1) / scale).T
    fps = float(encoded["source_fps"])
    if not math.isfinite(fps) or fps <= 0:
        raise ResultDocumentError("source_fps must be positive")
    return SkeletonTimeline(
        timestamps_s=stamps_ms[:frames] * TIME_UNIT_S,
        landmarks=landmarks,
        quality=quality.astype(np.uint8),
        frame_width=_count(encoded["frame_width"], "frame_width", minimum=1),
        frame_height=_count(encoded["frame_height"], "frame_height", minimum=1),
        source_fps=fps,
    )


def run_lengths(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(run values, run lengths)`` of a 1-D array."""
    if not len(values):
        return values[:0], np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    return values[starts], np.diff(np.r_[starts, len(values)])


def expand_runs(values: np.ndarray, runs: np.ndarray) -> np.ndarray:
    """Inverse of `run_lengths`."""
    if values.shape != runs.shape or np.any(runs < 1):
        raise ResultDocumentError("run values and lengths must pair up, each run at least 1 long")
    return np.repeat(values, runs)


def _integers(value: object, name: str) -> np.ndarray:
    """An int64 array from JSON lists, refusing floats, ragged rows and anything else."""
    try:
        array = np.asarray(value)
    except ValueError as error:  # ragged nested lists
        raise ResultDocumentError(f"{name} must be a rectangular array of integers") from error
    if array.size == 0:
        return array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise ResultDocumentError(f"{name} must hold integers only")
    return array.astype(np.int64)


def _count(value: object, name: str, *, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ResultDocumentError(f"{name} must be an integer of at least {minimum}")
    return value
