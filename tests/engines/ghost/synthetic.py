"""Synthetic climbers and walls with known geometry, built independently of the ghost engine."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engines.limbs import Limb
from engines.pose.timeline import FrameQuality, Landmark, SkeletonTimeline
from schema.holds import Hold, HoldMap

WIDTH, HEIGHT = 720, 1280
ASPECT = WIDTH / HEIGHT


@dataclass(frozen=True)
class Lengths:
    """A climber's segment lengths in frame heights."""

    upper_arm: float
    forearm: float
    thigh: float
    shin: float
    torso: float
    shoulder_width: float
    hip_width: float
    head: float
    hand: float
    foot: float

    @classmethod
    def for_stature(cls, stature: float) -> Lengths:
        """Winter's proportions for a climber ``stature`` frame heights tall."""
        h = stature
        return cls(
            0.186 * h,
            0.146 * h,
            0.245 * h,
            0.246 * h,
            0.288 * h,
            0.2 * h,
            0.15 * h,
            0.12 * h,
            0.05 * h,
            0.1 * h,
        )


def _dir(degrees: float) -> np.ndarray:
    rad = np.deg2rad(degrees)
    return np.array([np.cos(rad), np.sin(rad)])


def pose(
    lengths: Lengths,
    pelvis: tuple[float, float],
    *,
    arms: tuple[tuple[float, float], tuple[float, float]] = ((-120.0, -80.0), (-60.0, -100.0)),
    legs: tuple[tuple[float, float], tuple[float, float]] = ((120.0, 80.0), (60.0, 100.0)),
) -> np.ndarray:
    """``(33, 2)`` landmarks in work units (x in frame heights) of an upright climber seen
    from behind. Angles are image directions in degrees (0 = right, 90 = down) of the upper and
    lower segment of (left, right) arms and legs."""
    p = np.zeros((33, 2))
    base = np.array(pelvis, dtype=float)
    up, lateral = np.array([0.0, -1.0]), np.array([1.0, 0.0])
    neck = base + up * lengths.torso
    for side, sign in ((0, -1.0), (1, 1.0)):
        shoulder = neck + sign * lateral * lengths.shoulder_width / 2
        elbow = shoulder + lengths.upper_arm * _dir(arms[side][0])
        wrist = elbow + lengths.forearm * _dir(arms[side][1])
        axis = _dir(arms[side][1])
        across = np.array([-axis[1], axis[0]])
        hip = base + sign * lateral * lengths.hip_width / 2
        knee = hip + lengths.thigh * _dir(legs[side][0])
        ankle = knee + lengths.shin * _dir(legs[side][1])
        toe_axis = _dir(legs[side][1] - sign * 60.0)
        names = ("LEFT", "RIGHT")[side]
        points = {
            "SHOULDER": shoulder,
            "ELBOW": elbow,
            "WRIST": wrist,
            "PINKY": wrist + lengths.hand * axis - 0.3 * lengths.hand * across,
            "INDEX": wrist + lengths.hand * axis + 0.3 * lengths.hand * across,
            "THUMB": wrist + 0.5 * lengths.hand * axis + 0.6 * lengths.hand * across,
            "HIP": hip,
            "KNEE": knee,
            "ANKLE": ankle,
            "HEEL": ankle - 0.25 * lengths.foot * toe_axis,
            "FOOT_INDEX": ankle + lengths.foot * toe_axis,
        }
        for name, value in points.items():
            p[Landmark[f"{names}_{name}"]] = value
    nose = neck + up * lengths.head
    p[0] = nose
    for index, (along, across_) in enumerate(
        [
            (0.01, -0.01),
            (0.012, -0.02),
            (0.01, -0.03),
            (0.01, 0.01),
            (0.012, 0.02),
            (0.01, 0.03),
            (-0.005, -0.04),
            (-0.005, 0.04),
            (-0.02, -0.01),
            (-0.02, 0.01),
        ],
        start=1,
    ):
        p[index] = nose + up * along + lateral * across_
    return p


def timeline(
    frames: list[np.ndarray],
    *,
    fps: float = 30.0,
    visibility: list[np.ndarray] | None = None,
    missing: tuple[int, ...] = (),
    size: tuple[int, int] = (WIDTH, HEIGHT),
) -> SkeletonTimeline:
    """A timeline of work-unit poses (``(33, 2)`` each), by default on a 720x1280 portrait frame."""
    count = len(frames)
    aspect = size[0] / size[1]
    landmarks = np.zeros((count, 33, 4), dtype=np.float32)
    for i, points in enumerate(frames):
        landmarks[i, :, 0] = points[:, 0] / aspect
        landmarks[i, :, 1] = points[:, 1]
        landmarks[i, :, 3] = 1.0 if visibility is None else visibility[i]
    quality = np.full(count, FrameQuality.DETECTED, dtype=np.uint8)
    for i in missing:
        landmarks[i] = np.nan
        quality[i] = FrameQuality.MISSING
    return SkeletonTimeline(
        timestamps_s=np.arange(count) / fps,
        landmarks=landmarks,
        quality=quality,
        frame_width=size[0],
        frame_height=size[1],
        source_fps=fps,
    )


