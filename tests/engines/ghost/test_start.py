import numpy as np
import pytest

from engines.ghost import GhostInputError, default_start, start_route_color
from engines.limbs import Limb
from engines.pose.timeline import FrameQuality
from schema.holds import Hold, HoldMap
from tests.engines.ghost import synthetic

pytestmark = pytest.mark.unit


def climber_and_contacts():
    lengths = synthetic.Lengths.for_stature(0.4)
    points = synthetic.pose(lengths, (0.28, 0.74))
    timeline = synthetic.timeline([points] * 12)
    return timeline, {limb: synthetic.contact_point(points, limb) for limb in Limb}


def hold(hold_id, xy, hold_type="jug", polygon=()):
    return Hold(
        id=hold_id, x=xy[0] / synthetic.ASPECT, y=xy[1], type=hold_type, polygon=list(polygon)
    )


def test_each_limb_takes_the_nearest_hold_within_reach():
    timeline, contact = climber_and_contacts()
    offset = np.array([0.01, 0.0])
    holds = [
        hold("lh", contact[Limb.LEFT_HAND] + offset),
        hold("lh-decoy", contact[Limb.LEFT_HAND] + 4 * offset),
        hold("rh", contact[Limb.RIGHT_HAND] - offset),
        hold("lf", contact[Limb.LEFT_FOOT], "foot_chip"),
        # The right foot is on the ground: the nearest hold is far away.
        hold("high", contact[Limb.RIGHT_FOOT] - np.array([0.0, 0.2])),
    ]
    start = default_start(timeline, HoldMap(synthetic.WIDTH, synthetic.HEIGHT, holds))
    assert start == {
        Limb.LEFT_HAND: "lh",
        Limb.RIGHT_HAND: "rh",
        Limb.LEFT_FOOT: "lf",
        Limb.RIGHT_FOOT: None,
    }


def test_hands_skip_foot_only_holds_and_outlines_count():
    timeline, contact = climber_and_contacts()
    near = contact[Limb.LEFT_HAND]
    # A big volume whose centre is beyond the radius but whose outline reaches the hand.
    centre = near + np.array([-0.1, 0.0])
    outline = [
        ((centre[0] + dx) / synthetic.ASPECT, centre[1] + dy)
        for dx, dy in ((-0.1, -0.1), (0.1, -0.1), (0.1, 0.1), (-0.1, 0.1))
    ]
    holds = [hold("chip", near, "foot_chip"), hold("volume", centre, "volume", outline)]
    start = default_start(timeline, HoldMap(synthetic.WIDTH, synthetic.HEIGHT, holds), radius=0.02)
    assert start[Limb.LEFT_HAND] == "volume"


def test_only_the_first_good_frames_count():
    lengths = synthetic.Lengths.for_stature(0.4)
    low = synthetic.pose(lengths, (0.28, 0.74))
    high = synthetic.pose(lengths, (0.28, 0.5))
    timeline = synthetic.timeline([low] * 2 + [high] * 20, missing=(0,))
    holds = [
        hold("low", synthetic.contact_point(low, Limb.LEFT_HAND)),
        hold("high", synthetic.contact_point(high, Limb.LEFT_HAND)),
    ]
    hold_map = HoldMap(synthetic.WIDTH, synthetic.HEIGHT, holds)
    assert default_start(timeline, hold_map, frames=1)[Limb.LEFT_HAND] == "low"
    assert default_start(timeline, hold_map, frames=10)[Limb.LEFT_HAND] == "high"


def test_no_pose_at_all_is_a_clear_error():
    timeline, _ = climber_and_contacts()
    timeline.quality[:] = FrameQuality.MISSING
    with pytest.raises(GhostInputError, match="no frame has a pose"):
        default_start(timeline, HoldMap(synthetic.WIDTH, synthetic.HEIGHT, []))


def test_route_colour_is_what_both_start_hands_share():
    holds = [
        Hold(id="a", x=0.1, y=0.5, type="jug", color="red"),
        Hold(id="b", x=0.2, y=0.5, type="jug", color="red"),
        Hold(id="c", x=0.3, y=0.5, type="jug", color="blue"),
        Hold(id="d", x=0.4, y=0.5, type="jug"),
    ]
    hold_map = HoldMap(synthetic.WIDTH, synthetic.HEIGHT, holds)
    hands = (Limb.LEFT_HAND, Limb.RIGHT_HAND)
    assert start_route_color(dict(zip(hands, ("a", "b"), strict=True)), hold_map) == "red"
    assert start_route_color(dict(zip(hands, ("a", "c"), strict=True)), hold_map) is None
    assert start_route_color(dict(zip(hands, ("d", "d"), strict=True)), hold_map) is None
    assert start_route_color({Limb.LEFT_HAND: "a"}, hold_map) is None


def test_two_feet_start_on_one_hold_only_on_a_volume():
    timeline, contact = climber_and_contacts()
    left, right = contact[Limb.LEFT_FOOT], contact[Limb.RIGHT_FOOT]
    # A chip between the feet, a little nearer the left one, and a hold just beyond it.
    chip = left + 0.45 * (right - left)
    radius = float(np.linalg.norm(right - left))
    beyond = right + 0.7 * (right - left)

    def start(*holds: Hold) -> dict[Limb, str | None]:
        hold_map = HoldMap(synthetic.WIDTH, synthetic.HEIGHT, list(holds))
        return default_start(timeline, hold_map, radius=radius)

    # The nearer foot keeps the chip; the other takes its next hold, or none.
    with_other = start(hold("chip", chip, "foot_chip"), hold("other", beyond, "foot_chip"))
    assert (with_other[Limb.LEFT_FOOT], with_other[Limb.RIGHT_FOOT]) == ("chip", "other")
    alone = start(hold("chip", chip, "foot_chip"))
    assert (alone[Limb.LEFT_FOOT], alone[Limb.RIGHT_FOOT]) == ("chip", None)
    # Both feet fit on a volume.
    volume = start(hold("volume", chip, "volume"), hold("other", beyond, "foot_chip"))
    assert volume[Limb.LEFT_FOOT] == volume[Limb.RIGHT_FOOT] == "volume"
