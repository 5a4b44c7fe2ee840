"""Constructed skeletons for engine tests: a 3-D stick climber filmed like a phone video.

Tests describe a climb in wall centimetres — x to the right, y up, depth away from the wall
towards the camera — as key poses: where the hips are, where each hand and foot is, how far the
hips stand off the wall. `climb` interpolates between key poses, solves each limb with two-link
inverse kinematics (elbows and knees bend outwards), fills all 33 MediaPipe landmarks and projects
them into a `SkeletonTimeline` as a camera facing the wall sees them. `Scene.hold` builds holds in
the same coordinates, so "the right hand is on hold h2" is just "right_hand=h2's centre".

Segment lengths are Drillis & Contini fractions of stature (Winter, *Biomechanics and Motor
Control of Human Movement*, fig. 4.1), the same the biomechanics engine assumes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from engines.pose.timeline import LANDMARK_COUNT, FrameQuality, Landmark, SkeletonTimeline
from schema.holds import Hold, HoldMap

_L = Landmark
Point = tuple[float, float]


#: Segment lengths as fractions of stature.
FRACTIONS = {
    "upper_arm": 0.186,
    "forearm": 0.146,
    "palm": 0.108 * 0.45,  # wrist to knuckles
    "thigh": 0.530 - 0.285,
    "shank": 0.285 - 0.039,
    "foot": 0.152,
    "trunk": 0.818 - 0.530,
    "shoulder_width": 0.22,
    "hip_width": 0.11,
    "head": 0.13,  # shoulder line to the ears
}


@dataclass(frozen=True)
class Body:
    """The climber's proportions."""

    height_cm: float = 175.0

    def length(self, segment: str) -> float:
        """Length in cm of a `FRACTIONS` segment."""
        return FRACTIONS[segment] * self.height_cm


