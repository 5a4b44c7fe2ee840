"""Run every registered advice rule over a climb."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from engines.advice import rules_flow, rules_footwork, rules_posture
from engines.advice.context import AdviceContext
from engines.advice.model import RULES, AdviceItem
from engines.biomech import Biomechanics
from engines.contacts import ContactTrack, Move
from engines.pose.timeline import SkeletonTimeline
from schema.analysis import Morphology
from schema.holds import HoldMap

logger = logging.getLogger(__name__)

# The rule modules register themselves on import; naming them keeps that import explicit.
RULE_MODULES = (rules_posture, rules_footwork, rules_flow)


def generate_advice(
    timeline: SkeletonTimeline,
    track: ContactTrack,
    moves: Sequence[Move],
    biomech: Biomechanics,
    hold_map: HoldMap,
    morphology: Morphology,
    *,
    rules: Iterable[str] | None = None,
) -> list[AdviceItem]:
    """Coaching advice for one climb.

    Args:
        timeline: the climber's skeleton.
        track: contacts from `engines.contacts.track_contacts`.
        moves: moves from `engines.contacts.find_moves`.
        biomech: from `engines.biomech.analyse` on the same inputs.
        hold_map: the validated holds.
        morphology: the climber's body (the scale in ``biomech`` already accounts for it).
        rules: ids of the rules to run (default: all of `RULES`).

    Returns:
        Advice ordered by start time, then rule id; deterministic for the same inputs.

    Raises:
        KeyError: an unknown rule id.
        ValueError: inputs of different climbs (frame counts or move counts disagree).
    """
    if len(biomech.moves) != len(moves):
        raise ValueError("biomechanics were computed for a different move list")
    ctx = AdviceContext(timeline, track, moves, biomech, hold_map, morphology)
    selected = [RULES[rule_id] for rule_id in (RULES if rules is None else rules)]
    items: list[AdviceItem] = []
    for rule in selected:
        found = rule.check(ctx)
        if any(item.rule_id != rule.id for item in found):
            raise ValueError(f"rule {rule.id!r} produced items of another rule")
        items.extend(found)
    logger.info(
        "%d advice items from %d rules over %d moves", len(items), len(selected), len(moves)
    )
    return sorted(items, key=lambda item: (item.start_s, item.rule_id, item.end_s))
