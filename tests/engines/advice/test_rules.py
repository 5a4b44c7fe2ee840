"""Each advice rule on a constructed climb that triggers it and on one that does not."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from engines.advice import generate_advice
from engines.advice.context import PLAUSIBLE_HAND_FORCE_BW
from engines.advice.rules_flow import HESITATION_S
from engines.advice.rules_footwork import FOOT_DROP_FRACTION
from engines.advice.rules_posture import (
    BARN_DOOR_CRITICAL_FRACTION,
    BARN_DOOR_CRITICAL_S,
    BENT_ELBOW_DEG,
    COMFORT_SPAN_FRACTION,
    HIP_FAR_FRACTION,
)
from engines.pose import SkeletonTimeline
from engines.pose.timeline import Landmark
from tests.engines.advice.scenarios import (
    HOLD_MAP,
    MORPHOLOGY,
    Phone,
    analysed,
    feet_off,
    feet_on_unmapped_holds,
    flag_traverse,
    hand_move,
    hesitating_move,
    one_sided,
    regripping,
    resting,
    rigid_stand_in,
    span_move,
    swinging_out,
    wall_climb,
    with_long_shanks,
    with_visibility,
)

pytestmark = pytest.mark.unit


def test_bent_arms_while_resting_triggers() -> None:
    result = analysed(resting(elbow_deg=90.0, seconds=3.0))

    [item] = result.of("bent_arms_rest")
    assert item.severity == "critical"
    assert item.move_index is None
    assert item.limbs == ("left_hand", "right_hand")
    assert item.holds == ("a", "b")
    assert item.evidence["left_elbow_deg"] == pytest.approx(90.0, abs=1.0)
    assert item.evidence["rest_s"] == pytest.approx(3.0, abs=0.1)
    assert (item.start_s, item.end_s) == pytest.approx((0.0, 3.03), abs=0.05)


def test_bent_arms_rule_spares_straight_arms_and_short_pauses() -> None:
    straight = analysed(resting(elbow_deg=170.0, seconds=3.0))
    short = analysed(resting(elbow_deg=90.0, seconds=1.5))

    assert straight.of("bent_arms_rest") == []
    assert short.of("bent_arms_rest") == []
    # Mildly bent is a warning, not critical.
    [mild] = analysed(resting(elbow_deg=BENT_ELBOW_DEG - 15.0)).of("bent_arms_rest")
    assert mild.severity == "warning"


def test_hips_far_from_the_wall_triggers_on_the_move() -> None:
    result = analysed(hand_move(hip_depth=65.0, shoulder_depth=35.0))

    [item] = result.of("hips_far_from_wall")
    assert item.move_index == 0
    assert item.limbs == ("right_hand",)
    assert item.holds == ("b", "d")
    assert item.evidence["hip_wall_cm"] > item.evidence["threshold_cm"]
    assert item.message_en.startswith("Move 1:")


def test_hips_close_to_the_wall_do_not_trigger() -> None:
    assert analysed(hand_move()).of("hips_far_from_wall") == []


@pytest.mark.parametrize("posture", ["tucked", "flat"])
def test_a_climber_close_to_the_wall_tucked_or_stretched_gets_no_hips_advice(posture: str) -> None:
    # 16 moves up a ladder, hips near the wall: feet high and knees bent out (tucked), or legs
    # long (flat). 1 cm of landmark jitter.
    result = wall_climb(posture).analysed()  # type: ignore[arg-type]

    assert result.of("hips_far_from_wall") == []
    figures = [m.hip_wall_cm for m in result.biomech.moves]
    assert np.nanmax(figures) < HIP_FAR_FRACTION * MORPHOLOGY.height_cm  # type: ignore[operator]


def test_only_the_moves_made_with_the_hips_out_get_the_hips_advice() -> None:
    tucked = wall_climb("tucked").analysed()
    stretched = wall_climb("stretched", hips_out="on_reach").analysed()

    [item] = stretched.of("hips_far_from_wall")
    flagged = {o.move_index for o in item.occurrences}
    assert flagged == {1, 5, 9, 13}  # the left-hand moves
    # The proxy tells the postures apart on those moves: ~8 cm tucked, ~32 cm hips out.
    for index in flagged:
        assert tucked.biomech.moves[index].hip_wall_cm < 15.0
        assert stretched.biomech.moves[index].hip_wall_cm > 26.0
    assert stretched.of("hips_far_from_wall")[0].evidence["hand_force_bw"] < 1.0


@pytest.mark.parametrize(
    ("posture", "hips_out"), [("tucked", "never"), ("flat", "never"), ("stretched", "on_reach")]
)
def test_filmed_from_below_the_shrinking_climber_gets_no_hips_advice(
    posture: str, hips_out: str
) -> None:
    # A wide-angle phone 2 m from the wall, 1 m up, tilted up: the legs look ever shorter as the
    # climber climbs, tucked or stretched alike. The former proxy read 37-71 cm from move 4 on and
    # gave one (mostly critical) item per move; the proxy now has no figure once the legs are
    # never seen at full length again.
    result = wall_climb(posture, hips_out=hips_out, camera=Phone()).analysed()  # type: ignore[arg-type]

    assert result.of("hips_far_from_wall") == []
    assert all(math.isnan(m.hip_wall_cm) for m in result.biomech.moves[4:])


def test_legs_inflated_by_a_burst_of_bad_frames_give_no_hips_advice() -> None:
    # 55 frames (8 % of the climb) with the ankles detected 25 cm low: the shanks' robust length
    # is inflated, so every normal frame would look foreshortened (the former proxy: ~50 cm of
    # depth on all 16 moves, all critical).
    climb = wall_climb("tucked")
    glitched = analysed(with_long_shanks(climb.timeline, slice(0, 55)), climb.hold_map)

    assert glitched.of("hips_far_from_wall") == []
    assert all(math.isnan(m.hip_wall_cm) for m in glitched.biomech.moves)


def test_a_climber_never_seen_with_the_legs_along_the_wall_gets_no_hips_advice() -> None:
    result = wall_climb("stretched", hips_out="always").analysed()

    assert result.of("hips_far_from_wall") == []


def test_feet_cutting_loose_mid_climb_triggers() -> None:
    result = analysed(feet_off(both=True))

    [item] = result.of("feet_cut")
    assert item.limbs == ("left_foot", "right_foot")
    assert item.holds == ("f1", "f2")
    assert item.evidence["duration_s"] == pytest.approx(1.2, abs=0.3)
    assert item.evidence["hand_force_bw"] == pytest.approx(1.0, abs=1e-6)
    # Both feet really came off: they dropped 15 cm (21 cm down and out in 0.2 s).
    assert item.evidence["foot_drop_cm"] > FOOT_DROP_FRACTION * MORPHOLOGY.height_cm
    assert item.evidence["foot_speed_cm_s"] > 50.0
    assert 1.0 <= item.start_s <= 1.2


def test_moving_one_foot_at_a_time_is_no_cut() -> None:
    assert analysed(feet_off(both=False)).of("feet_cut") == []


@pytest.mark.parametrize("noise_cm", [0.0, 1.0])
def test_feet_standing_still_on_footholds_missing_from_the_map_are_no_cut(noise_cm: float) -> None:
    result = analysed(feet_on_unmapped_holds(noise_cm=noise_cm))

    # Both feet are off every mapped hold for ~2.8 s while the hands hold on...
    feet_on = result.biomech.contact[:, 2:].any(axis=1)
    assert (~feet_on[60:140]).all()
    # ... but they stood still up there: the footholds are missing from the map.
    assert result.of("feet_cut") == []


def test_implausible_hand_forces_are_not_quoted() -> None:
    result = analysed(feet_off(both=True))
    # As if the static model had put 3 body weights through the hands during the cut.
    tripled = replace(result.biomech, forces=result.biomech.forces * 3.0)

    [item] = generate_advice(
        result.timeline, result.track, result.moves, tripled, HOLD_MAP, MORPHOLOGY
    )

    assert item.rule_id == "feet_cut"
    assert PLAUSIBLE_HAND_FORCE_BW < 3.0
    assert "hand_force_bw" not in item.evidence
    assert item.evidence["duration_s"] == pytest.approx(1.2, abs=0.3)


def test_repeated_regrips_trigger() -> None:
    result = analysed(regripping(times=3))

    [item] = result.of("regrip")
    assert item.limbs == ("right_hand",)
    assert item.holds == ("b",)
    assert item.evidence["regrips"] == 3.0
    assert item.severity == "info"
    assert item.start_s == pytest.approx(1.0, abs=0.15)


def test_a_single_regrip_is_not_worth_saying() -> None:
    assert analysed(regripping(times=1)).of("regrip") == []


def test_many_regrips_are_a_warning() -> None:
    [item] = analysed(regripping(times=4)).of("regrip")

    assert item.severity == "warning"


def test_long_hover_mid_move_triggers() -> None:
    result = analysed(hesitating_move(hover_s=2.0))

    [item] = result.of("long_hesitation")
    assert item.move_index == 0
    assert item.severity == "warning"
    assert item.evidence["hesitation_s"] == pytest.approx(2.0, abs=0.25)
    assert item.holds == ("b", "d")


def test_a_brief_hover_is_no_hesitation() -> None:
    result = analysed(hesitating_move(hover_s=HESITATION_S / 3))

    assert result.of("long_hesitation") == []
    [critical] = analysed(hesitating_move(hover_s=3.0)).of("long_hesitation")
    assert critical.severity == "critical"


def test_flagging_into_a_long_reach_without_matching_triggers() -> None:
    result = analysed(flag_traverse(match_first=False, flag=True))

    [item] = result.of("missed_match_before_flag")
    assert item.move_index == 0
    assert item.limbs == ("right_hand", "left_hand", "left_foot")
    assert item.holds == ("r", "l", "t")
    assert item.evidence["lateral_reach_cm"] == pytest.approx(130.0, abs=5.0)
    assert item.evidence["flag_offset_cm"] > 35.0


@pytest.mark.parametrize(("match_first", "flag"), [(True, True), (False, False)])
def test_matching_first_or_not_flagging_does_not_trigger(match_first: bool, flag: bool) -> None:
    result = analysed(flag_traverse(match_first=match_first, flag=flag))

    assert result.of("missed_match_before_flag") == []
    assert any(m.to_hold == "t" for m in result.moves)


def test_weight_hanging_outside_the_holds_is_a_barn_door() -> None:
    result = analysed(one_sided(left_foot_on=False))

    [item] = result.of("barn_door")
    assert item.limbs == ("right_hand", "right_foot")
    assert item.holds == ("b", "f2")
    assert item.evidence["unbalanced_bw_cm"] > 20.0
    assert "left" in item.message_en


def test_a_foot_under_the_body_prevents_the_barn_door() -> None:
    assert analysed(one_sided(left_foot_on=True)).of("barn_door") == []


def test_a_barn_door_fought_for_a_second_is_critical() -> None:
    # Hanging on the right hand and foot, the body swung ~30 cm left of them for over a second.
    [item] = analysed(swinging_out(out_s=1.5)).of("barn_door")

    assert item.severity == "critical"
    assert item.limbs == ("right_hand", "right_foot")
    assert item.evidence["unbalanced_bw_cm"] > BARN_DOOR_CRITICAL_FRACTION * 175.0  # 175 cm climber
    assert item.evidence["duration_s"] >= BARN_DOOR_CRITICAL_S
    assert item.evidence["seen_share"] == 1.0


def test_a_short_swing_is_a_warning_and_a_one_frame_one_nothing() -> None:
    # As far out, but back within half a second: the climber passed through it.
    [short] = analysed(swinging_out(out_s=0.2, swing_s=0.1)).of("barn_door")
    assert short.severity == "warning"
    assert short.evidence["duration_s"] < BARN_DOOR_CRITICAL_S
    # Out and back in one frame each way.
    assert analysed(swinging_out(out_s=0.0, swing_s=1 / 30)).of("barn_door") == []


def test_feet_the_model_lost_sight_of_are_no_foot_cut() -> None:
    # Both feet swing off for 1 s (a cut), or the same feet are barely seen during it (out of
    # the picture, hidden): their contact points are guesses, so nothing says they came off.
    timeline = feet_off(both=True)
    feet = [Landmark.LEFT_ANKLE, Landmark.LEFT_FOOT_INDEX, Landmark.RIGHT_ANKLE]
    feet.append(Landmark.RIGHT_FOOT_INDEX)

    assert len(analysed(timeline).of("feet_cut")) == 1
    assert analysed(with_visibility(timeline, slice(30, 75), feet, 0.3)).of("feet_cut") == []


def test_a_barn_door_read_on_guessed_landmarks_is_not_reported() -> None:
    # The same swing, but the torso (whose position gives the centre of gravity) is barely seen
    # while the body is out: the pose model is guessing, so there is no moment to quote.
    timeline = swinging_out(out_s=1.5)
    torso = [Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER, Landmark.LEFT_HIP, Landmark.RIGHT_HIP]

    guessed = with_visibility(timeline, slice(30, 80), torso, 0.2)
    seen = with_visibility(timeline, slice(30, 80), torso, 0.6)

    assert analysed(guessed).of("barn_door") == []
    assert len(analysed(seen).of("barn_door")) == 1


def test_a_rigid_stand_in_touching_footholds_only_gets_no_posture_fault() -> None:
    # The stand-in's feet touch footholds to the right of its hips, so the static model sees its
    # weight 22 cm left of them (the former rule's critical "barn door"); but its hands never
    # held anything, and a barn door is a swing about the holds the climber hangs from.
    result = rigid_stand_in().analysed(max_items=None)

    assert not result.track.in_contact[:, :2].any()
    assert result.track.in_contact[:, 2:].any()
    assert np.nanmax(result.biomech.unbalanced_cm) > 20.0
    assert result.of("barn_door") == []
    assert all(item.severity != "critical" for item in result.advice)


def test_a_span_near_the_arm_span_is_an_overreach() -> None:
    result = analysed(span_move(to=240.0))

    [item] = result.of("overreach")
    assert item.move_index == 0
    assert item.evidence["span_ratio"] > COMFORT_SPAN_FRACTION
    assert item.evidence["arm_span_cm"] == MORPHOLOGY.arm_span_cm
    assert item.evidence["hand_span_cm"] == pytest.approx(145.0, abs=5.0)


def test_a_comfortable_span_is_no_overreach() -> None:
    assert analysed(span_move(to=195.0)).of("overreach") == []


def test_a_wandering_body_is_an_inefficient_path() -> None:
    result = analysed(hand_move(wander_cm=15.0))

    [item] = result.of("inefficient_path")
    assert item.move_index == 0
    assert item.evidence["efficiency"] < 0.6
    assert item.evidence["cog_path_cm"] > item.evidence["cog_chord_cm"]


def test_a_direct_move_is_efficient() -> None:
    assert analysed(hand_move()).of("inefficient_path") == []


@pytest.mark.parametrize(
    ("rule_id", "triggering", "quiet"),
    [
        (
            "hips_far_from_wall",
            lambda noise: hand_move(hip_depth=65.0, shoulder_depth=35.0, noise_cm=noise),
            lambda noise: hand_move(noise_cm=noise),
        ),
        (
            "feet_cut",
            lambda noise: feet_off(both=True, noise_cm=noise),
            lambda noise: feet_off(both=False, noise_cm=noise),
        ),
        (
            "barn_door",
            lambda noise: one_sided(left_foot_on=False, noise_cm=noise),
            lambda noise: one_sided(left_foot_on=True, noise_cm=noise),
        ),
    ],
)
def test_decisions_survive_landmark_jitter(
    rule_id: str,
    triggering: Callable[[float], SkeletonTimeline],
    quiet: Callable[[float], SkeletonTimeline],
) -> None:
    # 1 cm of jitter on every landmark of every frame, about what a pose model leaves.
    assert len(analysed(triggering(1.0)).of(rule_id)) == 1
    assert analysed(quiet(1.0)).of(rule_id) == []
