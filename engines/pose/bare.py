"""The benchmark's baseline: the plain single-process MediaPipe loop anyone would write first.

`extract_skeleton` is measured against it on the same file: same model, same frame sampling, one
process, full-resolution frames, no chunks, no gap filling, no smoothing.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from engines.pose.estimator import BUNDLED_MODEL_COMPLEXITY
from engines.pose.timeline import LANDMARK_COUNT, FrameQuality, SkeletonTimeline
from engines.pose.video import FrameSampler, probe_video


def bare_loop(path: str | Path, max_fps: float = 30.0) -> SkeletonTimeline:
    """Runs MediaPipe Pose over the sampled frames of ``path`` in one process.

    Args:
        path: local video file.
        max_fps: analyse at most this many frames per second, chosen as `extract_skeleton` does.

    Returns:
        Raw timeline: DETECTED or MISSING per sampled frame (frames that fail to decode end the
        loop, as they would in a naive loop).
    """
    import mediapipe as mp

    info = probe_video(path)
    sampler = FrameSampler(info.fps, max_fps)
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    indices: list[int] = []
    rows: list[np.ndarray] = []
    quality: list[int] = []
    with mp.solutions.pose.Pose(
        model_complexity=BUNDLED_MODEL_COMPLEXITY, smooth_landmarks=False
    ) as pose:
        index = 0
        while capture.grab():
            if sampler(index):
                ok, frame = capture.retrieve()
                if not ok:
                    break
                result = pose.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
                indices.append(index)
                if result.pose_landmarks is None:
                    rows.append(np.full((LANDMARK_COUNT, 4), np.nan, np.float32))
                    quality.append(FrameQuality.MISSING)
                else:
                    marks = result.pose_landmarks.landmark
                    rows.append(np.array([(m.x, m.y, m.z, m.visibility) for m in marks]))
                    quality.append(FrameQuality.DETECTED)
            index += 1
    capture.release()
    return SkeletonTimeline(
        timestamps_s=np.asarray(indices, dtype=np.float64) / info.fps,
        landmarks=np.stack(rows) if rows else np.empty((0, LANDMARK_COUNT, 4), np.float32),
        quality=np.asarray(quality, dtype=np.uint8),
        frame_width=info.width,
        frame_height=info.height,
        source_fps=info.fps,
    )
