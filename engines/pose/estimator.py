"""MediaPipe Pose behind a small interface: a BGR frame in, ``(33, 4)`` landmarks out.

Only MediaPipe 0.10.21's bundled full model is used (``model_complexity=1``): the lite and heavy
models are downloaded at run time, which production and CI machines must never do. MediaPipe is
imported when an estimator is built, so importing `engines.pose` for the timeline type stays light.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import cv2
import numpy as np

from engines.pose.timeline import LANDMARK_COUNT

#: The only model complexity whose weights ship inside the mediapipe 0.10.21 wheel.
BUNDLED_MODEL_COMPLEXITY = 1


class PoseEstimator:
    """One MediaPipe Pose graph in video mode: it tracks the person from frame to frame.

    Not thread-safe; each process or thread that estimates needs its own. MediaPipe's own
    landmark smoothing is off: smoothing runs once on the stitched timeline (`one_euro_smooth`),
    so a frame's raw landmarks do not depend on how the video was cut into chunks.

    Args:
        inference_max_side: frames whose long side exceeds this are downscaled before inference.
            The detector sees 224 px and the landmark model a 256 px crop around the person, so
            960 px keeps a climber filling a third of the frame above the model's resolution while
            a 1080p frame costs a quarter of the memory and conversion time.
        min_detection_confidence: person-detector score needed to start tracking.
        min_tracking_confidence: landmark score below which tracking is dropped and the
            detector runs again on the next frame.
    """

    def __init__(
        self,
        *,
        inference_max_side: int | None = 960,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ) -> None:
        import mediapipe as mp

        self._inference_max_side = inference_max_side
        self._pose: Any = mp.solutions.pose.Pose(
            static_image_mode=False,
            model_complexity=BUNDLED_MODEL_COMPLEXITY,
            smooth_landmarks=False,
            enable_segmentation=False,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )

    def __call__(self, frame_bgr: np.ndarray) -> np.ndarray | None:
        """Estimates the pose in the next frame of the video.

        Args:
            frame_bgr: ``(H, W, 3)`` uint8 frame as OpenCV decodes it.

        Returns:
            ``(33, 4)`` float32 ``(x, y, z, visibility)`` with x, y normalised to the frame, or
            ``None`` when no person was found.
        """
        rgb = to_model_input(frame_bgr, self._inference_max_side)
        result = self._pose.process(rgb)
        if result.pose_landmarks is None:
            return None
        return np.array(
            [(lm.x, lm.y, lm.z, lm.visibility) for lm in result.pose_landmarks.landmark],
            dtype=np.float32,
        ).reshape(LANDMARK_COUNT, 4)

    def reset(self) -> None:
        """Forgets the tracked person, as at the start of a new video."""
        self._pose.reset()

    def close(self) -> None:
        self._pose.close()

    def __enter__(self) -> PoseEstimator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def to_model_input(frame_bgr: np.ndarray, max_side: int | None) -> np.ndarray:
    """Downscales (area-averaged, so no aliasing) and converts BGR to the RGB MediaPipe expects.

    Normalised landmark coordinates do not depend on the scale, so no coordinate changes after.
    """
    height, width = frame_bgr.shape[:2]
    if max_side is not None and max(height, width) > max_side:
        scale = max_side / max(height, width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        frame_bgr = cv2.resize(frame_bgr, size, interpolation=cv2.INTER_AREA)
    rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
    # Read-only input lets MediaPipe wrap the buffer instead of copying it.
    rgb.flags.writeable = False
    return rgb
