"""Pose engine: per-frame skeletons from video, as a `SkeletonTimeline`.

MediaPipe itself is imported only when a pose estimator is built, so importing this package for
the timeline type stays cheap.
"""

from engines.pose.bare import bare_loop
from engines.pose.chunks import ChunkSpec, plan_chunks
from engines.pose.errors import InvalidVideoError, NoClimberFoundError, TruncatedVideoError
from engines.pose.estimator import PoseEstimator
from engines.pose.extract import extract_skeleton
from engines.pose.parallel import PosePool
from engines.pose.postprocess import (
    OneEuroParams,
    interpolate_gaps,
    one_euro_smooth,
    quality_counts,
)
from engines.pose.timeline import LANDMARK_COUNT, FrameQuality, Landmark, SkeletonTimeline
from engines.pose.video import FrameSampler, VideoInfo, probe_video

__all__ = [
    "LANDMARK_COUNT",
    "ChunkSpec",
    "FrameQuality",
    "FrameSampler",
    "InvalidVideoError",
    "Landmark",
    "NoClimberFoundError",
    "OneEuroParams",
    "PoseEstimator",
    "PosePool",
    "SkeletonTimeline",
    "TruncatedVideoError",
    "VideoInfo",
    "bare_loop",
    "extract_skeleton",
    "interpolate_gaps",
    "one_euro_smooth",
    "plan_chunks",
    "probe_video",
    "quality_counts",
]
