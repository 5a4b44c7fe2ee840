import numpy as np
import pytest

from engines.errors import EngineInputError
from engines.ghost import GhostInputError, body_model
from engines.pose.timeline import FrameQuality
from schema.analysis import Morphology
from tests.engines.ghost import synthetic

pytestmark = pytest.mark.unit


def test_segment_lengths_are_the_climbers_own_despite_gaps_and_outliers():
    truth = synthetic.Lengths.for_stature(0.4)
    body = body_model(synthetic.climber(stature=0.4), Morphology())

    for name in ("upper_arm", "forearm", "thigh", "shin", "torso", "shoulder_width", "hip_width"):
        assert getattr(body, name) == pytest.approx(getattr(truth, name), rel=0.01), name
    assert body.head == pytest.approx(truth.head, rel=0.01)
    assert body.stature == pytest.approx(0.4, rel=0.02)
    assert body.aspect == pytest.approx(synthetic.ASPECT)
    assert body.frames_used == 28  # 30 frames, two missing
    assert body.reach_source == "skeleton"
    assert body.units_per_cm is None


def test_lengths_are_aspect_corrected():
    """A horizontal segment measured in normalised x must come out in frame heights."""
    body = body_model(synthetic.climber(stature=0.4))
    # Shoulder width is purely horizontal in the synthetic pose: normalised it is 0.08 / aspect.
    assert body.shoulder_width == pytest.approx(0.08, rel=0.01)


def test_rigid_hand_and_foot_frames_match_the_skeleton():
    truth = synthetic.Lengths.for_stature(0.4)
    body = body_model(synthetic.climber(stature=0.4))

    hand = truth.hand
    expected = [[hand, -0.3 * hand], [hand, 0.3 * hand], [0.5 * hand, 0.6 * hand]]
    np.testing.assert_allclose(body.hand_offsets[0], expected, atol=1e-6)
    np.testing.assert_allclose(
        body.foot_offsets[1], [[-0.25 * truth.foot, 0], [truth.foot, 0]], atol=1e-6
    )
    # The synthetic toes point 60° outwards from the shin.
    np.testing.assert_allclose(body.rest_end_angles, np.deg2rad([0, 0, 60, -60]), atol=1e-5)


def test_profile_ape_index_sets_the_arm_length():
    timeline = synthetic.climber(stature=0.4)
    plain = body_model(timeline, Morphology(height_cm=170, arm_span_cm=170))
    long_arms = body_model(timeline, Morphology(height_cm=170, arm_span_cm=180))

    assert long_arms.reach_source == "profile"
    assert long_arms.arm_span > plain.arm_span
    assert long_arms.max_hand_reach > plain.max_hand_reach
    # The extra 10 cm of span splits over both arms, scaled by the skeleton's cm per unit.
    cm = plain.stature / 170
    assert long_arms.arm_span - plain.arm_span == pytest.approx(10 * cm, rel=0.02)
    assert long_arms.units_per_cm == pytest.approx(cm)
    assert long_arms.thigh == plain.thigh  # legs stay the skeleton's


def test_height_alone_gives_the_scale_but_keeps_the_skeletons_reach():
    timeline = synthetic.climber(stature=0.4)
    body = body_model(timeline, Morphology(height_cm=180))
    assert body.reach_source == "skeleton"
    assert body.units_per_cm == pytest.approx(0.4 / 180, rel=0.02)
    assert body.max_hand_reach == pytest.approx(body_model(timeline).max_hand_reach)


def test_reach_limits_come_from_the_segments():
    body = body_model(synthetic.climber(stature=0.4))
    arm = body.upper_arm + body.forearm
    leg = body.thigh + body.shin
    assert 0.9 * arm < body.max_hand_reach < arm + synthetic.Lengths.for_stature(0.4).hand
    assert 0.9 * leg < body.max_foot_reach < leg + synthetic.Lengths.for_stature(0.4).foot


def test_a_skeleton_without_a_torso_is_a_clear_input_error():
    timeline = synthetic.climber()
    timeline.landmarks[:, 23:25] = np.nan  # hips never seen
    with pytest.raises(GhostInputError, match="whole body") as caught:
        body_model(timeline)
    assert isinstance(caught.value, EngineInputError)


def test_interpolated_frames_are_used_when_nothing_was_detected():
    timeline = synthetic.climber()
    timeline.quality[timeline.quality == FrameQuality.DETECTED] = FrameQuality.INTERPOLATED
    body = body_model(timeline)
    assert body.torso == pytest.approx(synthetic.Lengths.for_stature(0.4).torso, rel=0.01)


def test_an_upper_quantile_sees_through_foreshortened_limbs():
    truth = synthetic.Lengths.for_stature(0.4)
    # Forearms turned towards the camera in most frames look 30 % short; never longer.
    short_arms = synthetic.Lengths(**{**truth.__dict__, "forearm": 0.7 * truth.forearm})
    frames = [synthetic.pose(short_arms, (0.28, 0.74)) for _ in range(12)]
    frames += [synthetic.pose(truth, (0.28, 0.74)) for _ in range(8)]
    timeline = synthetic.timeline(frames)
    # The median alone would read 0.7; the human range holds it at 0.9 of its usual share.
    held = body_model(timeline, limb_quantile=0.5).forearm
    assert held == pytest.approx(0.9 * truth.forearm, rel=0.03)
    assert body_model(timeline).forearm == pytest.approx(truth.forearm, rel=0.01)
    with pytest.raises(ValueError, match="limb_quantile"):
        body_model(timeline, limb_quantile=1.0)
