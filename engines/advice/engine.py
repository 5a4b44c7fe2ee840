"""Run every registered advice rule over a climb, merge what repeats, rank, and keep the best few.

A climber reads a handful of items, not one per move: each rule's findings become one item that
lists its occurrences (moves and times) and quotes the worst of them. Items are ranked by what
would help this climber most, `score`: how bad (severity), how often (occurrences, with
diminishing returns) and how sure (confidence); `MAX_ITEMS` are kept.

*What can be critical* ("the thing to fix first"): only a finding the video shows clearly and
for long enough. A rule marks a finding critical only when its fault is severe *and* sustained,
held for the rule's own minimum time: both feet off for
`engines.advice.rules_footwork.FEET_CUT_LONG_S`, hovering mid-move for
`engines.advice.rules_flow.LONG_HESITATION_S`, a rest of `engines.advice.rules_posture.REST_MIN_S`
on very bent arms, a barn door beyond its critical moment for
`engines.advice.rules_posture.BARN_DOOR_CRITICAL_S`, a near-maximal span held for
`engines.advice.rules_posture.OVERREACH_CRITICAL_HELD_S` (each rule's docstring says how). Every
rule measures only on frames where the limbs concerned are seen, and reports nothing when they
are seen on less than `engines.advice.context.MIN_SEEN_SHARE` of the finding. The engine then
keeps a merged item critical only when (1) its confidence reaches `CRITICAL_MIN_CONFIDENCE` (a
figure the video shows, not a proxy: the hip-to-wall depth is never critical), and (2) a hand
was seen on a hold somewhere in the climb (`AdviceContext.holds_read`): a climber never seen
holding on is a climb whose contacts were not read, and nothing in it can be the thing to fix
first. The findings behind a critical item keep their own severity in ``occurrences``.

A climb without any hand on a hold gets one info item, `HOLDS_UNREAD_ID`, first: the hold
contacts could not be read, so the advice on moves is limited (the rules that need a hand on a
hold say nothing rather than guess).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Final

from engines.advice import rules_flow, rules_footwork, rules_posture
from engines.advice.context import AdviceContext
from engines.advice.model import RULES, SEVERITY_RANK, AdviceItem, Rule, Severity
from engines.biomech import Biomechanics
from engines.contacts import ContactTrack, Move
from engines.pose.timeline import SkeletonTimeline
from schema.analysis import Morphology
from schema.holds import HoldMap

logger = logging.getLogger(__name__)

# The rule modules register themselves on import; naming them keeps that import explicit.
RULE_MODULES = (rules_posture, rules_footwork, rules_flow)

#: Items returned by default: a climber acts on a few things per session, not on a list.
MAX_ITEMS: Final = 5
#: Weight of each severity in `score`.
SEVERITY_WEIGHT: Final[dict[Severity, float]] = {"info": 1.0, "warning": 2.0, "critical": 4.0}
#: A merged item is critical only when its confidence reaches this: "the thing to fix first" must
#: rest on a figure the video shows, not on a proxy.
CRITICAL_MIN_CONFIDENCE: Final = 0.75
#: ``rule_id`` of the notice that no hand was seen on a hold (not a registered rule: it comes from
#: the inputs, not from a coaching check, and no drill answers it).
HOLDS_UNREAD_ID: Final = "hand_contacts_unread"
#: Occurrences named one by one in the merged message (all of them are in ``occurrences``).
LISTED_OCCURRENCES: Final = 6


def generate_advice(
    timeline: SkeletonTimeline,
    track: ContactTrack,
    moves: Sequence[Move],
    biomech: Biomechanics,
    hold_map: HoldMap,
    morphology: Morphology,
    *,
    rules: Iterable[str] | None = None,
    max_items: int | None = MAX_ITEMS,
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
        max_items: how many items to keep (default `MAX_ITEMS`); None keeps them all.

    Returns:
        At most ``max_items`` items, one per rule that fired (its findings merged, see
        `merge_findings`), best first by `score`; deterministic for the same inputs. Without any
        hand on a hold, the `HOLDS_UNREAD_ID` notice comes first (see the module docstring).

    Raises:
        KeyError: an unknown rule id.
        ValueError: inputs of different climbs (frame counts or move counts disagree).
    """
    if len(biomech.moves) != len(moves):
        raise ValueError("biomechanics were computed for a different move list")
    ctx = AdviceContext(timeline, track, moves, biomech, hold_map, morphology)
    selected = [RULES[rule_id] for rule_id in (RULES if rules is None else rules)]
    items: list[AdviceItem] = []
    findings = 0
    for rule in selected:
        found = rule.check(ctx)
        if any(item.rule_id != rule.id for item in found):
            raise ValueError(f"rule {rule.id!r} produced items of another rule")
        findings += len(found)
        if found:
            items.append(merge_findings(rule, found, holds_read=ctx.holds_read))
    ranked = rank(items)
    if not ctx.holds_read:
        # It says how to read everything else, so it comes first.
        ranked.insert(0, holds_unread(ctx))
    kept = ranked if max_items is None else ranked[: max(max_items, 0)]
    logger.info(
        "%d findings from %d rules over %d moves: %d items, %d kept",
        findings,
        len(selected),
        len(moves),
        len(items),
        len(kept),
    )
    return kept


