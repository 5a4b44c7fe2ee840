"""analyse(): per-frame series, per-move figures and the metrics summary on constructed climbs."""

from __future__ import annotations

import numpy as np
import pytest

from engines.biomech import analyse
from engines.biomech import analysis as biomech_analysis
from engines.contacts import find_moves, track_contacts
from engines.limbs import Limb
from schema.analysis import Morphology
from tests.engines.advice.scenarios import (
    BASE,
    HOLD_MAP,
    HOLDS,
    MORPHOLOGY,
    Phone,
    analysed,
    feet_off,
    hand_move,
    hesitating_move,
    resting,
    wall_climb,
    with_long_shanks,
)
from tests.utils.skeletons import climb

pytestmark = pytest.mark.unit


def test_series_have_one_row_per_frame_and_loads_sum_to_one_over_contacts() -> None:
    result = analysed(hand_move())
    bio, frames = result.biomech, len(result.timeline)

    assert bio.angles_deg.shape == (frames, 8)
    assert bio.cog.shape == (frames, 2)
    in_contact = bio.contact.any(axis=1)
    np.testing.assert_allclose(bio.loads[in_contact].sum(axis=1), 1.0, atol=1e-9)
    assert (bio.loads[~bio.contact] == 0).all()
    # Normalised CoG stays inside the frame and near the hips.
    assert ((bio.cog > 0) & (bio.cog < 1)).all()


def test_summary_fills_the_metrics_row() -> None:
    result = analysed(hand_move())

    summary = result.biomech.summary()

    assert summary.hold_count == 5  # a, b, d, f1, f2
    assert summary.movement_efficiency is not None and summary.movement_efficiency > 0.9
    assert summary.avg_tension is not None and 0.0 < summary.avg_tension < 1.0
    # Widest stretch: the right hand on d (190, 205) to the left foot on f1 (110, 60).
    assert summary.max_reach_cm == pytest.approx(np.hypot(80.0, 145.0), abs=6.0)


def test_reach_scales_with_the_climbers_height() -> None:
    timeline = hand_move()
    track = track_contacts(timeline, HOLD_MAP)
    moves = find_moves(track, timeline)

    short = analyse(timeline, track, moves, Morphology(height_cm=160.0)).summary()
    tall = analyse(timeline, track, moves, Morphology(height_cm=180.0)).summary()

    assert short.max_reach_cm is not None and tall.max_reach_cm is not None
    assert tall.max_reach_cm / short.max_reach_cm == pytest.approx(180.0 / 160.0, rel=0.01)


def test_hip_to_wall_proxy_sees_hips_pushed_off_the_wall() -> None:
    near = analysed(hand_move()).biomech
    far = analysed(hand_move(hip_depth=65.0, shoulder_depth=35.0)).biomech

    # The hips stand 41 cm further out than the ankles (65 vs ~24 cm) in the far climb.
    assert near.moves[0].hip_wall_cm < 10.0
    assert far.moves[0].hip_wall_cm == pytest.approx(41.0, abs=6.0)


def test_hip_to_wall_proxy_tells_a_tucked_climber_from_one_with_the_hips_out() -> None:
    # Real motion: 16 moves up a ladder with 1 cm of landmark jitter. Tucked: feet high, knees
    # bent out, hips near the wall. Stretched: legs long, hips 34 cm further out than the ankles
    # on the hand moves, back in for the foot moves.
    tucked = wall_climb("tucked").analysed().biomech
    stretched = wall_climb("stretched", hips_out="on_reach").analysed().biomech

    left_hand = [1, 5, 9, 13]
    assert np.nanmax([tucked.moves[i].hip_wall_cm for i in left_hand]) < 15.0
    assert np.nanmin([stretched.moves[i].hip_wall_cm for i in left_hand]) > 26.0
    # Foot moves, hips back in: near the wall again.
    assert np.nanmax([stretched.moves[i].hip_wall_cm for i in (3, 7, 11, 15)]) < 15.0


def test_hip_to_wall_proxy_is_silent_once_the_climber_shrinks_on_screen() -> None:
    # A wide-angle phone filming from below: higher up, the legs look shorter whatever the
    # posture. While the climber is still where the legs were seen at full length the proxy
    # reads ~0; after the first step up it has no figure, where the former proxy read 46-71 cm.
    bio = wall_climb("flat", camera=Phone()).analysed().biomech

    assert np.isnan(bio.hip_wall_cm[bio.contact[:, 2:].any(axis=1)][-300:]).all()
    assert all(np.isnan(m.hip_wall_cm) for m in bio.moves[3:])


def test_hip_to_wall_proxy_is_silent_when_bad_frames_inflate_the_legs() -> None:
    climb_ = wall_climb("tucked")
    clean = analysed(climb_.timeline, climb_.hold_map).biomech
    glitched = analysed(with_long_shanks(climb_.timeline, slice(0, 55)), climb_.hold_map).biomech

    assert np.isfinite(clean.hip_wall_cm).mean() > 0.9
    assert np.isnan(glitched.hip_wall_cm).all()


