"""Holds lying on the floor are not the route: not contacts, moves, start holds or the ghost's.

The scene is the one of `scenarios` filmed from a little higher: the mat is 60 cm above the
frame's bottom edge, so things lying on it in front of the climber show below their feet. The
climber stands on the mat, steps onto a big volume lying there (a spare one: the hold detector
mapped it), puts the left foot on a real foothold just above the mat and leaves the ground.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from engines.climb import climb_reading, find_climb, on_wall_view, wall_holds
from engines.climb.floor import FLOOR_MARGIN_STATURES, floor_holds, ground_line
from engines.contacts import find_moves, track_contacts
from engines.ghost import compute_ghost
from engines.pose.timeline import SkeletonTimeline
from schema.analysis import ClimbReading, Morphology
from schema.holds import HoldMap
from tests.utils.skeletons import Pose, Scene, climb

SCENE = Scene()
#: Height of the mat above the frame's bottom edge, wall cm.
MAT = 60.0
PROFILE = Morphology(height_cm=175.0, arm_span_cm=178.0)


def _up(at: tuple[float, float]) -> tuple[float, float]:
    return (at[0], at[1] + MAT)


def _on_mat(pose: Pose) -> Pose:
    """``pose`` with heights measured from the mat instead of the frame's bottom edge."""
    names = ("hips", "left_hand", "right_hand", "left_foot", "right_foot")
    return pose.moved(**{name: _up(getattr(pose, name)) for name in names})


#: Wall holds, cm above the mat. ``low1`` and ``low2`` are real footholds just above it.
WALL = {
    "s1": (105.0, 110.0),
    "s2": (155.0, 110.0),
    "low1": (95.0, 22.0),
    "low2": (195.0, 30.0),
    "f1": (110.0, 45.0),
    "f4": (160.0, 60.0),
    "a": (100.0, 160.0),
    "b": (160.0, 165.0),
}
#: Lying on the mat in front of the climber: below their feet on screen.
FLOOR = {"vol_step": (185.0, -6.0), "vol_side": (40.0, -20.0)}
#: A foot chip at the very bottom of the wall, 3 cm above the mat: on the wall, kept.
CHIP = (70.0, 3.0)
HOLD_MAP = HoldMap(
    image_width=SCENE.frame_width,
    image_height=SCENE.frame_height,
    holds=[
        *SCENE.hold_map({name: _up(at) for name, at in WALL.items()}).holds,
        SCENE.hold("chip", _up(CHIP), radius_cm=3.0, kind="foot_chip"),
        SCENE.hold("vol_step", _up(FLOOR["vol_step"]), radius_cm=24.0, kind="volume"),
        SCENE.hold("vol_side", _up(FLOOR["vol_side"]), radius_cm=15.0, kind="volume"),
    ],
)

STAND = Pose(
    hips=(130.0, 90.0),
    left_hand=(105.0, 95.0),
    right_hand=(155.0, 95.0),
    left_foot=(115.0, 4.0),
    right_foot=(145.0, 4.0),
)
REACH = STAND.moved(left_hand=WALL["s1"], right_hand=WALL["s2"], hips=(130.0, 85.0))
#: The right foot on top of the volume lying on the mat (18 cm up), the left still on the mat.
STEP = REACH.moved(right_foot=(183.0, 18.0), hips=(140.0, 92.0))
UP = STEP.moved(left_foot=WALL["low1"], hips=(135.0, 95.0))
MOVE_1 = UP.moved(right_foot=WALL["f4"], hips=(133.0, 95.0))
MOVE_2 = MOVE_1.moved(left_foot=WALL["f1"], hips=(133.0, 88.0))
MOVE_3 = MOVE_2.moved(right_hand=WALL["b"], hips=(135.0, 95.0))
MOVE_4 = MOVE_3.moved(left_hand=WALL["a"], hips=(135.0, 100.0))
VIDEO = [
    (0.0, STAND),
    (2.0, STAND),
    (3.0, REACH),
    (4.0, REACH),
    (5.0, STEP),
    (6.0, STEP),
    (7.0, UP),
    (8.0, UP),
    (9.0, MOVE_1),
    (10.0, MOVE_1),
    (11.0, MOVE_2),
    (12.0, MOVE_2),
    (13.0, MOVE_3),
    (14.0, MOVE_3),
    (15.0, MOVE_4),
    (16.0, MOVE_4),
    (17.0, REACH),
    (18.0, STAND),
    (20.0, STAND),
]


def _video(keys: list[tuple[float, Pose]]) -> SkeletonTimeline:
    return climb([(t, _on_mat(pose)) for t, pose in keys], scene=SCENE)


def _reading(timeline: SkeletonTimeline, hold_map: HoldMap) -> ClimbReading:
    """The advice step's reading, contacts made on ``hold_map`` (as `activities.vision`)."""
    segment = find_climb(timeline, HOLD_MAP)
    climbing = on_wall_view(timeline, segment)
    track = track_contacts(climbing, hold_map)
    return climb_reading(segment, track, hold_map, find_moves(track, climbing))


@pytest.fixture(scope="module")
def timeline() -> SkeletonTimeline:
    return _video(VIDEO)


def test_the_ground_line_is_where_the_climber_stood_and_the_floor_volumes_lie_below_it(
    timeline: SkeletonTimeline,
) -> None:
    segment = find_climb(timeline, HOLD_MAP)

    assert segment.start == "left_ground" and 6.0 < segment.start_s < 7.5
    mat_y = 1.0 - MAT * SCENE.px_per_cm / SCENE.frame_height
    assert segment.ground_y == pytest.approx(mat_y, abs=0.003)
    assert set(segment.floor_holds) == {"vol_step", "vol_side"}
    # The real footholds just above the mat, and the chip 3 cm above it, stay on the wall.
    kept = {hold.id for hold in wall_holds(HOLD_MAP, segment.floor_holds).holds}
    assert {"low1", "low2", "chip"} <= kept
    # The climber's map keeps every hold: the floor holds are only left out of the analysis.
    assert len(HOLD_MAP.holds) == len(WALL) + 3


