"""The skeleton timeline: the one in-memory form of a climber's pose over a video.

Every engine downstream of pose extraction (biomechanics, contacts, advice, ghost) reads this
type, and the ghost writes the same type, so the app draws climber and ghost with one code path.
Arrays, not per-frame objects: a 5-minute video at 30 fps is 9 000 frames of 33 landmarks.

Landmark coordinates follow MediaPipe Pose: ``x`` and ``y`` normalised to the frame (0..1, may
fall slightly outside when a limb leaves the picture), ``z`` relative depth at the hips' scale, and
``visibility`` 0..1.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

#: MediaPipe Pose landmark count.
LANDMARK_COUNT = 33


class Landmark(IntEnum):
    """MediaPipe Pose landmark indices (the subset and order the engines rely on)."""

    NOSE = 0
    LEFT_EYE = 2
    RIGHT_EYE = 5
    LEFT_EAR = 7
    RIGHT_EAR = 8
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


class FrameQuality(IntEnum):
    """Per-frame provenance of the landmarks."""

    #: Pose found by the model in this frame.
    DETECTED = 0
    #: No pose in this frame; filled by interpolation across a short gap.
    INTERPOLATED = 1
    #: No pose and the gap was too long to fill: landmarks are NaN.
    MISSING = 2
    #: The frame could not be decoded; treated like MISSING.
    CORRUPT = 3


@dataclass
class SkeletonTimeline:
    """Pose of one climber over a video.

    Attributes:
        timestamps_s: ``(T,)`` float64, seconds from the start of the video, strictly increasing.
        landmarks: ``(T, 33, 4)`` float32, per landmark ``(x, y, z, visibility)``; NaN where
            ``quality`` is MISSING or CORRUPT.
        quality: ``(T,)`` uint8 of `FrameQuality` values.
        frame_width: width in pixels of the analysed frames (for aspect-correct distances).
        frame_height: height in pixels.
        source_fps: frame rate of the video file.
    """

    timestamps_s: np.ndarray
    landmarks: np.ndarray
    quality: np.ndarray
    frame_width: int
    frame_height: int
    source_fps: float

    def __post_init__(self) -> None:
        self.timestamps_s = np.asarray(self.timestamps_s, dtype=np.float64)
        self.landmarks = np.asarray(self.landmarks, dtype=np.float32)
        self.quality = np.asarray(self.quality, dtype=np.uint8)
        frames = self.timestamps_s.shape[0]
        if self.timestamps_s.ndim != 1:
            raise ValueError("timestamps_s must have shape (T,)")
        if self.landmarks.shape != (frames, LANDMARK_COUNT, 4):
            raise ValueError(
                f"landmarks must have shape ({frames}, {LANDMARK_COUNT}, 4), "
                f"got {self.landmarks.shape}"
            )
        if self.quality.shape != (frames,):
            raise ValueError(f"quality must have shape ({frames},), got {self.quality.shape}")
        if frames > 1 and not np.all(np.diff(self.timestamps_s) > 0):
            raise ValueError("timestamps_s must be strictly increasing")
        if self.frame_width <= 0 or self.frame_height <= 0:
            raise ValueError("frame size must be positive")

    def __len__(self) -> int:
        return int(self.timestamps_s.shape[0])

    @property
    def duration_s(self) -> float:
        return float(self.timestamps_s[-1] - self.timestamps_s[0]) if len(self) else 0.0

    @property
    def aspect(self) -> float:
        """Width over height: multiply normalised x by this to compare with normalised y."""
        return self.frame_width / self.frame_height

    @property
    def has_pose(self) -> np.ndarray:
        """``(T,)`` bool: frames whose landmarks are usable (detected or interpolated)."""
        return self.quality <= FrameQuality.INTERPOLATED

    @property
    def coverage(self) -> float:
        """Fraction of frames where the model found a pose, 0..1."""
        if not len(self):
            return 0.0
        return float(np.mean(self.quality == FrameQuality.DETECTED))

    def to_bytes(self) -> bytes:
        """Compressed, exact binary form for passing between activities via object storage."""
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            timestamps_s=self.timestamps_s,
            landmarks=self.landmarks,
            quality=self.quality,
            meta=np.array([self.frame_width, self.frame_height, self.source_fps], np.float64),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> SkeletonTimeline:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            width, height, fps = arrays["meta"].tolist()
            return cls(
                timestamps_s=arrays["timestamps_s"],
                landmarks=arrays["landmarks"],
                quality=arrays["quality"],
                frame_width=int(width),
                frame_height=int(height),
                source_fps=float(fps),
            )
