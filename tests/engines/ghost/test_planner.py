import numpy as np
import pytest

from engines.errors import EngineInputError
from engines.ghost import GhostInputError, NoRouteError, body_model, plan_sequence
from engines.ghost.geometry import anchor_offsets, hold_positions
from engines.ghost.space import LIMBS, ClimbSpace, Wall
from engines.limbs import Limb
from schema.holds import Hold, HoldMap
from tests.engines.ghost import synthetic

pytestmark = pytest.mark.unit

LADDER_START = {
    Limb.LEFT_HAND: "L4",
    Limb.RIGHT_HAND: "R4",
    Limb.LEFT_FOOT: "L0",
    Limb.RIGHT_FOOT: "R0",
}
JUG_START = {
    Limb.LEFT_HAND: "sl",
    Limb.RIGHT_HAND: "sr",
    Limb.LEFT_FOOT: "fl0",
    Limb.RIGHT_FOOT: "fr0",
}


@pytest.fixture(scope="module")
def short():
    return body_model(synthetic.climber(stature=0.4))


@pytest.fixture(scope="module")
def tall():
    return body_model(synthetic.climber(stature=0.5))


@pytest.fixture(scope="module")
def ladder_plan(short):
    return plan_sequence(synthetic.ladder(), short, LADDER_START)


def test_reaches_the_top_of_a_ladder_one_limb_at_a_time(ladder_plan):
    plan = ladder_plan
    assert plan.finish_hold == "top"
    assert plan.states[0] == LADDER_START
    assert plan.states[-1][Limb.LEFT_HAND] == plan.states[-1][Limb.RIGHT_HAND] == "top"
    assert len(plan.moves) == len(plan.states) - 1 >= 4
    for move, before, after in zip(plan.moves, plan.states[:-1], plan.states[1:], strict=True):
        changed = [limb for limb in Limb if before[limb] != after[limb]]
        assert changed == [move.limb]
        assert (move.from_hold, move.to_hold) == (before[move.limb], after[move.limb])
    assert plan.cost == pytest.approx(sum(m.cost for m in plan.moves))
    assert all(m.cost >= 1.0 for m in plan.moves)


def test_every_planned_state_fits_the_body(ladder_plan, short):
    where = hold_positions(synthetic.ladder(), short.aspect)
    reach = short.limb_reach
    for k, state in enumerate(ladder_plan.states):
        anchors = ladder_plan.pelvis[k] + anchor_offsets(short, np.array(ladder_plan.lean[k]))
        for i, limb in enumerate(Limb):
            if state[limb] is not None:
                assert np.linalg.norm(where[state[limb]] - anchors[i]) <= reach[i] * (1 + 1e-6)
        hands = [where[state[limb]] for limb in (Limb.LEFT_HAND, Limb.RIGHT_HAND)]
        assert (
            np.linalg.norm(hands[0] - hands[1]) <= 2 * short.max_hand_reach + short.shoulder_width
        )
        feet_y = [where[state[limb]][1] for limb in (Limb.LEFT_FOOT, Limb.RIGHT_FOOT)]
        if k > 0:  # the start is whatever the climber did; planned states keep feet below hands
            assert min(feet_y) > max(h[1] for h in hands)
    assert np.all(ladder_plan.stretch <= 1.0)


def test_planning_is_deterministic(ladder_plan, short):
    again = plan_sequence(synthetic.ladder(), short, LADDER_START)
    assert again.states == ladder_plan.states
    assert again.moves == ladder_plan.moves
    np.testing.assert_array_equal(again.pelvis, ladder_plan.pelvis)


def test_a_taller_climber_skips_a_hold_the_shorter_one_needs(short, tall):
    wall = synthetic.feet_and_jugs(0.32)
    short_plan = plan_sequence(wall, short, JUG_START)
    tall_plan = plan_sequence(wall, tall, JUG_START)

    assert "mid" in short_plan.holds_used
    assert "mid" not in tall_plan.holds_used
    assert len(tall_plan.moves) < len(short_plan.moves)
    # The short climber really needs it: without it there is no way up.
    with pytest.raises(NoRouteError):
        plan_sequence(synthetic.feet_and_jugs(0.32, with_mid=False), short, JUG_START)


def test_a_hold_out_of_reach_is_never_a_target():
    landscape = (1280, 720)
    body = body_model(synthetic.climber(stature=0.4, size=landscape))
    wall = synthetic.ladder(size=landscape)
    # Level with the ladder's middle, 1.2 frame heights to the side: further from every other
    # hold than hand plus foot reach plus the torso between them.
    wall.holds.append(Hold(id="far", x=1.5 / body.aspect, y=0.5, type="jug"))
    plan = plan_sequence(wall, body, LADDER_START, finish="top")
    assert "far" not in plan.holds_used
    assert plan.states[-1][Limb.LEFT_HAND] == "top"
    with pytest.raises(NoRouteError, match="'far'") as caught:
        plan_sequence(wall, body, LADDER_START, finish="far")
    assert isinstance(caught.value, EngineInputError)