def merge_findings(
    rule: Rule, found: Sequence[AdviceItem], *, holds_read: bool = True
) -> AdviceItem:
    """One item standing for all of a rule's findings.

    It quotes the worst finding (highest severity, then the worst `Rule.measure`, then the
    earliest): its move, time range, evidence and message, the message prefixed with where else
    the finding was seen. Limbs and holds gather every finding's; ``occurrences`` lists each in
    time order. The confidence is the rule's times the findings' mean. The severity is the worst
    finding's, but never critical below `CRITICAL_MIN_CONFIDENCE`, nor when ``holds_read`` is
    False (no hand was ever seen on a hold): see the module docstring.
    """
    ordered = sorted(found, key=lambda item: (item.start_s, item.end_s))
    worst = max(ordered, key=lambda item: _badness(rule, item))
    confidence = rule.confidence * sum(item.confidence for item in ordered) / len(ordered)
    severity = worst.severity
    if severity == "critical" and (confidence < CRITICAL_MIN_CONFIDENCE or not holds_read):
        severity = "warning"
    message = worst.message_en
    if len(ordered) > 1:
        message = f"{rule.title} {_where(ordered)}. {message}"
    return replace(
        worst,
        limbs=tuple(dict.fromkeys(limb for item in ordered for limb in item.limbs)),
        holds=tuple(dict.fromkeys(hold for item in ordered for hold in item.holds)),
        severity=severity,
        message_en=message,
        evidence={**worst.evidence, "occurrences": float(len(ordered))},
        confidence=confidence,
        occurrences=tuple(item.occurrence() for item in ordered),
    )


def holds_unread(ctx: AdviceContext) -> AdviceItem:
    """The `HOLDS_UNREAD_ID` notice: no hand was seen on a hold, so move advice is limited."""
    contact = ctx.biomech.contact
    feet_s = float(contact[:, 2:].any(axis=1).sum() * ctx.frame_s())
    start, stop = ctx.time_range(0, len(ctx.times))
    item = AdviceItem(
        rule_id=HOLDS_UNREAD_ID,
        move_index=None,
        start_s=start,
        end_s=stop,
        limbs=("left_hand", "right_hand"),
        holds=(),
        severity="info",
        message_key=f"advice.{HOLDS_UNREAD_ID}",
        message_en=(
            "No hand was seen on a hold in this climb, so the hold contacts could not be read "
            "and the advice on your moves is limited. Check that the hold map marks the holds "
            "you used and that your hands stay in the picture."
        ),
        evidence={"hand_contact_s": 0.0, "foot_contact_s": feet_s, "climb_s": stop - start},
    )
    return replace(item, occurrences=(item.occurrence(),))


def score(item: AdviceItem) -> float:
    """How much acting on ``item`` would help: ``severity weight * sqrt(occurrences) * confidence``.

    The square root lets a finding seen on many moves outrank a one-off of the same severity
    without ten small tips outranking one critical fault.
    """
    return (
        SEVERITY_WEIGHT[item.severity] * math.sqrt(max(len(item.occurrences), 1)) * item.confidence
    )


def rank(items: Iterable[AdviceItem]) -> list[AdviceItem]:
    """``items`` best first by `score`; ties by start time, then rule id."""
    return sorted(items, key=lambda item: (-score(item), item.start_s, item.rule_id))


def _badness(rule: Rule, item: AdviceItem) -> tuple[int, float, float]:
    value = item.evidence.get(rule.measure, math.nan)
    oriented = value if rule.higher_is_worse else -value
    return (
        SEVERITY_RANK[item.severity],
        oriented if math.isfinite(oriented) else -math.inf,
        -item.start_s,
    )


def _where(items: Sequence[AdviceItem]) -> str:
    """``on 3 moves: 2 (3.1 s), 5 (7.4 s) and 9 (12.0 s)`` or ``3 times: move 2 at 3.1 s, ...``.

    Moves are named as climbers count them, from 1.
    """
    moves = [item.move_index for item in items]
    distinct = [index for index in moves if index is not None]
    on_moves = len(set(distinct)) == len(items)
    parts = []
    for index, item in zip(moves, items, strict=True):
        when = f"{item.start_s:.1f} s"
        if on_moves:
            parts.append(f"{index + 1 if index is not None else '?'} ({when})")
        else:
            parts.append(f"move {index + 1} at {when}" if index is not None else f"at {when}")
    if len(parts) > LISTED_OCCURRENCES:
        shown, rest = parts[:LISTED_OCCURRENCES], len(parts) - LISTED_OCCURRENCES
        listed = ", ".join(shown) + f" and {rest} more"
    else:
        listed = ", ".join(parts[:-1]) + f" and {parts[-1]}"
    return f"on {len(items)} moves: {listed}" if on_moves else f"{len(items)} times: {listed}"
