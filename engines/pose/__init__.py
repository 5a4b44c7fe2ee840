"""Pose engine: per-frame skeletons from video, as a `SkeletonTimeline`."""

from engines.pose.timeline import LANDMARK_COUNT, FrameQuality, Landmark, SkeletonTimeline

__all__ = ["LANDMARK_COUNT", "FrameQuality", "Landmark", "SkeletonTimeline"]
