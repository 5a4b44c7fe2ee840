"""Is the ghost's sequence better than the climber's own? Say so only when it is.

A ghost is shown to a climber as "the better way up". When the planner finds nothing better than
what they did, presenting its plan as an improvement would invent one. So the plan is held
against the climber's hand sequence, both priced by the planner's own effort model: the same hand
sequence, or one that saves less than `MIN_SAVING` of the effort the planner puts on the
climber's, is ``same_as_climber``; only a clear saving is ``better_sequence``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from engines.ghost.errors import GhostInputError
from engines.ghost.planner import Plan
from engines.limbs import Limb

logger = logging.getLogger(__name__)

Verdict = Literal["better_sequence", "same_as_climber"]
BETTER_SEQUENCE: Final = "better_sequence"
SAME_AS_CLIMBER: Final = "same_as_climber"
#: The ghost's plan is better only if it saves at least this fraction of the effort of the
#: climber's sequence: the beam search is not exact and effort is a model, so a few percent are
#: noise, not something to teach a climber.
MIN_SAVING: Final = 0.05

SAME_MESSAGE: Final = (
    "Your sequence was already the most efficient one we found for your body; "
    "the ghost shows it with smoother timing."
)
AS_GOOD_MESSAGE: Final = (
    "We found no sequence clearly easier than yours for your body; "
    "the ghost shows one that takes about the same effort."
)
UNPRICED_MESSAGE: Final = (
    "Your sequence does not fit the reach and joints we measured for you; "
    "the ghost shows one that does."
)

Placement = tuple[Limb, str]


@dataclass(frozen=True)
class GhostVerdict:
    """What the ghost's plan is worth next to the climber's own climb.

    Attributes:
        verdict: ``"better_sequence"`` or ``"same_as_climber"``.
        message: the verdict in words for the climber.
        ghost_effort: the plan's effort (`Plan.cost`).
        climber_effort: the planner's effort for the climber's hand sequence (feet placed as
            cheaply as the rules allow); None when it was not priced (same sequence as the
            ghost's) or cannot be climbed within the measured reach.
    """

    verdict: Verdict
    message: str
    ghost_effort: float
    climber_effort: float | None = None

    def to_dict(self) -> dict[str, str | float | None]:
        """JSON-ready form for the result document's ``ghost_verdict``."""
        return {
            "verdict": self.verdict,
            "message": self.message,
            "ghost_effort": round(self.ghost_effort, 3),
            "climber_effort": (
                None if self.climber_effort is None else round(self.climber_effort, 3)
            ),
        }


def hand_sequence(
    placements: Sequence[Placement], start: Mapping[Limb, str | None], finish: str
) -> list[Placement]:
    """The hand placements that change a hand's hold, from ``start`` up to the first hand on
    ``finish``: the part of a climb the ghost's plan is comparable with (after the top hold,
    the climber may downclimb or let go, the ghost only matches)."""
    held = {hand: start.get(hand) for hand in (Limb.LEFT_HAND, Limb.RIGHT_HAND)}
    sequence: list[Placement] = []
    for limb, hold in placements:
        if not limb.is_hand or held[limb] == hold:
            continue
        held[limb] = hold
        sequence.append((limb, hold))
        if hold == finish:
            break
    return sequence


def judge(
    plan: Plan,
    climber: Sequence[Placement],
    price: Callable[[list[Placement]], Plan],
) -> GhostVerdict | None:
    """The verdict on ``plan`` next to the climber's hand placements.

    Args:
        plan: the ghost's plan.
        climber: the climber's hand placements, in order (`schema.analysis.ClimbReading`'s
            ``hand_sequence``).
        price: plans the climber's sequence (`engines.ghost.planner.plan_following` with the
            ghost's wall, body and start); raises `NoRouteError` when it cannot be climbed.
            Any `GhostInputError` it raises only means the climber's sequence has no price.

    Returns:
        The verdict, or None when the climber made no hand move to compare with.
    """
    start = plan.states[0]
    theirs = hand_sequence(climber, start, plan.finish_hold)
    if not theirs:
        return None
    ours = hand_sequence([(m.limb, m.to_hold) for m in plan.moves], start, plan.finish_hold)
    if ours == theirs:
        return GhostVerdict(SAME_AS_CLIMBER, SAME_MESSAGE, plan.cost)
    try:
        climber_effort = price(theirs).cost
    except GhostInputError as error:  # NoRouteError too: it must not cost the ghost itself
        logger.info("ghost verdict: the climber's sequence cannot be priced: %s", error)
        return GhostVerdict(BETTER_SEQUENCE, UNPRICED_MESSAGE, plan.cost)
    return judge_efforts(plan.cost, climber_effort)


def judge_efforts(ghost_effort: float, climber_effort: float) -> GhostVerdict:
    """The verdict of two different sequences from their efforts."""
    saving = 1.0 - ghost_effort / climber_effort if climber_effort > 0 else 0.0
    if saving < MIN_SAVING:
        return GhostVerdict(SAME_AS_CLIMBER, AS_GOOD_MESSAGE, ghost_effort, climber_effort)
    message = (
        f"The ghost found a sequence that takes about {saving:.0%} less effort for your body "
        "than yours."
    )
    return GhostVerdict(BETTER_SEQUENCE, message, ghost_effort, climber_effort)