def climber(
    stature: float = 0.4,
    frames: int = 30,
    pelvis: tuple[float, float] = (0.28, 0.74),
    size: tuple[int, int] = (WIDTH, HEIGHT),
) -> SkeletonTimeline:
    """A climber of known proportions shifting a little, with a gap and a bad-visibility frame."""
    lengths = Lengths.for_stature(stature)
    rng = np.random.default_rng(7)
    poses, visibility = [], []
    for _ in range(frames):
        jitter = rng.normal(0.0, 8.0, size=8)
        arms = ((-120 + jitter[0], -80 + jitter[1]), (-60 + jitter[2], -100 + jitter[3]))
        legs = ((115 + jitter[4], 80 + jitter[5]), (65 + jitter[6], 100 + jitter[7]))
        poses.append(pose(lengths, pelvis, arms=arms, legs=legs))
        visibility.append(np.ones(33))
    # A frame where the model lost the left arm: wild elbow, low visibility.
    poses[5][Landmark.LEFT_ELBOW] += 0.2
    visibility[5][Landmark.LEFT_ELBOW] = 0.1
    return timeline(poses, visibility=visibility, missing=(3, 4), size=size)


def wall(
    holds: list[tuple[str, float, float]],
    hold_type: str = "jug",
    size: tuple[int, int] = (WIDTH, HEIGHT),
) -> HoldMap:
    """A hold map from (id, x, y) with x in frame heights (work units), y normalised."""
    aspect = size[0] / size[1]
    return HoldMap(
        image_width=size[0],
        image_height=size[1],
        holds=[Hold(id=i, x=x / aspect, y=y, type=hold_type) for i, x, y in holds],
    )


def ladder(
    rows: int = 8,
    spacing: float = 0.09,
    bottom: float = 0.92,
    left: float = 0.2,
    right: float = 0.36,
    size: tuple[int, int] = (WIDTH, HEIGHT),
) -> HoldMap:
    """Two columns of jugs ``spacing`` apart, ids ``L0``/``R0`` at the bottom, and a finish
    jug ``top`` centred one row above the last."""
    holds = []
    for row in range(rows):
        y = bottom - row * spacing
        holds += [(f"L{row}", left, y), (f"R{row}", right, y)]
    holds.append(("top", (left + right) / 2, bottom - rows * spacing))
    return wall(holds, size=size)


def contact_point(points: np.ndarray, limb: Limb) -> np.ndarray:
    """Work-unit contact point of ``limb`` in a ``(33, 2)`` work-unit pose."""
    return points[[int(i) for i in limb.contact_landmarks]].mean(axis=0)


def feet_and_jugs(top_gap: float, *, with_mid: bool = True) -> HoldMap:
    """Foot chips every 0.06 up two columns, start jugs at y 0.56, a finish jug ``top_gap``
    above them and (optionally) a ``mid`` jug half way."""
    holds = []
    for i, y in enumerate(np.arange(0.92, 0.35, -0.06)):
        holds += [(f"fl{i}", 0.2, float(y), "foot_chip"), (f"fr{i}", 0.36, float(y), "foot_chip")]
    holds += [
        ("sl", 0.22, 0.56, "jug"),
        ("sr", 0.34, 0.56, "jug"),
        ("top", 0.28, 0.56 - top_gap, "jug"),
    ]
    if with_mid:
        holds.append(("mid", 0.28, 0.56 - top_gap / 2, "jug"))
    return HoldMap(
        image_width=WIDTH,
        image_height=HEIGHT,
        holds=[Hold(id=i, x=x / ASPECT, y=y, type=t) for i, x, y, t in holds],
    )


def chip_column(foot_type: str = "foot_chip", spacing: float = 0.06) -> HoldMap:
    """`ladder`'s jugs in red (a gym route) over one column of small foot holds ``c0``,
    ``c1``, ... centred between them, ``spacing`` apart from y 0.97 up. With ``route_color="red"``
    the hands climb the ladder; the cheapest feet stand on the centre column, where nothing but
    the rule on shared holds keeps both feet off one chip."""
    holds = [(hold.id, hold.x * ASPECT, hold.y, "jug", "red") for hold in ladder().holds]
    for i, y in enumerate(np.arange(0.97, 0.3, -spacing)):
        holds.append((f"c{i}", 0.28, float(y), foot_type, ""))
    return HoldMap(
        image_width=WIDTH,
        image_height=HEIGHT,
        holds=[Hold(id=i, x=x / ASPECT, y=y, type=t, color=c) for i, x, y, t, c in holds],
    )
