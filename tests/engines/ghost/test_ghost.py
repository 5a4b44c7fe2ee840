import json

import numpy as np
import pytest

from engines.ghost import GhostResult, NoRouteError, compute_ghost
from engines.limbs import Limb
from engines.pose.timeline import SkeletonTimeline
from schema.analysis import Morphology
from schema.holds import Hold, HoldMap
from tests.engines.ghost import synthetic

pytestmark = pytest.mark.unit

NAMES = {Limb.LEFT_HAND: "sl", Limb.RIGHT_HAND: "sr", Limb.LEFT_FOOT: "fl", Limb.RIGHT_FOOT: "fr"}


def scene(rows: int = 3):
    """A climber standing on four holds for 3 s at 30 fps, and a ladder above the holds."""
    points = synthetic.pose(synthetic.Lengths.for_stature(0.4), (0.28, 0.74))
    timeline = synthetic.timeline([points] * 90)
    contact = {limb: synthetic.contact_point(points, limb) for limb in Limb}
    holds = [(NAMES[limb], *contact[limb]) for limb in Limb]
    hands_y = contact[Limb.LEFT_HAND][1]
    feet_y = contact[Limb.LEFT_FOOT][1]
    for row, y in enumerate(np.arange(feet_y - 0.09, hands_y - rows * 0.09 - 1e-9, -0.09)):
        holds += [(f"L{row}", 0.21, float(y)), (f"R{row}", 0.35, float(y))]
    holds.append(("top", 0.28, hands_y - (rows + 1) * 0.09))
    return timeline, synthetic.wall(holds)


def test_compute_ghost_end_to_end():
    timeline, wall = scene()
    result = compute_ghost(
        timeline, wall, Morphology(height_cm=175, arm_span_cm=178), device=None, iterations=60
    )

    assert isinstance(result, GhostResult)
    assert result.start == NAMES
    assert result.body.reach_source == "profile"
    assert result.plan.finish_hold == "top"
    assert result.key_poses.device == "cpu"  # no GPU on the test machine picks the CPU

    ghost = result.timeline
    assert isinstance(ghost, SkeletonTimeline)
    np.testing.assert_array_equal(ghost.timestamps_s, timeline.timestamps_s)
    assert ghost.landmarks.shape == timeline.landmarks.shape
    assert (ghost.frame_width, ghost.frame_height) == (timeline.frame_width, timeline.frame_height)

    times = result.key_times_s
    assert times[0] == timeline.timestamps_s[0] and times[-1] == pytest.approx(
        timeline.timestamps_s[-1]
    )
    assert len(result.moves) == len(result.plan.moves) >= 2
    for timed, planned in zip(result.moves, result.plan.moves, strict=True):
        assert (timed.limb, timed.from_hold, timed.to_hold) == (
            planned.limb,
            planned.from_hold,
            planned.to_hold,
        )
        assert timed.start_s < timed.end_s
    assert [m.start_s for m in result.moves] == sorted(m.start_s for m in result.moves)
    final = result.plan.states[-1]
    assert final[Limb.LEFT_HAND] == final[Limb.RIGHT_HAND] == "top"

    # The ghost starts on the climber's own start holds and ends with both hands on top.
    def contact(frame: int, limb: Limb) -> np.ndarray:
        points = ghost.landmarks[frame, [int(i) for i in limb.contact_landmarks], :2].mean(axis=0)
        return points * np.array([ghost.aspect, 1.0])

    where = {h.id: np.array([h.x * synthetic.ASPECT, h.y]) for h in wall.holds}
    for limb, hold_id in NAMES.items():
        assert np.linalg.norm(contact(0, limb) - where[hold_id]) < 0.01
    for limb in (Limb.LEFT_HAND, Limb.RIGHT_HAND):
        assert np.linalg.norm(contact(-1, limb) - where["top"]) < 0.01


def test_no_route_reaches_the_caller_as_a_clear_error():
    timeline, wall = scene()
    wall.holds.append(Hold(id="moon", x=0.5, y=0.0, type="jug"))
    wall = HoldMap(wall.image_width, wall.image_height, [h for h in wall.holds if h.id != "top"])
    with pytest.raises(NoRouteError, match="moon"):  # not within six moves
        compute_ghost(timeline, wall, None, iterations=1, max_moves=6)


def test_summary_is_json_ready():
    timeline, wall = scene(rows=1)
    result = compute_ghost(timeline, wall, None, iterations=10)
    summary = json.loads(json.dumps(result.summary()))
    assert summary["finish_hold"] == "top"
    assert summary["start"] == {limb.value: hold for limb, hold in NAMES.items()}
    assert len(summary["moves"]) == len(result.moves)
    assert summary["moves"][0]["limb"] in {limb.value for limb in Limb}
    assert summary["key_times_s"][0] == 0.0
