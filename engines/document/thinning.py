"""Thin the frames the phone draws but nobody studies: the skeleton before and after the climb.

Walking in, standing on the mat and walking out are drawn so the overlay does not vanish, but
nothing is measured on them; at 10 key frames a second with straight lines between, their
deltas become runs of equal integers that gzip nearly erases. The climb keeps every frame.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

import numpy as np

from engines.pose.timeline import SkeletonTimeline

#: Key frames per second kept outside the climb.
OFF_CLIMB_FPS: Final = 10.0


def thin_off_climb(
    skeleton: SkeletonTimeline, start_s: float, end_s: float, *, fps: float = OFF_CLIMB_FPS
) -> SkeletonTimeline:
    """``skeleton`` with frames outside ``[start_s, end_s]`` linearly interpolated between key
    frames ``1 / fps`` apart (each run's first and last frame are always key frames).

    Frames without a pose stay without one, and runs never bridge them.
    """
    times = skeleton.timestamps_s
    outside = skeleton.has_pose & ((times < start_s) | (times > end_s))
    if not outside.any():
        return skeleton
    landmarks = skeleton.landmarks.copy()
    edges = np.diff(np.r_[0, outside.astype(np.int8), 0])
    for first, stop in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        run = np.arange(first, stop)
        slots = np.floor((times[run] - times[first]) * fps + 1e-9)
        keys = run[np.r_[True, slots[1:] != slots[:-1]]]
        keys = np.union1d(keys, [stop - 1])
        if len(keys) == len(run):
            continue
        flat = landmarks[keys].reshape(len(keys), -1)
        interpolated = np.stack(
            [
                np.interp(times[run], times[keys], flat[:, column])
                for column in range(flat.shape[1])
            ],
            axis=1,
        )
        landmarks[run] = interpolated.reshape(len(run), *landmarks.shape[1:])
    return replace(skeleton, landmarks=landmarks)
