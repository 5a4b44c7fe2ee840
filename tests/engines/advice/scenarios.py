"""Constructed climbs for the advice rules: each builder makes one that triggers its rule or not.

``noise_cm`` (where offered) adds Gaussian landmark jitter, like a pose model's.

All on one small wall (cm, y up): hand holds ``a``, ``b`` at shoulder-and-a-bit height, ``c`` up
and right, ``far`` far right; foot holds ``f1``, ``f2``. The climber is 175 cm.
"""

from __future__ import annotations

from dataclasses import dataclass

from engines.advice import AdviceItem, generate_advice
from engines.biomech import Biomechanics, analyse
from engines.contacts import ContactTrack, Move, find_moves, track_contacts
from engines.pose import SkeletonTimeline
from schema.analysis import Morphology
from schema.holds import HoldMap
from tests.utils.skeletons import Pose, Scene, climb, still, with_elbow_angle

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
) -> Analysed:
    track = track_contacts(timeline, hold_map)
    moves = find_moves(track, timeline)
    biomech = analyse(timeline, track, moves, morphology)
    advice = generate_advice(timeline, track, moves, biomech, hold_map, morphology)
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

    ``hip_depth`` / ``shoulder_depth`` apply from 1.5 s on; ``wander_cm`` swings the hips left
    then right during the move.
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
    keys += [(3.9, reached), (6.0, reached)]
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
