"""Segment-mass model (centre of gravity) and joint angles from 2-D landmarks.

Mass fractions and centre-of-mass positions are P. de Leva, "Adjustments to Zatsiorsky-Seluyanov's
segment inertia parameters", *J. Biomechanics* 29(9):1223-1230 (1996), table 4, male values (the
app does not ask for sex; the female table moves the whole-body CoG by under 1 % of stature).
They refine W. T. Dempster's cadaver figures ("Space requirements of the seated operator",
WADC TR 55-159, 1955), which older tools use. Landmark proxies for de Leva's endpoints:
vertex→cervicale (head) becomes the midpoint of the ears, which is where the head's mass centre
sits; cervicale→mid-hip (trunk) becomes mid-shoulder→mid-hip; the hand's third metacarpal head is
the midpoint of MediaPipe's index and pinky knuckles; the foot runs heel→toe tip.

Because every segment CoM is a fixed blend of landmarks, the whole-body CoG is one weight vector
over the 33 landmarks: a single ``einsum`` per video.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from engines.pose.timeline import LANDMARK_COUNT, Landmark

_L = Landmark

#: (segment, proximal landmarks, distal landmarks, CoM from proximal as a fraction of the segment,
#: mass as a fraction of body mass); de Leva (1996) table 4, male. Endpoints of two landmarks are
#: their midpoint; the head is a point (its CoM fraction applies to a zero-length segment).
DE_LEVA_SEGMENTS: Final[tuple[tuple[str, tuple[int, ...], tuple[int, ...], float, float], ...]] = (
    ("head", (_L.LEFT_EAR, _L.RIGHT_EAR), (_L.LEFT_EAR, _L.RIGHT_EAR), 0.0, 0.0694),
    (
        "trunk",
        (_L.LEFT_SHOULDER, _L.RIGHT_SHOULDER),
        (_L.LEFT_HIP, _L.RIGHT_HIP),
        0.4486,
        0.4346,
    ),
    ("left_upper_arm", (_L.LEFT_SHOULDER,), (_L.LEFT_ELBOW,), 0.5772, 0.0271),
    ("right_upper_arm", (_L.RIGHT_SHOULDER,), (_L.RIGHT_ELBOW,), 0.5772, 0.0271),
    ("left_forearm", (_L.LEFT_ELBOW,), (_L.LEFT_WRIST,), 0.4574, 0.0162),
    ("right_forearm", (_L.RIGHT_ELBOW,), (_L.RIGHT_WRIST,), 0.4574, 0.0162),
    ("left_hand", (_L.LEFT_WRIST,), (_L.LEFT_INDEX, _L.LEFT_PINKY), 0.7900, 0.0061),
    ("right_hand", (_L.RIGHT_WRIST,), (_L.RIGHT_INDEX, _L.RIGHT_PINKY), 0.7900, 0.0061),
    ("left_thigh", (_L.LEFT_HIP,), (_L.LEFT_KNEE,), 0.4095, 0.1416),
    ("right_thigh", (_L.RIGHT_HIP,), (_L.RIGHT_KNEE,), 0.4095, 0.1416),
    ("left_shank", (_L.LEFT_KNEE,), (_L.LEFT_ANKLE,), 0.4459, 0.0433),
    ("right_shank", (_L.RIGHT_KNEE,), (_L.RIGHT_ANKLE,), 0.4459, 0.0433),
    ("left_foot", (_L.LEFT_HEEL,), (_L.LEFT_FOOT_INDEX,), 0.4415, 0.0137),
    ("right_foot", (_L.RIGHT_HEEL,), (_L.RIGHT_FOOT_INDEX,), 0.4415, 0.0137),
)

#: Joints whose angle is reported, with the landmarks (a, vertex, b) of the angle a-vertex-b.
#: Elbow and knee: 180° = straight. Shoulder: 0° = arm along the trunk, 180° = arm overhead.
#: Hip: 180° = thigh in line with the trunk.
JOINTS: Final[tuple[tuple[str, tuple[int, int, int]], ...]] = (
    ("left_elbow", (_L.LEFT_SHOULDER, _L.LEFT_ELBOW, _L.LEFT_WRIST)),
    ("right_elbow", (_L.RIGHT_SHOULDER, _L.RIGHT_ELBOW, _L.RIGHT_WRIST)),
    ("left_shoulder", (_L.LEFT_ELBOW, _L.LEFT_SHOULDER, _L.LEFT_HIP)),
    ("right_shoulder", (_L.RIGHT_ELBOW, _L.RIGHT_SHOULDER, _L.RIGHT_HIP)),
    ("left_hip", (_L.LEFT_SHOULDER, _L.LEFT_HIP, _L.LEFT_KNEE)),
    ("right_hip", (_L.RIGHT_SHOULDER, _L.RIGHT_HIP, _L.RIGHT_KNEE)),
    ("left_knee", (_L.LEFT_HIP, _L.LEFT_KNEE, _L.LEFT_ANKLE)),
    ("right_knee", (_L.RIGHT_HIP, _L.RIGHT_KNEE, _L.RIGHT_ANKLE)),
)
JOINT_NAMES: Final = tuple(name for name, _ in JOINTS)


def _cog_weights() -> np.ndarray:
    weights = np.zeros(LANDMARK_COUNT)
    for _, proximal, distal, com, mass in DE_LEVA_SEGMENTS:
        weights[list(proximal)] += mass * (1.0 - com) / len(proximal)
        weights[list(distal)] += mass * com / len(distal)
    return weights / weights.sum()


#: Whole-body CoG as a weighted sum of landmarks, ``(33,)`` summing to 1.
COG_WEIGHTS: Final = _cog_weights()


def centre_of_gravity(points: np.ndarray) -> np.ndarray:
    """Whole-body centre of gravity per frame.

    Args:
        points: ``(T, 33, 2)`` landmark positions (any unit shared by both axes).

    Returns:
        ``(T, 2)`` CoG in the same unit; NaN where the frame has no pose.
    """
    return np.einsum("j,tjk->tk", COG_WEIGHTS, points)


def joint_angles(points: np.ndarray) -> np.ndarray:
    """Angles of `JOINTS` in the image plane.

    Args:
        points: ``(T, 33, 2)`` landmark positions in a unit shared by both axes (pixels, not
            normalised coordinates, or angles skew with the frame's aspect ratio).

    Returns:
        ``(T, len(JOINTS))`` float64 degrees in [0, 180], columns in `JOINT_NAMES` order; NaN
        where the frame has no pose or a limb segment has no length on screen.
    """
    a_idx = [a for _, (a, _, _) in JOINTS]
    v_idx = [v for _, (_, v, _) in JOINTS]
    b_idx = [b for _, (_, _, b) in JOINTS]
    first = points[:, a_idx] - points[:, v_idx]
    second = points[:, b_idx] - points[:, v_idx]
    norms = np.linalg.norm(first, axis=2) * np.linalg.norm(second, axis=2)
    cosine = np.einsum("tjk,tjk->tj", first, second) / np.where(norms > 0, norms, np.nan)
    return np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))