def test_hands_never_take_foot_chips_and_one_hand_finish_is_allowed(short):
    wall = synthetic.feet_and_jugs(0.32)
    plan = plan_sequence(wall, short, JUG_START, match_finish=False)
    final = plan.states[-1]
    assert "top" in (final[Limb.LEFT_HAND], final[Limb.RIGHT_HAND])
    for state in plan.states:
        for limb in (Limb.LEFT_HAND, Limb.RIGHT_HAND):
            assert not state[limb].startswith("f")


def test_starting_off_the_wall_puts_limbs_on_holds(short):
    start = {Limb.LEFT_HAND: "L4", Limb.RIGHT_HAND: "R4"}
    plan = plan_sequence(synthetic.ladder(), short, start)
    assert plan.states[0][Limb.LEFT_FOOT] is None
    assert plan.moves[0].from_hold is None or plan.states[-1][Limb.LEFT_FOOT] is not None
    assert plan.states[-1][Limb.RIGHT_HAND] == "top"
    assert np.all(np.isfinite(plan.pelvis))


@pytest.mark.parametrize(
    ("wall", "start", "message"),
    [
        (HoldMap(720, 1280, []), LADDER_START, "empty"),
        (synthetic.ladder(), {Limb.LEFT_HAND: "nowhere"}, "'nowhere'"),
    ],
)
def test_bad_input_is_a_clear_error(short, wall, start, message):
    with pytest.raises(GhostInputError, match=message):
        plan_sequence(wall, short, start)


def test_unknown_finish_is_a_clear_error(short):
    with pytest.raises(GhostInputError, match="finish"):
        plan_sequence(synthetic.ladder(), short, LADDER_START, finish="summit")


def test_a_route_colour_keeps_hands_on_the_route(short):
    wall = synthetic.ladder()
    for hold in wall.holds:
        hold.color = "blue" if hold.id.startswith("R") else "red"
    plan = plan_sequence(wall, short, LADDER_START, route_color="red")
    hand_moves = [m for m in plan.moves if m.limb.is_hand]
    assert hand_moves and all(not m.to_hold.startswith("R") for m in hand_moves)
    assert any(m.to_hold.startswith("R") for m in plan.moves if not m.limb.is_hand)
    assert plan.finish_hold == "top"


CHIP_START = {
    Limb.LEFT_HAND: "L4",
    Limb.RIGHT_HAND: "R4",
    Limb.LEFT_FOOT: "c0",
    Limb.RIGHT_FOOT: "c1",
}


def _feet_together(state: dict[Limb, str | None]) -> bool:
    return state[Limb.LEFT_FOOT] is not None and state[Limb.LEFT_FOOT] == state[Limb.RIGHT_FOOT]


def test_feet_share_a_small_hold_only_to_match(short):
    # Both feet on one big volume is what this wall makes cheapest: the rule is what stops it.
    volumes = plan_sequence(synthetic.chip_column("volume"), short, CHIP_START, route_color="red")
    assert any(
        _feet_together(a) and _feet_together(b)
        for a, b in zip(volumes.states, volumes.states[1:], strict=False)
    )

    plan = plan_sequence(synthetic.chip_column(), short, CHIP_START, route_color="red")

    assert plan.states[-1][Limb.LEFT_HAND] == plan.states[-1][Limb.RIGHT_HAND] == "top"
    assert not any(
        _feet_together(a) and _feet_together(b)
        for a, b in zip(plan.states, plan.states[1:], strict=False)
    )
    for k, state in enumerate(plan.states):
        if _feet_together(state):  # a match: the foot that was there leaves at once
            assert 0 < k < len(plan.moves)
            joined, leaves = plan.moves[k - 1].limb, plan.moves[k].limb
            assert {joined, leaves} == {Limb.LEFT_FOOT, Limb.RIGHT_FOOT}


def test_after_a_foot_match_only_the_other_foot_moves(short):
    wall = Wall.build(synthetic.chip_column(), short, None, "red")
    space = ClimbSpace(wall, short, match_finish=True)
    at = {hold_id: i for i, hold_id in enumerate(wall.ids)}
    matched = (at["L4"], at["R4"], at["c1"], at["c1"])

    after_left = space.proposals(matched, last=LIMBS.index(Limb.LEFT_FOOT))
    at_start = space.proposals(matched)

    assert after_left and {limb for _, limb in after_left} == {LIMBS.index(Limb.RIGHT_FOOT)}
    assert {limb for _, limb in at_start} == {2, 3}  # a start on one chip: either foot leaves
    # On a volume both feet may stay, so every limb may move.
    roomy = Wall.build(synthetic.chip_column("volume"), short, None, "red")
    assert {limb for _, limb in ClimbSpace(roomy, short, True).proposals(matched, last=2)} == {
        0,
        1,
        2,
        3,
    }