def test_without_the_exclusion_the_floor_volume_is_a_start_hold(timeline: SkeletonTimeline) -> None:
    # What went wrong before: with contacts on the whole map and no floor holds named, the
    # volume under the right foot read as its start hold, and the ghost started standing on it.
    reading = replace(_reading(timeline, HOLD_MAP), floor_holds=[])
    assert reading.start_holds["right_foot"] == "vol_step"
    assert "vol_step" in reading.route_holds
    ghost = compute_ghost(timeline, HOLD_MAP, PROFILE, device="cpu", iterations=30, climb=reading)
    assert "vol_step" in ghost.plan.holds_used


def test_contacts_and_the_route_never_count_the_floor_volumes(timeline: SkeletonTimeline) -> None:
    segment = find_climb(timeline, HOLD_MAP)
    wall = wall_holds(HOLD_MAP, segment.floor_holds)
    reading = _reading(timeline, wall)

    assert reading.floor_holds == ["vol_step", "vol_side"]
    assert reading.start_holds == {
        "left_hand": "s1",
        "right_hand": "s2",
        "left_foot": "low1",  # the real foothold just above the mat is the left foot's start
        "right_foot": None,  # on the floor volume: not on the wall yet
    }
    assert not set(reading.route_holds) & set(segment.floor_holds)
    climbing = on_wall_view(timeline, segment)
    track = track_contacts(climbing, wall)
    moves = find_moves(track, climbing)
    used = {hold for move in moves for hold in (move.from_hold, move.to_hold)}
    assert not used & set(segment.floor_holds)
    assert [(m.limb.value, m.to_hold) for m in moves] == [
        ("left_foot", "f1"),
        ("right_hand", "b"),
        ("left_hand", "a"),
    ]


def test_the_ghost_never_stands_on_the_floor_volumes(timeline: SkeletonTimeline) -> None:
    segment = find_climb(timeline, HOLD_MAP)
    reading = _reading(timeline, wall_holds(HOLD_MAP, segment.floor_holds))

    # The ghost gets the climber's whole map, as the ghost step does, and the reading.
    ghost = compute_ghost(timeline, HOLD_MAP, PROFILE, device="cpu", iterations=30, climb=reading)

    assert not ghost.plan.holds_used & set(segment.floor_holds)
    assert not {hold for state in ghost.plan.states for hold in state.values()} & {
        "vol_step",
        "vol_side",
    }
    # The real footholds just above the mat carry its start stance.
    assert {ghost.start[limb] for limb in ghost.start if not limb.is_hand} == {"low1", "low2"}
    assert ghost.plan.finish_hold == "b"


def test_the_ghost_drops_a_floor_hold_even_from_a_reading_that_started_on_it(
    timeline: SkeletonTimeline,
) -> None:
    # A reading whose contacts were made on the whole map, but which names the floor holds.
    reading = replace(_reading(timeline, HOLD_MAP), floor_holds=["vol_step", "vol_side"])

    ghost = compute_ghost(timeline, HOLD_MAP, PROFILE, device="cpu", iterations=30, climb=reading)

    assert "vol_step" not in ghost.plan.holds_used


def test_a_video_that_starts_on_the_wall_leaves_nothing_out() -> None:
    timeline = _video([(t - 7.0, pose) for t, pose in VIDEO[6:16]])
    segment = find_climb(timeline, HOLD_MAP)

    assert segment.start == "video_start"
    assert segment.ground_y is None and segment.floor_holds == ()


def test_a_video_that_starts_as_the_climber_leaves_the_ground_leaves_nothing_out() -> None:
    # The floor is seen only when they step off at the end: nobody stood before the climb.
    timeline = _video([(t - 7.0, pose) for t, pose in VIDEO[6:]])
    segment = find_climb(timeline, HOLD_MAP)

    assert segment.start == "left_ground" and segment.start_frame == 0
    assert segment.ground_y is None and segment.floor_holds == ()
    assert wall_holds(HOLD_MAP, segment.floor_holds) is HOLD_MAP


def test_a_hold_must_lie_clearly_below_the_ground_line() -> None:
    stature = 0.4
    margin = FLOOR_MARGIN_STATURES * stature
    holds = HoldMap(
        image_width=100,
        image_height=100,
        holds=[
            replace(HOLD_MAP.holds[0], id="above", y=0.78),
            replace(HOLD_MAP.holds[0], id="on_line", y=0.80),
            replace(HOLD_MAP.holds[0], id="within_margin", y=0.80 + 0.9 * margin),
            replace(HOLD_MAP.holds[0], id="below", y=0.80 + 1.1 * margin),
            replace(HOLD_MAP.holds[0], id="far_below", y=0.95),
        ],
    )

    assert floor_holds(holds, 0.80, stature) == ("below", "far_below")
    assert floor_holds(holds, None, stature) == ()


def test_the_ground_line_needs_standing_frames() -> None:
    lowest = np.array([np.nan, 0.80, 0.81, 0.79, 0.80, 0.5])
    standing = np.array([True, True, True, True, True, False])

    assert ground_line(lowest, standing) == pytest.approx(0.807, abs=0.002)
    assert ground_line(lowest, np.zeros(6, dtype=bool)) is None
    assert ground_line(np.full(6, np.nan), standing) is None
