"""Landmark bookkeeping for the ghost: work coordinates and the rigid hand, foot and face frames.

The ghost's kinematic model has joints (shoulders, elbows, wrists, hips, knees, ankles, neck) and
rigid end frames that carry MediaPipe's sub-landmarks: fingers on the wrist, heel and toes on the
ankle, the face on the head. This module measures those rigid offsets on the climber's skeleton so
the ghost's hands, feet and face look like the climber's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engines.pose.timeline import Landmark as L

NOSE = int(L.NOSE)
SHOULDERS = [int(L.LEFT_SHOULDER), int(L.RIGHT_SHOULDER)]
HIPS = [int(L.LEFT_HIP), int(L.RIGHT_HIP)]
TORSO_POINTS = (*SHOULDERS, *HIPS)
#: Per side (left, right): (shoulder, elbow, wrist, pinky, index, thumb).
ARMS = (
    (L.LEFT_SHOULDER, L.LEFT_ELBOW, L.LEFT_WRIST, L.LEFT_PINKY, L.LEFT_INDEX, L.LEFT_THUMB),
    (L.RIGHT_SHOULDER, L.RIGHT_ELBOW, L.RIGHT_WRIST, L.RIGHT_PINKY, L.RIGHT_INDEX, L.RIGHT_THUMB),
)
#: Per side: (hip, knee, ankle, heel, foot index).
LEGS = (
    (L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE, L.LEFT_HEEL, L.LEFT_FOOT_INDEX),
    (L.RIGHT_HIP, L.RIGHT_KNEE, L.RIGHT_ANKLE, L.RIGHT_HEEL, L.RIGHT_FOOT_INDEX),
)
SEGMENTS: dict[str, tuple[tuple[int, int], ...]] = {
    "upper_arm": tuple((int(a[0]), int(a[1])) for a in ARMS),
    "forearm": tuple((int(a[1]), int(a[2])) for a in ARMS),
    "thigh": tuple((int(g[0]), int(g[1])) for g in LEGS),
    "shin": tuple((int(g[1]), int(g[2])) for g in LEGS),
    "shoulder_width": ((SHOULDERS[0], SHOULDERS[1]),),
    "hip_width": ((HIPS[0], HIPS[1]),),
}

# Fallback offsets as fractions of stature, for skeletons that never show a hand, foot or face
# clearly. Left-side landmarks sit on the negative second axis of a frame pointing up the body.
_DEFAULT_HAND = np.array([[0.045, 0.012], [0.045, -0.012], [0.02, -0.025]])  # pinky, index, thumb
_DEFAULT_FOOT = np.array([[-0.035, 0.0], [0.11, 0.0]])  # heel, foot index
_DEFAULT_FACE = np.array(
    [
        [0.0, 0.0],
        *[[0.012, -s] for s in (0.012, 0.018, 0.024)],
        *[[0.012, s] for s in (0.012, 0.018, 0.024)],
        [-0.01, -0.04],
        [-0.01, 0.04],
        [-0.015, -0.012],
        [-0.015, 0.012],
    ]
)


def work_points(landmarks: np.ndarray, aspect: float) -> np.ndarray:
    """``(..., 33, 2)`` float64 landmark x, y in work units (x scaled by the frame aspect)."""
    points = np.asarray(landmarks[..., :2], dtype=np.float64).copy()
    points[..., 0] *= aspect
    return points


def perp(vectors: np.ndarray) -> np.ndarray:
    """Left perpendicular in image coordinates: (x, y) → (-y, x)."""
    return np.stack([-vectors[..., 1], vectors[..., 0]], axis=-1)


def angle(vectors: np.ndarray) -> np.ndarray:
    return np.arctan2(vectors[..., 1], vectors[..., 0])


def wrap(angles: np.ndarray) -> np.ndarray:
    """Angles wrapped to (-π, π]."""
    return np.angle(np.exp(1j * np.asarray(angles)))


@dataclass
class RigidFrames:
    """Rigid sub-landmark offsets and rest angles; see `BodyModel` for the shapes."""

    hand_offsets: np.ndarray
    foot_offsets: np.ndarray
    face_offsets: np.ndarray
    rest_end_angles: np.ndarray
    rest_head_angle: float


def measure_frames(
    points: np.ndarray, visible: np.ndarray, torso_frames: np.ndarray, stature: float
) -> RigidFrames:
    """Median rigid offsets of fingers, feet and face over the frames that show them.

    Args:
        points: ``(T, 33, 2)`` work coordinates.
        visible: ``(T, 33)`` landmarks usable for measurement.
        torso_frames: ``(T,)`` frames showing both shoulders and hips.
        stature: estimated stature, scales the fallbacks.

    Returns:
        The climber's `RigidFrames`.
    """
    hands, feet, rest = [], [], []
    for side, (_, elbow, wrist, *fingers) in enumerate(ARMS):
        local, rel = _end_frame(points, visible, elbow, wrist, tuple(fingers), tuple(fingers[:2]))
        fallback = _DEFAULT_HAND * stature * (1.0 if side == 0 else np.array([1.0, -1.0]))
        hands.append(local if local is not None else fallback)
        rest.append(rel)
    for side, (_, knee, ankle, heel, toe) in enumerate(LEGS):
        local, rel = _end_frame(points, visible, knee, ankle, (heel, toe), (toe,))
        fallback = _DEFAULT_FOOT * stature * (1.0 if side == 0 else np.array([1.0, -1.0]))
        feet.append(local if local is not None else fallback)
        rest.append(rel)

    neck = points[:, SHOULDERS].mean(axis=1)
    up = neck - points[:, HIPS].mean(axis=1)
    face_frames = torso_frames & np.all(visible[:, :11], axis=1)
    face = _DEFAULT_FACE * stature
    rest_head = 0.0
    if np.any(face_frames):
        axis = _unit(points[face_frames, NOSE] - neck[face_frames])
        rel = points[face_frames, :11] - points[face_frames, NOSE][:, None]
        local = np.stack([np.sum(rel * axis[:, None], -1), np.sum(rel * perp(axis)[:, None], -1)])
        face = np.median(local, axis=1).T
        rest_head = _circular_mean(angle(axis) - angle(up[face_frames]))
    return RigidFrames(np.stack(hands), np.stack(feet), face, np.array(rest), rest_head)


def _end_frame(
    points: np.ndarray,
    visible: np.ndarray,
    proximal: int,
    origin: int,
    members: tuple[int, ...],
    axis_points: tuple[int, ...],
) -> tuple[np.ndarray | None, float]:
    """Offsets of ``members`` from ``origin`` in the frame pointing at the ``axis_points`` mean."""
    frames = visible[:, origin] & np.all(visible[:, list(members)], axis=1)
    if not np.any(frames):
        return None, 0.0
    base = points[frames, origin]
    axis = _unit(points[frames][:, list(axis_points)].mean(axis=1) - base)
    rel = points[frames][:, list(members)] - base[:, None]
    local = np.stack([np.sum(rel * axis[:, None], -1), np.sum(rel * perp(axis)[:, None], -1)], -1)
    with_limb = visible[frames, proximal]
    rest = 0.0
    if np.any(with_limb):
        distal = base[with_limb] - points[frames][with_limb, proximal]
        rest = _circular_mean(angle(axis[with_limb]) - angle(distal))
    return np.median(local, axis=0), rest


def _unit(vectors: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norm, 1e-12)


def _circular_mean(angles: np.ndarray) -> float:
    return float(np.arctan2(np.mean(np.sin(angles)), np.mean(np.cos(angles))))
