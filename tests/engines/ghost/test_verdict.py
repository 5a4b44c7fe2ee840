"""The ghost says when the climber's own sequence was already the best one it found."""

import pytest

from engines.ghost import GhostVerdict, body_model, judge, plan_following, plan_sequence
from engines.ghost.errors import NoRouteError
from engines.ghost.verdict import MIN_SAVING, SAME_MESSAGE, hand_sequence, judge_efforts
from engines.limbs import Limb
from tests.engines.ghost import synthetic
from tests.engines.ghost.test_planner import LADDER_START

pytestmark = pytest.mark.unit

LH, RH = Limb.LEFT_HAND, Limb.RIGHT_HAND
#: Every rung of the ladder, hand over hand: what a cautious climber does.
EVERY_RUNG = [(LH, "L5"), (RH, "R5"), (LH, "L6"), (RH, "R6"), (LH, "L7"), (RH, "R7"), (LH, "top")]


@pytest.fixture(scope="module")
def body():
    return body_model(synthetic.climber(stature=0.4))


@pytest.fixture(scope="module")
def plan(body):
    return plan_sequence(synthetic.ladder(), body, LADDER_START)


def price(body):
    return lambda hands: plan_following(synthetic.ladder(), body, LADDER_START, hands)


def test_the_climbers_own_sequence_is_said_to_be_the_best(plan, body):
    ghost_hands = [(m.limb, m.to_hold) for m in plan.moves if m.limb.is_hand]
    # The climber also let go of the top with one hand and took it again: after the top hold
    # nothing counts.
    climber = [*ghost_hands, (RH, "R7"), (RH, "top")]

    verdict = judge(plan, climber, price(body))

    assert verdict == GhostVerdict("same_as_climber", SAME_MESSAGE, plan.cost)
    assert verdict.to_dict()["climber_effort"] is None


def test_a_sequence_with_fewer_moves_is_a_better_one(plan, body):
    verdict = judge(plan, EVERY_RUNG, price(body))

    assert verdict is not None and verdict.verdict == "better_sequence"
    assert verdict.climber_effort is not None
    assert verdict.climber_effort > plan.cost / (1 - MIN_SAVING)
    assert "less effort" in verdict.message
    hands = [m for m in plan.moves if m.limb.is_hand]
    assert len(hands) < len(EVERY_RUNG)


def test_the_climbers_sequence_is_priced_with_the_planners_own_costs(plan, body):
    followed = plan_following(synthetic.ladder(), body, LADDER_START, EVERY_RUNG)

    assert (
        hand_sequence([(m.limb, m.to_hold) for m in followed.moves], LADDER_START, "top")
        == EVERY_RUNG
    )
    assert followed.states[-1][LH] == followed.states[-1][RH] == "top"
    assert followed.cost > plan.cost
    # The planner's own plan, followed, costs what it cost.
    ours = [(m.limb, m.to_hold) for m in plan.moves if m.limb.is_hand]
    assert plan_following(synthetic.ladder(), body, LADDER_START, ours).cost == pytest.approx(
        plan.cost
    )


def test_a_different_sequence_of_the_same_effort_is_no_improvement(plan, body):
    ghost_hands = hand_sequence([(m.limb, m.to_hold) for m in plan.moves], LADDER_START, "top")
    # The ghost's hands in the other order: left first, on the symmetric ladder.
    mirrored = [(LH, "L6"), (RH, "R6"), (LH, "top")]
    assert ghost_hands == [(RH, "R6"), (LH, "L6"), (RH, "top")]

    verdict = judge(plan, mirrored, price(body))

    assert verdict is not None and verdict.verdict == "same_as_climber"
    assert verdict.climber_effort == pytest.approx(plan.cost, rel=MIN_SAVING)
    assert "no sequence clearly easier" in verdict.message


def test_a_sequence_beyond_the_measured_reach_is_not_priced(plan, body):
    def unclimbable(hands: list[tuple[Limb, str]]):
        raise NoRouteError("beyond reach")

    verdict = judge(plan, [(LH, "L7"), (RH, "top")], unclimbable)

    assert verdict is not None and verdict.verdict == "better_sequence"
    assert verdict.climber_effort is None


def test_no_hand_move_means_no_verdict(plan, body):
    start_again = [(LH, "L4"), (Limb.LEFT_FOOT, "L1")]
    assert judge(plan, start_again, price(body)) is None
    assert judge(plan, [], price(body)) is None


@pytest.mark.parametrize(
    ("ghost", "climber", "verdict"),
    [
        (10.0, 10.0, "same_as_climber"),
        (10.0, 10.4, "same_as_climber"),  # under 5 %: noise, not a lesson
        (10.0, 11.0, "better_sequence"),
        (12.0, 10.0, "same_as_climber"),  # the search found worse than the climber did
    ],
)
def test_only_a_clear_saving_is_better(ghost, climber, verdict):
    assert judge_efforts(ghost, climber).verdict == verdict