@dataclass(frozen=True)
class Scene:
    """The video frame: which part of the wall it shows, in how many pixels."""

    frame_width: int = 1080
    frame_height: int = 1920
    #: Pixels per wall centimetre; the default frame shows 270 x 480 cm of wall.
    px_per_cm: float = 4.0

    def normalise(self, points_cm: np.ndarray) -> np.ndarray:
        """Wall cm ``(..., 2)`` (y up, origin at the frame's bottom-left) → normalised x, y."""
        x = points_cm[..., 0] * self.px_per_cm / self.frame_width
        y = 1.0 - points_cm[..., 1] * self.px_per_cm / self.frame_height
        return np.stack([x, y], axis=-1)

    def hold(
        self,
        hold_id: str,
        at: Point,
        *,
        radius_cm: float = 5.0,
        kind: str = "jug",
        outline: bool = True,
    ) -> Hold:
        """A hold centred on ``at`` (wall cm): an octagon of ``radius_cm``, or no outline."""
        centre = self.normalise(np.array(at, dtype=np.float64))
        polygon: list[tuple[float, float]] = []
        if outline:
            angles = np.linspace(0, 2 * np.pi, 8, endpoint=False)
            ring = np.stack([np.cos(angles), np.sin(angles)], axis=1) * radius_cm + at
            polygon = [(float(x), float(y)) for x, y in self.normalise(ring)]
        return Hold(id=hold_id, x=float(centre[0]), y=float(centre[1]), type=kind, polygon=polygon)

    def hold_map(self, holds: dict[str, Point], **options: object) -> HoldMap:
        """A hold map with one hold per ``{id: centre}`` entry (options as in `hold`)."""
        return HoldMap(
            image_width=self.frame_width,
            image_height=self.frame_height,
            holds=[self.hold(hold_id, at, **options) for hold_id, at in holds.items()],  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class Pose:
    """One key pose, wall cm. Hands and feet are their contact points (palm centre, mid-foot)."""

    hips: Point
    left_hand: Point
    right_hand: Point
    left_foot: Point
    right_foot: Point
    #: Depth of the hip joints off the wall; ~ the ankles' depth keeps the legs parallel to it.
    hip_depth: float = 24.0
    #: Depth of the shoulder joints; None = same as the hips (trunk parallel to the wall).
    shoulder_depth: float | None = None
    #: Trunk tilt in the wall plane, degrees, positive with the shoulders to the climber's right.
    lean_deg: float = 0.0

    def moved(self, **changes: object) -> Pose:
        return replace(self, **changes)  # type: ignore[arg-type]


_POINTS = ("hips", "left_hand", "right_hand", "left_foot", "right_foot")
# Unit directions (x, y, depth): elbows out and down, knees out; feet point into the wall.
_ELBOW_POLE = {"left": (-1.0, -1.0, 0.0), "right": (1.0, -1.0, 0.0)}
_KNEE_POLE = {"left": (-1.0, 0.2, -0.3), "right": (1.0, 0.2, -0.3)}
_FOOT_DIRECTION = {"left": (-0.2, -0.3, -0.93), "right": (0.2, -0.3, -0.93)}
# Face landmarks 1..10 around the ears' midpoint, as (lateral, up) fractions of stature.
_FACE = {
    _L.NOSE: (0.0, 0.0),
    1: (-0.02, 0.02), 2: (-0.03, 0.02), 3: (-0.04, 0.02),
    4: (0.02, 0.02), 5: (0.03, 0.02), 6: (0.04, 0.02),
    _L.LEFT_EAR: (-0.045, 0.0), _L.RIGHT_EAR: (0.045, 0.0),
    9: (-0.015, -0.03), 10: (0.015, -0.03),
}  # fmt: skip


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _two_link(
    root: np.ndarray, target: np.ndarray, first: float, second: float, pole: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Middle joint and reached end of a two-segment chain, and by how much the target is missed."""
    offset = target - root
    distance = np.linalg.norm(offset, axis=-1, keepdims=True)
    along = offset / distance
    reach = np.clip(distance, abs(first - second) + 1e-6, first + second - 1e-6)
    base = (first**2 - second**2 + reach**2) / (2 * reach)
    rise = np.sqrt(np.clip(first**2 - base**2, 0.0, None))
    normal = _unit(pole - (pole * along).sum(axis=-1, keepdims=True) * along)
    joint = root + base * along + rise * normal
    return joint, root + reach * along, np.abs(distance - reach)[..., 0]


def solve(poses: dict[str, np.ndarray], body: Body) -> tuple[np.ndarray, np.ndarray]:
    """3-D landmark positions for per-frame pose fields.

    Args:
        poses: the fields of `Pose` as arrays over frames (``(T, 2)`` points, ``(T,)`` scalars;
            ``shoulder_depth`` already resolved to numbers).
        body: the climber.

    Returns:
        ``(points, missed)``: points ``(T, 33, 3)`` in wall cm (x, y up, depth); missed ``(T, 4)``
        how far each limb (`Limb` order) falls short of its point, cm.
    """
    frames = poses["hips"].shape[0]
    length = body.length
    hip_depth, shoulder_depth = poses["hip_depth"], poses["shoulder_depth"]
    lean = np.radians(poses["lean_deg"])
    up = np.stack([np.sin(lean), np.cos(lean), np.zeros(frames)], axis=1)
    side = np.stack([np.cos(lean), -np.sin(lean), np.zeros(frames)], axis=1)
    hip_centre = np.column_stack([poses["hips"], hip_depth])
    rise = np.sqrt(np.clip(length("trunk") ** 2 - (shoulder_depth - hip_depth) ** 2, 0.0, None))
    shoulder_centre = hip_centre + rise[:, None] * up
    shoulder_centre[:, 2] = shoulder_depth

    out = np.zeros((frames, LANDMARK_COUNT, 3))
    head = shoulder_centre + length("head") * up
    for index, (lateral, lift) in _FACE.items():
        out[:, index] = head + body.height_cm * (lateral * side + lift * up)

    missed = np.zeros((frames, 4))
    for column, (name, sign) in enumerate((("left", -1.0), ("right", 1.0))):
        mark = name.upper()
        shoulder = shoulder_centre + sign * length("shoulder_width") / 2 * side
        hip = hip_centre + sign * length("hip_width") / 2 * side
        out[:, _L[f"{mark}_SHOULDER"]] = shoulder
        out[:, _L[f"{mark}_HIP"]] = hip

        # Hand: the contact point (mean of wrist and two knuckles) lies on the wall.
        palm = np.column_stack([poses[f"{name}_hand"], np.zeros(frames)])
        pointing = _unit(palm - shoulder)
        wrist_goal = palm - 2.0 / 3.0 * length("palm") * pointing
        elbow, wrist, missed[:, column] = _two_link(
            shoulder,
            wrist_goal,
            length("upper_arm"),
            length("forearm"),
            np.array(_ELBOW_POLE[name]),
        )
        across = _unit(np.cross(pointing, np.array([0.0, 0.0, 1.0])))
        knuckles = wrist + length("palm") * pointing
        out[:, _L[f"{mark}_ELBOW"]] = elbow
        out[:, _L[f"{mark}_WRIST"]] = wrist
        out[:, _L[f"{mark}_INDEX"]] = knuckles + 0.02 * body.height_cm * across
        out[:, _L[f"{mark}_PINKY"]] = knuckles - 0.02 * body.height_cm * across
        out[:, _L[f"{mark}_THUMB"]] = wrist + 0.5 * length("palm") * pointing + 2.0 * across

        # Foot: toe tip on the wall, contact point (mean of ankle and toe) halfway along the foot.
        toward = _unit(np.array(_FOOT_DIRECTION[name]))
        foot = length("foot")
        mid = np.column_stack([poses[f"{name}_foot"], np.full(frames, -toward[2] * foot / 2)])
        knee, ankle, missed[:, 2 + column] = _two_link(
            hip,
            mid - foot / 2 * toward,
            length("thigh"),
            length("shank"),
            np.array(_KNEE_POLE[name]),
        )
        out[:, _L[f"{mark}_KNEE"]] = knee
        out[:, _L[f"{mark}_ANKLE"]] = ankle
        out[:, _L[f"{mark}_FOOT_INDEX"]] = ankle + foot * toward
        out[:, _L[f"{mark}_HEEL"]] = ankle - 0.2 * foot * toward - [0.0, 4.0, 0.0]
    return out, missed


def project(points: np.ndarray, hip_depth: np.ndarray, scene: Scene) -> np.ndarray:
    """MediaPipe-style ``(T, 33, 4)`` landmarks of wall-cm points ``(T, 33, 3)``."""
    landmarks = np.empty((*points.shape[:2], 4))
    landmarks[..., :2] = scene.normalise(points[..., :2])
    # z: depth relative to the hips' midpoint, scaled like x, smaller = nearer the camera.
    landmarks[..., 2] = -(points[..., 2] - hip_depth[:, None]) * scene.px_per_cm / scene.frame_width
    landmarks[..., 3] = 0.95
    return landmarks


def _fields(poses: Sequence[Pose]) -> dict[str, np.ndarray]:
    values: dict[str, np.ndarray] = {
        name: np.array([getattr(p, name) for p in poses], dtype=np.float64) for name in _POINTS
    }
    values["hip_depth"] = np.array([p.hip_depth for p in poses], dtype=np.float64)
    values["shoulder_depth"] = np.array(
        [p.hip_depth if p.shoulder_depth is None else p.shoulder_depth for p in poses]
    )
    values["lean_deg"] = np.array([p.lean_deg for p in poses], dtype=np.float64)
    return values


def climb(
    keyframes: Sequence[tuple[float, Pose]],
    *,
    fps: float = 30.0,
    body: Body | None = None,
    scene: Scene | None = None,
    missing: Sequence[int] = (),
    noise_cm: float = 0.0,
    seed: int = 0,
) -> SkeletonTimeline:
    """A skeleton timeline moving linearly between key poses.

    Args:
        keyframes: ``(time_s, pose)`` in increasing time; the first starts the video.
        fps: frame rate.
        body: climber proportions (default 175 cm).
        scene: the frame (default portrait 1080 x 1920 at 4 px/cm).
        missing: frame indices without a pose (NaN landmarks, quality MISSING).
        noise_cm: standard deviation of Gaussian jitter added to every landmark.
        seed: seed of the jitter.

    Returns:
        The timeline, one frame every ``1 / fps`` from the first key time to the last.

    Raises:
        ValueError: some frame asks a hand or foot to reach a point more than 1 cm out of reach.
    """
    body, scene = body or Body(), scene or Scene()
    times = np.array([t for t, _ in keyframes], dtype=np.float64)
    count = math.floor(float(times[-1] - times[0]) * fps + 1e-9) + 1
    timestamps = times[0] + np.arange(count) / fps
    keys = _fields([pose for _, pose in keyframes])
    frames = {
        name: np.stack([np.interp(timestamps, times, column) for column in values.T], axis=1)
        if values.ndim == 2
        else np.interp(timestamps, times, values)
        for name, values in keys.items()
    }
    points, missed = solve(frames, body)
    if missed.max() > 1.0:
        frame, limb = np.unravel_index(int(np.argmax(missed)), missed.shape)
        raise ValueError(
            f"limb {limb} misses its point by {missed.max():.1f} cm at t={timestamps[frame]:.2f} s"
        )
    if noise_cm:
        points[..., :2] += np.random.default_rng(seed).normal(0.0, noise_cm, points[..., :2].shape)
    landmarks = project(points, frames["hip_depth"], scene)
    quality = np.full(count, FrameQuality.DETECTED, dtype=np.uint8)
    quality[list(missing)] = FrameQuality.MISSING
    landmarks[list(missing)] = np.nan
    return SkeletonTimeline(
        timestamps_s=timestamps,
        landmarks=landmarks,
        quality=quality,
        frame_width=scene.frame_width,
        frame_height=scene.frame_height,
        source_fps=fps,
    )


def still(pose: Pose, seconds: float, **options: object) -> SkeletonTimeline:
    """A timeline holding one pose for ``seconds`` (options as in `climb`)."""
    return climb([(0.0, pose), (seconds, pose)], **options)  # type: ignore[arg-type]


def elbow_angle(pose: Pose, *, body: Body | None = None, side: str = "left") -> float:
    """On-screen angle of one elbow in ``pose``, degrees."""
    points, _ = solve(_fields([pose]), body or Body())
    mark = side.upper()
    shoulder, elbow, wrist = (
        points[0, _L[f"{mark}_{joint}"], :2] for joint in ("SHOULDER", "ELBOW", "WRIST")
    )
    first, second = shoulder - elbow, wrist - elbow
    cosine = first @ second / (np.linalg.norm(first) * np.linalg.norm(second))
    return float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))))


def with_elbow_angle(pose: Pose, degrees: float, *, body: Body | None = None) -> Pose:
    """``pose`` with the hips raised or lowered until the left elbow shows ``degrees`` on screen.

    Searches hip heights within ±60 cm of ``pose.hips``; the feet must stay reachable.

    Raises:
        ValueError: no such hip height.
    """
    body = body or Body()
    offsets = np.linspace(-60.0, 60.0, 1201)
    candidates = [pose.moved(hips=(pose.hips[0], pose.hips[1] + float(dy))) for dy in offsets]
    points, missed = solve(_fields(candidates), body)
    shoulder, elbow, wrist = (
        points[:, _L[f"LEFT_{joint}"], :2] for joint in ("SHOULDER", "ELBOW", "WRIST")
    )
    first, second = shoulder - elbow, wrist - elbow
    cosine = (first * second).sum(axis=1) / (
        np.linalg.norm(first, axis=1) * np.linalg.norm(second, axis=1)
    )
    error = np.abs(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))) - degrees)
    error[missed.max(axis=1) > 0.5] = np.inf
    best = int(np.argmin(error))
    if error[best] > 1.0:
        raise ValueError(f"no reachable hip height gives a {degrees}° left elbow")
    return candidates[best]
