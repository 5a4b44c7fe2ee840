"""Constructed climbs for the advice rules: each builder makes one that triggers its rule or not.

``noise_cm`` (where offered) adds Gaussian landmark jitter, like a pose model's.

All on one small wall (cm, y up): hand holds ``a``, ``b`` at shoulder-and-a-bit height, ``c`` up
and right, ``far`` far right; foot holds ``f1``, ``f2``. The climber is 175 cm.

`wall_climb` is a longer, realistic climb up a ladder of holds (16 moves over ~22 s), tucked or
stretched, filmed square-on or by a phone from below (`Phone`), to check the advice on real
motion: the postures, the camera and the glitches a real video brings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from engines.advice import AdviceItem, generate_advice
from engines.biomech import Biomechanics, analyse
from engines.contacts import ContactTrack, Move, find_moves, track_contacts
from engines.pose import SkeletonTimeline
from engines.pose.timeline import FrameQuality, Landmark
from schema.analysis import Morphology
from schema.holds import Hold, HoldMap
from tests.utils.skeletons import Body, Pose, Scene, climb, solve, still, with_elbow_angle

SCENE = Scene()
MORPHOLOGY = Morphology(height_cm=175.0, arm_span_cm=178.0, weight_kg=68.0)
HOLDS = {
    "a": (100.0, 215.0),
    "b": (160.0, 215.0),
    "c": (175.0, 245.0),
    "d": (190.0, 205.0),
    "f1": (110.0, 60.0),
    "f2": (150.0, 60.0),
    "f3": (205.0, 75.0),
    "t": (225.0, 165.0),
    "l": (95.0, 170.0),
    "r": (155.0, 170.0),
    "r_near": (195.0, 170.0),
    "r_far": (240.0, 170.0),
}
HOLD_MAP = SCENE.hold_map(HOLDS)
BASE = Pose(
    hips=(130.0, 115.0),
    left_hand=HOLDS["a"],
    right_hand=HOLDS["b"],
    left_foot=HOLDS["f1"],
    right_foot=HOLDS["f2"],
)


@dataclass
class Analysed:
    timeline: SkeletonTimeline
    track: ContactTrack
    moves: list[Move]
    biomech: Biomechanics
    advice: list[AdviceItem]

    def of(self, rule_id: str) -> list[AdviceItem]:
        return [item for item in self.advice if item.rule_id == rule_id]


def analysed(
    timeline: SkeletonTimeline,
    hold_map: HoldMap = HOLD_MAP,
    morphology: Morphology = MORPHOLOGY,
    *,
    max_items: int | None = 5,
) -> Analysed:
    track = track_contacts(timeline, hold_map)
    moves = find_moves(track, timeline)
    biomech = analyse(timeline, track, moves, morphology)
    advice = generate_advice(
        timeline, track, moves, biomech, hold_map, morphology, max_items=max_items
    )
    return Analysed(timeline, track, moves, biomech, advice)


def resting(*, elbow_deg: float, seconds: float = 3.0) -> SkeletonTimeline:
    """Hanging still on ``a`` and ``b`` with both elbows at ``elbow_deg`` on screen."""
    return still(with_elbow_angle(BASE, elbow_deg), seconds)


def hand_move(
    *,
    hip_depth: float = 24.0,
    shoulder_depth: float | None = None,
    wander_cm: float = 0.0,
    noise_cm: float = 0.0,
) -> SkeletonTimeline:
    """Right hand from ``b`` to ``d`` over 0.9 s after a 2 s start with the hips near the wall.

    ``hip_depth`` / ``shoulder_depth`` apply from 1.5 s until the hips come back in (4.4 to
    4.8 s); ``wander_cm`` swings the hips left then right during the move.
    """
    start = BASE.moved(hips=(130.0, 130.0))
    away = start.moved(hip_depth=hip_depth, shoulder_depth=shoulder_depth)
    reached = away.moved(right_hand=HOLDS["d"], hips=(145.0, 135.0))
    keys = [(0.0, start), (1.5, start), (2.0, away), (3.0, away)]
    if wander_cm:
        # The hand leaves at once and hovers while the hips swing left, then right.
        hover = away.moved(right_hand=(172.0, 212.0))
        keys += [
            (3.1, hover),
            (3.4, hover.moved(hips=(130.0 - wander_cm, 130.0))),
            (3.7, hover.moved(hips=(145.0 + wander_cm, 134.0))),
        ]
    else:
        keys += [(3.4, away.moved(right_hand=(180.0, 218.0), hips=(140.0, 133.0)))]
    back = reached.moved(hip_depth=24.0, shoulder_depth=None)
    keys += [(3.9, reached), (4.4, reached), (4.8, back), (6.0, back)]
    return climb(keys, noise_cm=noise_cm)


def hesitating_move(*, hover_s: float) -> SkeletonTimeline:
    """Right hand ``b`` → ``d``, stopping ``hover_s`` half-way (clear of both holds)."""
    start = BASE.moved(hips=(130.0, 130.0))
    halfway = start.moved(right_hand=(180.0, 220.0), hips=(138.0, 132.0))
    reached = start.moved(right_hand=HOLDS["d"], hips=(145.0, 135.0))
    return climb(
        [
            (0.0, start),
            (1.0, start),
            (1.3, halfway),
            (1.3 + hover_s, halfway),
            (1.6 + hover_s, reached),
            (3.0 + hover_s, reached),
        ]
    )


def feet_off(*, both: bool, noise_cm: float = 0.0) -> SkeletonTimeline:
    """Feet leave their holds for 1 s: both at once, or one after the other."""
    dangling = {"left_foot": (95.0, 45.0), "right_foot": (165.0, 45.0)}
    keys: list[tuple[float, Pose]] = [(0.0, BASE), (1.0, BASE)]
    if both:
        cut = BASE.moved(**dangling)
        keys += [(1.2, cut), (2.2, cut), (2.4, BASE)]
    else:
        left = BASE.moved(left_foot=dangling["left_foot"])
        right = BASE.moved(right_foot=dangling["right_foot"])
        keys += [(1.2, left), (1.8, left), (2.0, BASE), (2.2, right), (2.8, right), (3.0, BASE)]
    keys.append((4.0, BASE))
    return climb(keys, noise_cm=noise_cm)


def regripping(*, times: int) -> SkeletonTimeline:
    """The right hand lets go of ``b`` (20 cm down) for 0.4 s and takes it again ``times`` times."""
    off = BASE.moved(right_hand=(160.0, 190.0))
    keys: list[tuple[float, Pose]] = [(0.0, BASE)]
    t = 1.0
    for _ in range(times):
        keys += [(t, BASE), (t + 0.1, off), (t + 0.5, off), (t + 0.6, BASE)]
        t += 1.2
    keys.append((t + 1.0, BASE))
    return climb(keys)


def one_sided(*, left_foot_on: bool, noise_cm: float = 0.0) -> SkeletonTimeline:
    """Right hand on ``b`` and right foot on ``f2``; the left hand free; left foot on ``f1`` or not.

    With the left foot off, the centre of gravity hangs left of the holds: a barn door.
    """
    pose = BASE.moved(
        hips=(118.0, 118.0),
        left_hand=(80.0, 140.0),
        left_foot=HOLDS["f1"] if left_foot_on else (80.0, 50.0),
    )
    return climb([(0.0, BASE), (1.0, BASE), (1.5, pose), (3.5, pose)], noise_cm=noise_cm)


def swinging_out(*, out_s: float, swing_s: float = 0.3) -> SkeletonTimeline:
    """From `BASE`, the left hand and foot let go and the body swings left, hanging on the right
    hand (``b``) and foot (``f2``) as in `one_sided` without the left foot, for ``out_s``; then
    both come back onto ``a`` and ``f1``. Each swing, out and back, takes ``swing_s``."""
    out = BASE.moved(hips=(118.0, 118.0), left_hand=(80.0, 140.0), left_foot=(80.0, 50.0))
    back = 1.0 + 2 * swing_s + out_s
    return climb(
        [
            (0.0, BASE),
            (1.0, BASE),
            (1.0 + swing_s, out),
            (1.0 + swing_s + out_s, out),
            (back, BASE),
            (back + 1.0, BASE),
        ]
    )


#: Where the rigid stand-in's feet stand, its hips at ``(130, 115)``: to their right.
STAND_IN_FEET = ((158.0, 38.0), (176.0, 44.0))


def rigid_stand_in() -> WallClimb:
    """A rigid cut-out rising up the wall, like `ascension.media.write_wall_climb_clip`'s: it
    stands 2 s, rises 160 cm in 6 s, stays 2 s and drops back 80 cm; its limbs never move.

    Its hands hang by its hips, on no hold; its feet, to the right of its hips, slide (slowly
    enough to touch them) over a column of footholds, so its centre of gravity is ~22 cm left
    of the only holds it touches. The hand holds ``a`` and ``b`` are out of its reach.
    """
    (left_x, left_y), (right_x, right_y) = STAND_IN_FEET

    def at(rise: float) -> Pose:
        return Pose(
            hips=(130.0, 115.0 + rise),
            left_hand=(110.0, 112.0 + rise),
            right_hand=(142.0, 112.0 + rise),
            left_foot=(left_x, left_y + rise),
            right_foot=(right_x, right_y + rise),
        )

    holds = {"a": (100.0, 330.0), "b": (170.0, 330.0)}
    for k in range(1, 5):
        holds |= {f"fl{k}": (left_x, left_y + 40.0 * k), f"fr{k}": (right_x, right_y + 40.0 * k)}
    keys = [(0.0, at(0.0)), (2.0, at(0.0)), (8.0, at(160.0)), (10.0, at(160.0))]
    keys += [(11.0, at(80.0)), (12.0, at(80.0))]
    return WallClimb(climb(keys), SCENE.hold_map(holds))


def span_move(*, to: float) -> SkeletonTimeline:
    """Hands at shoulder height on ``l`` and ``r``; the right hand moves to ``(to, 170)``."""
    wide = BASE.moved(left_hand=HOLDS["l"], right_hand=HOLDS["r"], hips=(125.0, 120.0))
    target = wide.moved(right_hand=(to, 170.0), hips=((95.0 + to) / 2, 120.0))
    return climb([(0.0, wide), (1.0, wide), (1.6, target), (3.0, target)])


def flag_traverse(*, match_first: bool, flag: bool) -> SkeletonTimeline:
    """Traverse right on ``l``/``r`` to ``t``, right foot on ``f3``, the left foot flagging or not.

    With ``match_first`` the left hand joins the right on ``r`` before the right hand goes.
    """
    start = BASE.moved(
        left_hand=HOLDS["l"], right_hand=HOLDS["r"], right_foot=HOLDS["f3"], hips=(150.0, 115.0)
    )
    ready = start.moved(left_foot=(80.0, 85.0) if flag else HOLDS["f1"], hips=(160.0, 118.0))
    if match_first:
        ready = ready.moved(left_hand=(150.0, 170.0))
    reached = ready.moved(right_hand=HOLDS["t"], hips=(168.0, 118.0))
    return climb(
        [(0.0, start), (1.0, start), (1.8, ready), (3.0, ready), (3.6, reached), (5.0, reached)]
    )


def feet_on_unmapped_holds(*, noise_cm: float = 0.0) -> SkeletonTimeline:
    """The feet step, one after the other, from ``f1``/``f2`` up onto footholds missing from the
    hold map and stand still there while the right hand goes ``b`` → ``d``; then the left foot
    steps back down onto ``f1``.
    """
    start = BASE.moved(hips=(130.0, 125.0))
    left_up = start.moved(left_foot=(105.0, 85.0))
    both_up = left_up.moved(right_foot=(155.0, 85.0))
    reached = both_up.moved(right_hand=HOLDS["d"], hips=(140.0, 128.0))
    down = reached.moved(left_foot=HOLDS["f1"])
    keys = [
        (0.0, start),
        (1.0, start),
        (1.3, left_up),
        (1.8, left_up),
        (2.1, both_up),
        (3.0, both_up),
        (3.6, reached),
        (4.6, reached),
        (4.9, down),
        (6.0, down),
    ]
    return climb(keys, noise_cm=noise_cm)


# --- A realistic climb: a ladder of holds, tucked or stretched, square-on or filmed from below ---

#: Height gained per cycle of four moves (right hand, left hand, right foot, left foot).
STEP_CM = 25.0
#: Hips over feet: tucked (feet high, knees bent out to the sides) or stretched (legs long).
DROPS = {"tucked": 35.0, "stretched": 60.0, "flat": 68.0}
#: Depth of the hip joints near the wall: about the ankles' (the legs along the wall).
NEAR_WALL_CM = 26.0


class Phone:
    """A pinhole camera filming the wall from below, as a phone on the ground by a board does.

    Everything the climber does higher up is seen smaller and more obliquely: on-screen legs
    shrink as the climber climbs, whatever the posture.
    """

    def __init__(
        self,
        *,
        at: tuple[float, float, float] = (135.0, 100.0, 200.0),
        look_at: tuple[float, float, float] = (135.0, 200.0, 0.0),
        vertical_fov_deg: float = 80.0,
        frame_width: int = 1080,
        frame_height: int = 1920,
    ) -> None:
        self.centre = np.array(at)
        forward = np.array(look_at) - self.centre
        self.forward = forward / np.linalg.norm(forward)
        right = np.cross(self.forward, [0.0, 1.0, 0.0])
        self.right = right / np.linalg.norm(right)
        self.up = np.cross(self.right, self.forward)
        self.frame_width, self.frame_height = frame_width, frame_height
        self.focal = frame_height / 2 / math.tan(math.radians(vertical_fov_deg) / 2)

    def normalise(self, points: np.ndarray) -> np.ndarray:
        """Wall cm ``(..., 3)`` (x, y up, depth) or ``(..., 2)`` on the wall → normalised x, y."""
        if points.shape[-1] == 2:
            points = np.concatenate([points, np.zeros((*points.shape[:-1], 1))], axis=-1)
        offset = points - self.centre
        ahead = offset @ self.forward
        x = self.frame_width / 2 + self.focal * (offset @ self.right) / ahead
        y = self.frame_height / 2 - self.focal * (offset @ self.up) / ahead
        return np.stack([x / self.frame_width, y / self.frame_height], axis=-1)

    def hold_map(self, holds: dict[str, tuple[float, float]]) -> HoldMap:
        """Holds as this camera sees them: octagons of 5 cm radius."""
        ring = 5.0 * np.stack(
            [np.cos(np.arange(8) * np.pi / 4), np.sin(np.arange(8) * np.pi / 4)], 1
        )
        found = []
        for hold_id, at in holds.items():
            centre = self.normalise(np.array(at))
            outline = self.normalise(ring + np.array(at))
            found.append(
                Hold(
                    id=hold_id,
                    x=float(centre[0]),
                    y=float(centre[1]),
                    type="jug",
                    polygon=[(float(x), float(y)) for x, y in outline],
                )
            )
        return HoldMap(image_width=self.frame_width, image_height=self.frame_height, holds=found)


@dataclass
class WallClimb:
    timeline: SkeletonTimeline
    hold_map: HoldMap

    def analysed(self, **options: int | None) -> Analysed:
        return analysed(self.timeline, self.hold_map, **options)  # type: ignore[arg-type]


def wall_climb(
    posture: Literal["tucked", "stretched", "flat"],
    *,
    hips_out: Literal["never", "on_reach", "always"] = "never",
    cycles: int = 4,
    camera: Phone | None = None,
    noise_cm: float = 1.0,
) -> WallClimb:
    """Up a ladder of holds: ``cycles`` x (right hand, left hand, right foot, left foot).

    The climber starts still for 2 s with the hips near the wall; each move takes 0.5 s and is
    followed by a 0.7 s pause. ``hips_out``: the hips stay near the wall, or stand 34 cm further out
    than the ankles (shoulders 9 cm) during the hand moves and come back in for the foot moves,
    or stay out from 2 s on. Hand holds ``L<k>``/``R<k>``, foot holds ``FL<k>``/``FR<k>``.
    """
    drop = DROPS[posture]
    holds: dict[str, tuple[float, float]] = {}
    for k in range(cycles + 1):
        holds |= {
            f"L{k}": (110.0, 180.0 + STEP_CM * k),
            f"R{k}": (160.0, 180.0 + STEP_CM * k),
            f"FL{k}": (115.0, 110.0 - drop + STEP_CM * k),
            f"FR{k}": (155.0, 110.0 - drop + STEP_CM * k),
        }
    near = {"hip_depth": NEAR_WALL_CM, "shoulder_depth": None}
    out = {"hip_depth": 60.0, "shoulder_depth": 35.0}
    pose = Pose(
        hips=(135.0, 110.0),
        left_hand=holds["L0"],
        right_hand=holds["R0"],
        left_foot=holds["FL0"],
        right_foot=holds["FR0"],
        hip_depth=NEAR_WALL_CM,
    )
    keys = [(0.0, pose), (2.0, pose)]
    t = 2.0
    if hips_out == "always":
        pose = pose.moved(**out)
        t += 0.5
        keys.append((t, pose))
    for k in range(cycles):
        steps: list[dict[str, object]] = [
            {"right_hand": holds[f"R{k + 1}"]},
            {"left_hand": holds[f"L{k + 1}"]},
            {"right_foot": holds[f"FR{k + 1}"], "hips": (135.0, 110.0 + STEP_CM * (k + 0.5))},
            {"left_foot": holds[f"FL{k + 1}"], "hips": (135.0, 110.0 + STEP_CM * (k + 1))},
        ]
        for number, change in enumerate(steps):
            if hips_out == "on_reach":
                change |= out if number < 2 else near
            pose = pose.moved(**change)
            keys += [(t + 0.5, pose), (t + 1.2, pose)]
            t += 1.2
    timeline = _film(keys, camera, noise_cm=noise_cm)
    hold_map = (camera or SCENE).hold_map(holds)
    return WallClimb(timeline, hold_map)


def _film(
    keyframes: Sequence[tuple[float, Pose]], camera: Phone | None, *, noise_cm: float
) -> SkeletonTimeline:
    """Like `tests.utils.skeletons.climb`, through ``camera`` (None: the square-on `SCENE`)."""
    if camera is None:
        return climb(keyframes, noise_cm=noise_cm)
    fps = 30.0
    times = np.array([t for t, _ in keyframes])
    timestamps = times[0] + np.arange(math.floor((times[-1] - times[0]) * fps + 1e-9) + 1) / fps
    poses = [pose for _, pose in keyframes]
    fields: dict[str, np.ndarray] = {}
    for name in ("hips", "left_hand", "right_hand", "left_foot", "right_foot"):
        values = np.array([getattr(pose, name) for pose in poses])
        fields[name] = np.stack([np.interp(timestamps, times, c) for c in values.T], axis=1)
    depth = {
        "hip_depth": [p.hip_depth for p in poses],
        "shoulder_depth": [
            p.hip_depth if p.shoulder_depth is None else p.shoulder_depth for p in poses
        ],
        "lean_deg": [p.lean_deg for p in poses],
    }
    fields |= {name: np.interp(timestamps, times, values) for name, values in depth.items()}
    points, missed = solve(fields, Body())
    if missed.max() > 1.0:
        raise ValueError(f"a limb misses its point by {missed.max():.1f} cm")
    if noise_cm:
        points[..., :2] += np.random.default_rng(0).normal(0.0, noise_cm, points[..., :2].shape)
    landmarks = np.zeros((*points.shape[:2], 4))
    landmarks[..., :2] = camera.normalise(points)
    landmarks[..., 3] = 0.95
    return SkeletonTimeline(
        timestamps_s=timestamps,
        landmarks=landmarks,
        quality=np.full(len(timestamps), FrameQuality.DETECTED, dtype=np.uint8),
        frame_width=camera.frame_width,
        frame_height=camera.frame_height,
        source_fps=fps,
    )


def with_visibility(
    timeline: SkeletonTimeline, frames: slice, landmarks: Sequence[int], visibility: float
) -> SkeletonTimeline:
    """``timeline`` with ``landmarks`` seen at ``visibility`` on ``frames``: the pose model
    guessing where a hidden or blurred body part is."""
    marks = timeline.landmarks.copy()
    marks[frames, list(landmarks), 3] = visibility
    return replace(timeline, landmarks=marks)


def with_long_shanks(
    timeline: SkeletonTimeline, frames: slice, *, drop_cm: float = 25.0
) -> SkeletonTimeline:
    """``timeline`` with both ankles detected ``drop_cm`` too low on ``frames`` (square-on scene):
    the burst of bad frames that makes the shanks look longer than they are."""
    landmarks = timeline.landmarks.copy()
    ankles = [Landmark.LEFT_ANKLE, Landmark.RIGHT_ANKLE]
    landmarks[frames, ankles, 1] += drop_cm * SCENE.px_per_cm / SCENE.frame_height
    return SkeletonTimeline(
        timeline.timestamps_s,
        landmarks,
        timeline.quality,
        timeline.frame_width,
        timeline.frame_height,
        timeline.source_fps,
    )
