"""A constructed climbing video: walk-in, standing on the mat, leaving the ground, three moves,
stepping off — as a phone films it (wall cm, y up; see `tests.utils.skeletons`)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from engines.pose.timeline import SkeletonTimeline
from tests.utils.skeletons import Pose, Scene, climb

SCENE = Scene()
HOLDS = {
    "s1": (105.0, 170.0),
    "s2": (155.0, 170.0),
    "f1": (110.0, 60.0),
    "f2": (150.0, 60.0),
    "f4": (160.0, 110.0),
    "a": (100.0, 215.0),
    "b": (160.0, 225.0),
}
HOLD_MAP = SCENE.hold_map(HOLDS)
STAND = Pose(
    hips=(130.0, 90.0),
    left_hand=(105.0, 95.0),
    right_hand=(155.0, 95.0),
    left_foot=(115.0, 4.0),
    right_foot=(145.0, 4.0),
)
REACH = STAND.moved(left_hand=HOLDS["s1"], right_hand=HOLDS["s2"])
UP = Pose(
    hips=(130.0, 110.0),
    left_hand=HOLDS["s1"],
    right_hand=HOLDS["s2"],
    left_foot=HOLDS["f1"],
    right_foot=HOLDS["f2"],
)
MOVE_1 = UP.moved(right_hand=HOLDS["b"], hips=(135.0, 125.0))
MOVE_2 = MOVE_1.moved(right_foot=HOLDS["f4"], hips=(138.0, 135.0))
MOVE_3 = MOVE_2.moved(left_hand=HOLDS["a"], hips=(135.0, 140.0))

#: Stands on the mat 0-5 s (reaching the start holds from 3 s), leaves the ground 5-6 s, three
#: moves, steps back down 15-17 s and stands.
WHOLE_VIDEO = [
    (0.0, STAND),
    (2.0, STAND),
    (3.0, REACH),
    (5.0, REACH),
    (6.0, UP),
    (8.0, UP),
    (9.0, MOVE_1),
    (10.0, MOVE_1),
    (11.0, MOVE_2),
    (12.0, MOVE_2),
    (13.0, MOVE_3),
    (15.0, MOVE_3),
    (16.0, REACH),
    (17.0, STAND),
    (19.0, STAND),
]


def joined(first: SkeletonTimeline, second: SkeletonTimeline) -> SkeletonTimeline:
    """``second`` played right after ``first``."""
    step = 1.0 / first.source_fps
    shifted = second.timestamps_s - second.timestamps_s[0] + first.timestamps_s[-1] + step
    return replace(
        first,
        timestamps_s=np.r_[first.timestamps_s, shifted],
        landmarks=np.concatenate([first.landmarks, second.landmarks]),
        quality=np.r_[first.quality, second.quality],
    )


def walking_past_the_camera(seconds: float) -> SkeletonTimeline:
    """Someone twice as close to the lens as the wall, walking across the frame."""
    near = Scene(px_per_cm=8.0)
    start = STAND.moved(hips=(20.0, 90.0), left_hand=(0.0, 95.0), right_hand=(40.0, 95.0))
    start = start.moved(left_foot=(5.0, 4.0), right_foot=(35.0, 4.0))
    end = start.moved(
        hips=(110.0, 90.0),
        left_hand=(90.0, 95.0),
        right_hand=(130.0, 95.0),
        left_foot=(95.0, 4.0),
        right_foot=(125.0, 4.0),
    )
    return climb([(0.0, start), (seconds, end)], scene=near)
