"""Climb segmentation on constructed videos: walk-in, standing on the mat, climb, step-off."""

from __future__ import annotations

import pytest

from engines.biomech.body import body_height_px, pixel_points
from engines.climb import NoClimbError, find_climb, on_wall_view
from engines.contacts import find_moves, track_contacts
from tests.engines.climb.scenarios import (
    HOLD_MAP,
    REACH,
    SCENE,
    STAND,
    UP,
    WHOLE_VIDEO,
    joined,
    walking_past_the_camera,
)
from tests.utils.skeletons import climb


def test_the_climb_runs_from_leaving_the_ground_to_stepping_off() -> None:
    segment = find_climb(climb(WHOLE_VIDEO), HOLD_MAP)

    assert segment.start == "left_ground" and segment.end == "ground"
    # The feet rise from 5 s and are ~10 cm up a fifth of the way to the footholds.
    assert 5.05 <= segment.start_s <= 5.4
    # Back down from 15 s: the hands leave the holds on the way.
    assert 15.0 <= segment.end_s <= 16.0
    assert segment.floor_y == pytest.approx(1.0, abs=0.01)


def test_nothing_on_the_mat_becomes_a_contact_or_a_move() -> None:
    timeline = climb(WHOLE_VIDEO)
    segment = find_climb(timeline, HOLD_MAP)

    everything = track_contacts(timeline, HOLD_MAP)
    on_wall = on_wall_view(timeline, segment)
    climbing = track_contacts(on_wall, HOLD_MAP)

    # Standing on the mat with both hands on the start holds (3-5 s) reads as contact without
    # segmentation, and not with it.
    assert (everything.holds[: segment.start_frame, :2] >= 0).any()
    assert not (climbing.holds[: segment.start_frame] >= 0).any()
    assert not (climbing.holds[segment.end_frame :] >= 0).any()
    moves = find_moves(climbing, on_wall)
    assert [(m.limb.value, m.from_hold, m.to_hold) for m in moves] == [
        ("right_hand", "s2", "b"),
        ("right_foot", "f2", "f4"),
        ("left_hand", "s1", "a"),
    ]
    assert all(m.end_s > m.start_s for m in moves)


def test_someone_walking_close_past_the_camera_is_left_out_and_does_not_inflate_the_scale() -> None:
    timeline = joined(walking_past_the_camera(3.0), climb(WHOLE_VIDEO))
    segment = find_climb(timeline, HOLD_MAP)

    walk_frames = 91
    assert segment.near_camera[:walk_frames].mean() > 0.95
    assert not segment.near_camera[walk_frames:].any()
    assert 8.05 <= segment.start_s <= 8.4  # 5.1-5.4 s into the climb video, 3 s later

    true_stature_px = 175.0 * SCENE.px_per_cm
    whole, _ = body_height_px(pixel_points(timeline))
    climbing, _ = body_height_px(pixel_points(on_wall_view(timeline, segment)))
    assert whole > 1.5 * true_stature_px  # the walker's frames would decide the scale
    assert climbing == pytest.approx(true_stature_px, rel=0.08)


def test_a_video_that_starts_on_the_wall_is_all_climb() -> None:
    timeline = climb([(t - 6.0, pose) for t, pose in WHOLE_VIDEO[5:12]])
    segment = find_climb(timeline, HOLD_MAP)

    assert segment.start == "video_start" and segment.floor_y is None
    assert segment.start_frame == 0 and segment.end_frame == len(timeline)


def test_standing_on_the_mat_is_no_climb() -> None:
    timeline = climb(WHOLE_VIDEO[:4])

    with pytest.raises(NoClimbError, match="never leaves the ground"):
        find_climb(timeline, HOLD_MAP)


def test_a_hop_onto_the_start_holds_is_too_short_to_analyse() -> None:
    hop = [(0.0, STAND), (2.0, REACH), (2.5, UP), (2.8, UP), (3.3, REACH), (5.0, STAND)]

    with pytest.raises(NoClimbError, match=r"only 1\.[0-9] s of climbing"):
        find_climb(climb(hop), HOLD_MAP)