def test_hip_to_wall_proxy_needs_the_legs_seen_along_the_wall_before_and_after() -> None:
    # The hips go out at 1.5-2 s and never come back: no later full-length view of the legs
    # vouches that the camera still sees the climber at the same scale.
    start = BASE.moved(hips=(130.0, 130.0))
    away = start.moved(hip_depth=65.0, shoulder_depth=35.0)
    reached = away.moved(right_hand=HOLDS["d"], hips=(145.0, 135.0))
    timeline = climb(
        [(0.0, start), (1.5, start), (2.0, away), (3.0, away), (3.9, reached), (6.0, reached)]
    )

    bio = analysed(timeline).biomech

    assert np.isfinite(bio.hip_wall_cm[15:40]).all()
    assert np.isnan(bio.hip_wall_cm[-60:]).all()
    assert np.isnan(bio.moves[0].hip_wall_cm)


def test_hip_depths_beyond_a_human_posture_give_no_figure_and_no_pull(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    near = analysed(hand_move()).biomech
    measured = analysed(hand_move(hip_depth=65.0, shoulder_depth=35.0)).biomech
    # Pretend 35 cm is beyond what a body does: the figure goes, and with it the outward pull.
    monkeypatch.setattr(biomech_analysis, "HIP_WALL_MAX_FRACTION", 0.15)
    bounded = analysed(hand_move(hip_depth=65.0, shoulder_depth=35.0)).biomech

    assert measured.moves[0].hip_wall_cm > 0.15 * MORPHOLOGY.height_cm  # type: ignore[operator]
    assert np.isnan(bounded.moves[0].hip_wall_cm)
    assert bounded.moves[0].hand_force_bw == pytest.approx(near.moves[0].hand_force_bw, abs=0.05)


def test_hips_off_the_wall_load_the_arms() -> None:
    near = analysed(hand_move()).biomech
    far = analysed(hand_move(hip_depth=65.0, shoulder_depth=35.0)).biomech

    assert far.moves[0].hand_force_bw > near.moves[0].hand_force_bw + 0.1


def test_movement_efficiency_drops_when_the_hips_wander() -> None:
    straight = analysed(hand_move()).biomech.moves[0]
    wandering = analysed(hand_move(wander_cm=15.0)).biomech.moves[0]

    assert straight.efficiency > 0.9
    assert wandering.efficiency < 0.6
    assert wandering.cog_path_cm > straight.cog_path_cm


@pytest.mark.parametrize("hover_s", [0.0, 1.0, 2.5])
def test_hesitation_measures_the_hover(hover_s: float) -> None:
    figures = analysed(hesitating_move(hover_s=hover_s)).biomech.moves

    assert len(figures) == 1
    assert figures[0].limb is Limb.RIGHT_HAND
    assert figures[0].hesitation_s == pytest.approx(hover_s, abs=0.25)


def test_hanging_on_the_hands_raises_arm_tension() -> None:
    result = analysed(feet_off(both=True))
    bio = result.biomech
    cut = ~bio.contact[:, 2:].any(axis=1) & bio.contact[:, :2].any(axis=1)
    standing = bio.contact[:, 2:].all(axis=1)

    np.testing.assert_allclose(bio.hand_force[cut], 1.0, atol=1e-6)
    assert bio.hand_force[standing].mean() < 0.6


def test_bent_arms_hold_more_elbow_moment_than_straight_ones() -> None:
    bent = analysed(resting(elbow_deg=90.0)).biomech
    straight = analysed(resting(elbow_deg=170.0)).biomech

    assert np.nanmean(bent.elbow_moment) > 3 * np.nanmean(straight.elbow_moment)
    assert np.nanmedian(straight.angle("left_elbow")) == pytest.approx(170.0, abs=1.0)


def test_a_track_from_another_video_is_rejected() -> None:
    timeline = hand_move()
    other = resting(elbow_deg=120.0)
    track = track_contacts(other, HOLD_MAP)

    with pytest.raises(ValueError, match="frame counts"):
        analyse(timeline, track, [], MORPHOLOGY)


def test_a_one_frame_landmark_glitch_does_not_set_the_max_reach() -> None:
    timeline = hand_move()
    glitched = timeline.landmarks.copy()
    hand = list(Limb.LEFT_HAND.contact_landmarks)
    glitched[40, hand, 0] -= 60.0 * 4.0 / timeline.frame_width  # 60 cm left for one frame
    broken = type(timeline)(
        timeline.timestamps_s,
        glitched,
        timeline.quality,
        timeline.frame_width,
        timeline.frame_height,
        timeline.source_fps,
    )

    clean = analysed(timeline).biomech.summary().max_reach_cm
    noisy = analysed(broken).biomech.summary().max_reach_cm

    assert clean is not None and noisy is not None
    assert noisy == pytest.approx(clean, abs=3.0)


def test_move_figures_serialise_without_nan() -> None:
    [figures] = analysed(hand_move()).biomech.moves

    document = figures.to_dict()

    assert document["limb"] == "right_hand"
    assert document["index"] == 0
    assert document["pause_before_s"] is None  # first move: nothing before it
    assert isinstance(document["efficiency"], float)
