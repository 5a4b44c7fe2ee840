"""find_moves() and attachments(): hold changes, re-grips, first placements."""

from __future__ import annotations

import pytest

from engines.contacts import Move, attachments, find_moves, track_contacts
from engines.limbs import Limb
from tests.engines.advice.scenarios import BASE, HOLD_MAP, HOLDS, SCENE, regripping
from tests.utils.skeletons import climb, still

pytestmark = pytest.mark.unit


def test_moves_follow_each_limb_from_hold_to_hold_in_time_order() -> None:
    right_up = BASE.moved(right_hand=HOLDS["d"], hips=(138.0, 120.0))
    foot_up = right_up.moved(right_foot=HOLDS["f3"], hips=(145.0, 122.0))
    timeline = climb(
        [(0.0, BASE), (1.0, BASE), (1.6, right_up), (2.5, right_up), (3.1, foot_up), (4.0, foot_up)]
    )

    moves = find_moves(track_contacts(timeline, HOLD_MAP), timeline)

    assert [(m.index, m.limb, m.from_hold, m.to_hold) for m in moves] == [
        (0, Limb.RIGHT_HAND, "b", "d"),
        (1, Limb.RIGHT_FOOT, "f2", "f3"),
    ]
    assert moves[0].start_s < moves[0].end_s <= moves[1].start_s < moves[1].end_s
    # Dated when the hand leaves / enters the touching zone around the holds.
    assert 1.0 <= moves[0].start_s <= 1.25 and 1.35 < moves[0].end_s <= 1.6
    for move in moves:
        assert timeline.timestamps_s[move.start_frame] == move.start_s
        assert timeline.timestamps_s[move.end_frame] == move.end_s


def test_a_regrip_is_no_move_but_two_attachments() -> None:
    timeline = regripping(times=1)

    track = track_contacts(timeline, HOLD_MAP)

    assert find_moves(track, timeline) == []
    stays = [a for a in attachments(track) if a.limb is Limb.RIGHT_HAND]
    assert [a.hold for a in stays] == ["b", "b"]
    gap = stays[1].start_s - stays[0].end_s
    assert 0.4 < gap < 0.75  # off the hold from ~1.05 s to ~1.55 s


def test_first_placements_are_moves_only_on_request() -> None:
    # Standing on the ground, then stepping onto f1 and f2.
    ground = BASE.moved(left_foot=(110.0, 8.0), right_foot=(150.0, 8.0), hips=(130.0, 75.0))
    ground = ground.moved(left_hand=(100.0, 150.0), right_hand=(160.0, 150.0))
    on_wall = BASE.moved(left_hand=(100.0, 150.0), right_hand=(160.0, 150.0), hips=(130.0, 100.0))
    hold_map = SCENE.hold_map({k: HOLDS[k] for k in ("f1", "f2")})
    timeline = climb([(0.0, ground), (1.0, ground), (2.0, on_wall), (3.0, on_wall)])
    track = track_contacts(timeline, hold_map)

    default = find_moves(track, timeline)
    placements = find_moves(track, timeline, include_first_placements=True)

    assert default == []
    assert sorted((m.limb, m.from_hold, m.to_hold) for m in placements) == [
        (Limb.LEFT_FOOT, None, "f1"),
        (Limb.RIGHT_FOOT, None, "f2"),
    ]
    assert all(m.start_frame == 0 for m in placements)


def test_sliding_straight_onto_a_neighbouring_hold_is_a_move() -> None:
    hold_map = SCENE.hold_map({**HOLDS, "b2": (172.0, 215.0)})
    slid = BASE.moved(right_hand=(172.0, 215.0), hips=(133.0, 115.0))
    timeline = climb([(0.0, BASE), (1.0, BASE), (3.0, slid), (4.0, slid)])

    moves = find_moves(track_contacts(timeline, hold_map), timeline)

    assert [(m.from_hold, m.to_hold) for m in moves] == [("b", "b2")]
    # Dated over the slide (1-3 s), not at the frame the nearest hold changed: no 0 s moves.
    assert 1.0 <= moves[0].start_s < moves[0].end_s <= 3.0
    assert moves[0].end_s - moves[0].start_s >= 0.5


def test_a_hand_resting_between_two_touching_holds_makes_no_moves() -> None:
    # Two holds 4 cm apart: landmark jitter flips which centre is nearer, the hand stays put.
    hold_map = SCENE.hold_map({**HOLDS, "b2": (164.0, 215.0)})
    timeline = still(BASE.moved(right_hand=(162.0, 215.0)), 6.0, noise_cm=1.5, seed=3)

    track = track_contacts(timeline, hold_map)
    moves = find_moves(track, timeline)

    right = {a.hold for a in attachments(track) if a.limb == Limb.RIGHT_HAND}
    assert right == {"b", "b2"}  # the track itself flickers between them
    assert moves == []


def test_a_touch_of_another_hold_undone_within_a_second_is_no_move() -> None:
    touch = BASE.moved(right_hand=HOLDS["d"], hips=(138.0, 120.0))
    timeline = climb(
        [(0.0, BASE), (1.0, BASE), (1.4, touch), (1.9, touch), (2.3, BASE), (4.0, BASE)]
    )

    track = track_contacts(timeline, HOLD_MAP)
    moves = find_moves(track, timeline)

    assert "d" in {a.hold for a in attachments(track) if a.limb == Limb.RIGHT_HAND}
    assert moves == []


def test_moves_need_a_new_hold_and_forward_time() -> None:
    with pytest.raises(ValueError, match="different hold"):
        Move(0, Limb.LEFT_HAND, "a", "a", 1.0, 2.0, 30, 60)
    with pytest.raises(ValueError, match="before it starts"):
        Move(0, Limb.LEFT_HAND, "a", "b", 2.0, 1.0, 60, 30)


def test_track_of_another_timeline_is_rejected() -> None:
    track = track_contacts(still(BASE, 1.0), HOLD_MAP)

    with pytest.raises(ValueError, match="frame counts"):
        find_moves(track, still(BASE, 2.0))


def test_moves_serialise_for_the_advice_document() -> None:
    move = Move(2, Limb.RIGHT_FOOT, "f2", "f3", 1.23456, 2.5, 37, 75)

    assert move.to_dict() == {
        "index": 2,
        "limb": "right_foot",
        "from_hold": "f2",
        "to_hold": "f3",
        "start_s": 1.235,
        "end_s": 2.5,
    }
