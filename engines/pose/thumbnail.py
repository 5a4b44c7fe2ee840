"""A video's thumbnail: one frame, as the JPEG the app's list shows (``thumbnails/{video_id}.jpg``).

Two choices of frame, made at two moments of the analysis:

- **middle** (`middle_frame_time`): as soon as the video is on the GPU worker and before any
  skeleton exists, the frame half-way through. Every video that reaches the skeleton step gets a
  thumbnail, even one whose climb is never found.
- **climb** (`climb_frame_time`): once the climb is segmented, the frame inside the climb where
  the climber's limbs are best seen (highest mean landmark visibility), replacing the first.
  The first and last tenth of the climb are left out: there the climber is still stepping on or
  already stepping off the wall.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from engines.pose.errors import InvalidVideoError
from engines.pose.timeline import Landmark, SkeletonTimeline
from engines.pose.video import FrameSampler, iter_frames, probe_video

#: Longest side of the stored JPEG, pixels: a list cell, not a poster.
MAX_SIDE_PX = 640
JPEG_QUALITY = 85
#: Part of the climb left out at each end when choosing its frame.
CLIMB_MARGIN = 0.1

#: The landmarks a thumbnail should show: the climber's limbs and trunk.
_BODY = [
    Landmark.LEFT_SHOULDER,
    Landmark.RIGHT_SHOULDER,
    Landmark.LEFT_ELBOW,
    Landmark.RIGHT_ELBOW,
    Landmark.LEFT_WRIST,
    Landmark.RIGHT_WRIST,
    Landmark.LEFT_HIP,
    Landmark.RIGHT_HIP,
    Landmark.LEFT_KNEE,
    Landmark.RIGHT_KNEE,
    Landmark.LEFT_ANKLE,
    Landmark.RIGHT_ANKLE,
]


@dataclass(frozen=True)
class Thumbnail:
    """A thumbnail's JPEG and where in the video it comes from."""

    jpeg: bytes
    #: Seconds from the start of the video.
    time_s: float
    #: "middle" or "climb" (see the module's docstring).
    source: str


def middle_frame_time(video: Path) -> float:
    """The time of the frame half-way through ``video``, seconds."""
    info = probe_video(video)
    return (info.frame_count // 2) / info.fps


def climb_frame_time(timeline: SkeletonTimeline, start_s: float, end_s: float) -> float | None:
    """The time of the frame in ``[start_s, end_s]`` (without its margins) where the body is
    best seen; ties go to the frame nearest the climb's middle. None when no frame of the climb
    has a pose."""
    times = timeline.timestamps_s
    margin = (end_s - start_s) * CLIMB_MARGIN
    inside = (times >= start_s + margin) & (times <= end_s - margin) & timeline.has_pose
    if not inside.any():
        inside = (times >= start_s) & (times <= end_s) & timeline.has_pose
        if not inside.any():
            return None
    visibility = np.nan_to_num(timeline.landmarks[:, _BODY, 3], nan=0.0).mean(axis=1)
    score = np.where(inside, visibility, -np.inf)
    best = np.flatnonzero(score == score.max())
    middle = (start_s + end_s) / 2
    return float(times[best[np.argmin(np.abs(times[best] - middle))]])


def render_thumbnail(video: Path, time_s: float, source: str) -> Thumbnail:
    """The frame shown at ``time_s``, scaled to `MAX_SIDE_PX` and encoded as JPEG.

    Raises:
        InvalidVideoError: the frame cannot be decoded.
    """
    info = probe_video(video)
    index = min(max(0, round(time_s * info.fps)), max(0, info.frame_count - 1))
    frame = None
    for _, decoded in iter_frames(
        video,
        start=index,
        stop=index + 1,
        sampler=FrameSampler(info.fps, info.fps),
        max_corrupt_run=int(info.fps),
        expected_end=info.frame_count,
        decode_threads=1,
    ):
        frame = decoded
    if frame is None:
        raise InvalidVideoError(f"frame {index} of this video cannot be decoded")
    height, width = frame.shape[:2]
    scale = MAX_SIDE_PX / max(height, width)
    if scale < 1:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise InvalidVideoError("this video's frame cannot be encoded as JPEG")
    return Thumbnail(encoded.tobytes(), index / info.fps, source)
