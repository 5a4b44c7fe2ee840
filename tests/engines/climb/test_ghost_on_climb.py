"""The ghost climbs the climber's route: from their start holds when they leave the ground, with
hands only on their route, to the highest hold they reached, within the time of their climb."""

from __future__ import annotations

import numpy as np
import pytest

from engines.climb import climb_reading, find_climb, on_wall_view
from engines.contacts import find_moves, track_contacts
from engines.ghost import compute_ghost
from engines.limbs import Limb
from schema.analysis import Morphology
from tests.engines.climb.scenarios import HOLDS, MOVE_3, REACH, SCENE, STAND, WHOLE_VIDEO
from tests.utils.skeletons import climb

#: The climber's wall plus a hold high above the route (a ceiling feature, another route's top).
WALL = SCENE.hold_map({**HOLDS, "ceiling": (130.0, 300.0), "beside": (60.0, 240.0)})
PROFILE = Morphology(height_cm=175.0, arm_span_cm=178.0)


@pytest.fixture(scope="module")
def reading_and_ghost():  # type: ignore[no-untyped-def]
    timeline = climb(WHOLE_VIDEO)
    segment = find_climb(timeline, WALL)
    climbing = on_wall_view(timeline, segment)
    track = track_contacts(climbing, WALL)
    reading = climb_reading(segment, track, WALL, find_moves(track, climbing))
    ghost = compute_ghost(timeline, WALL, PROFILE, device="cpu", iterations=60, climb=reading)
    return reading, ghost


def test_the_reading_names_the_climbers_start_top_and_route(reading_and_ghost) -> None:  # type: ignore[no-untyped-def]
    reading, _ = reading_and_ghost
    assert reading.start == "left_ground" and reading.end == "ground"
    assert reading.start_holds == {
        "left_hand": "s1",
        "right_hand": "s2",
        "left_foot": "f1",
        "right_foot": "f2",
    }
    assert reading.top_hold == "b"
    assert set(reading.route_holds) == {"s1", "s2", "f1", "f2", "f4", "a", "b"}
    assert reading.finish == "let_go"  # stepped down with the hands on two holds
    assert [(p.limb, p.hold) for p in reading.hand_sequence] == [
        ("right_hand", "b"),
        ("left_hand", "a"),
    ]


def test_matching_the_top_hold_is_a_finished_climb() -> None:
    matched = MOVE_3.moved(left_hand=HOLDS["b"], hips=(150.0, 140.0))
    video = [*WHOLE_VIDEO[:11], (14.0, matched), (16.0, matched), (17.0, REACH), (19.0, STAND)]
    timeline = climb(video)
    segment = find_climb(timeline, WALL)

    reading = climb_reading(segment, track_contacts(on_wall_view(timeline, segment), WALL), WALL)

    assert (reading.top_hold, reading.finish) == ("b", "matched_top")


def test_the_ghost_starts_on_the_start_holds_and_stays_on_the_route(reading_and_ghost) -> None:  # type: ignore[no-untyped-def]
    reading, ghost = reading_and_ghost
    assert ghost.start == {
        Limb.LEFT_HAND: "s1",
        Limb.RIGHT_HAND: "s2",
        Limb.LEFT_FOOT: "f1",
        Limb.RIGHT_FOOT: "f2",
    }
    assert ghost.plan.finish_hold == "b"
    hand_holds = {move.to_hold for move in ghost.moves if move.limb.is_hand}
    assert hand_holds <= set(reading.route_holds)
    assert "ceiling" not in {move.to_hold for move in ghost.moves}


def test_the_ghost_says_when_the_climbers_sequence_was_already_the_best(reading_and_ghost) -> None:  # type: ignore[no-untyped-def]
    _, ghost = reading_and_ghost
    # The climber's right hand went straight to the top hold, as the ghost's does: nothing to
    # improve, and the ghost must not pretend otherwise.
    first_hand = next(m for m in ghost.moves if m.limb.is_hand)
    assert (first_hand.limb, first_hand.to_hold) == (Limb.RIGHT_HAND, "b")
    assert ghost.verdict is not None and ghost.verdict.verdict == "same_as_climber"
    assert ghost.summary()["verdict"]["message"].startswith("Your sequence was already")


def test_the_ghost_moves_within_the_climbers_climb(reading_and_ghost) -> None:  # type: ignore[no-untyped-def]
    reading, ghost = reading_and_ghost
    assert ghost.key_times_s[0] == pytest.approx(reading.start_s)
    assert ghost.key_times_s[-1] == pytest.approx(reading.end_s)
    assert all(reading.start_s <= m.start_s < m.end_s <= reading.end_s for m in ghost.moves)
    assert np.all(np.diff(ghost.key_times_s) > 0)
    # Drawn only while the climber climbs: not on the mat before, not after they step off.
    assert ghost.timeline.timestamps_s[0] == pytest.approx(reading.start_s, abs=1e-3)
    assert ghost.timeline.timestamps_s[-1] == pytest.approx(reading.end_s, abs=1e-3)
