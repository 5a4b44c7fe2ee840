"""track_contacts(): per-frame holds per limb, with hysteresis."""

from __future__ import annotations

import numpy as np
import pytest

from engines.contacts import ContactTrack, find_moves, track_contacts
from engines.errors import EngineInputError
from engines.limbs import Limb
from engines.pose import SkeletonTimeline
from schema.holds import HoldMap
from tests.engines.advice.scenarios import BASE, HOLD_MAP, HOLDS, SCENE, hesitating_move
from tests.utils.skeletons import climb, still

pytestmark = pytest.mark.unit


def _shift(
    timeline: SkeletonTimeline, limb: Limb, frames: slice, by_cm: tuple[float, float]
) -> SkeletonTimeline:
    """The timeline with ``limb``'s contact landmarks moved ``by_cm`` (y up) during ``frames``."""
    landmarks = timeline.landmarks.copy()
    step = np.array([by_cm[0] / SCENE.frame_width, -by_cm[1] / SCENE.frame_height]) * 4.0
    landmarks[frames, list(limb.contact_landmarks), :2] += step.astype(np.float32)
    return SkeletonTimeline(
        timeline.timestamps_s,
        landmarks,
        timeline.quality,
        timeline.frame_width,
        timeline.frame_height,
        timeline.source_fps,
    )


def test_every_limb_sits_on_its_hold_in_every_frame() -> None:
    track = track_contacts(still(BASE, 1.0), HOLD_MAP)

    expected = {Limb.LEFT_HAND: "a", Limb.RIGHT_HAND: "b", Limb.LEFT_FOOT: "f1"}
    for limb, hold in expected.items():
        assert set(track.hold_ids_of(limb).tolist()) == {hold}
    assert track.hold_id(0, Limb.RIGHT_FOOT) == "f2"
    assert track.in_contact.all()
    assert track.touched_holds() == ("a", "b", "f1", "f2")


def test_a_flicker_off_the_hold_changes_nothing() -> None:
    timeline = _shift(still(BASE, 2.0), Limb.RIGHT_HAND, slice(30, 32), (0.0, -30.0))

    track = track_contacts(timeline, HOLD_MAP)

    assert (track.holds[:, 1] == track.hold_ids.index("b")).all()
    assert find_moves(track, timeline) == []


def test_a_flicker_onto_another_hold_is_no_move() -> None:
    # Two frames on hold c (35 cm up and right), then back on b.
    timeline = _shift(still(BASE, 2.0), Limb.RIGHT_HAND, slice(30, 32), (15.0, 30.0))

    track = track_contacts(timeline, HOLD_MAP)

    assert set(track.hold_ids_of(Limb.RIGHT_HAND).tolist()) == {"b"}
    assert find_moves(track, timeline) == []


def test_jittery_landmarks_do_not_make_moves() -> None:
    timeline = climb([(0.0, BASE), (5.0, BASE)], noise_cm=1.0, seed=3)

    track = track_contacts(timeline, HOLD_MAP)

    assert track.in_contact.all()
    assert find_moves(track, timeline) == []


def test_a_real_release_and_arrival_are_dated_when_they_happen() -> None:
    # The hand leaves b at 1.0 s, hovers half-way from 1.3 s to 2.3 s, lands on d at 2.6 s.
    timeline = hesitating_move(hover_s=1.0)

    track = track_contacts(timeline, HOLD_MAP)
    hand = track.hold_ids_of(Limb.RIGHT_HAND)

    times = timeline.timestamps_s
    assert set(hand[times < 1.0].tolist()) == {"b"}
    assert set(hand[(times > 1.3) & (times < 2.3)].tolist()) == {None}
    assert set(hand[times > 2.6].tolist()) == {"d"}
    left_b = times[np.flatnonzero(hand != "b")[0]]
    reached_d = times[np.flatnonzero(hand == "d")[0]]
    assert 1.0 <= left_b <= 1.2
    assert 2.35 <= reached_d <= 2.6


def test_a_hand_sweeping_past_a_hold_does_not_grab_it() -> None:
    # r -> t at ~1 m/s crosses r_near on the way.
    start = BASE.moved(left_hand=HOLDS["l"], right_hand=HOLDS["r"], hips=(130.0, 118.0))
    end = start.moved(right_hand=HOLDS["t"], hips=(160.0, 118.0))
    timeline = climb([(0.0, start), (1.0, start), (1.7, end), (3.0, end)])

    track = track_contacts(timeline, HOLD_MAP)

    assert "r_near" not in set(track.hold_ids_of(Limb.RIGHT_HAND).tolist())
    moves = find_moves(track, timeline)
    assert [(m.from_hold, m.to_hold) for m in moves] == [("r", "t")]


def test_frames_without_pose_keep_the_hold_only_when_it_is_the_same_on_both_sides() -> None:
    timeline = climb([(0.0, BASE), (2.0, BASE)], missing=range(20, 26))

    track = track_contacts(timeline, HOLD_MAP)

    assert track.in_contact.all()
    assert np.isnan(track.points[20:26]).all()
    assert not np.isnan(track.points[:20]).any()


def test_no_hold_across_a_gap_with_a_move_inside() -> None:
    reached = BASE.moved(right_hand=HOLDS["d"], hips=(140.0, 120.0))
    timeline = climb(
        [(0.0, BASE), (1.0, BASE), (1.6, reached), (3.0, reached)], missing=range(25, 55)
    )

    track = track_contacts(timeline, HOLD_MAP)

    assert (track.holds[25:55, 1] == -1).all()
    assert [(m.from_hold, m.to_hold) for m in find_moves(track, timeline)] == [("b", "d")]


def test_an_empty_hold_map_is_rejected() -> None:
    with pytest.raises(EngineInputError, match="empty"):
        track_contacts(still(BASE, 0.5), HoldMap(image_width=1080, image_height=1920))


def test_track_arrays_are_checked() -> None:
    with pytest.raises(ValueError, match="holds must have shape"):
        ContactTrack(np.arange(3.0), ("a",), np.zeros((3, 2)), np.zeros((3, 4, 2)))
    with pytest.raises(ValueError, match="index hold_ids"):
        ContactTrack(np.arange(3.0), ("a",), np.full((3, 4), 2), np.zeros((3, 4, 2)))
