"""Footwork rules: cutting feet, flagging without matching."""

from __future__ import annotations

from typing import Final

import numpy as np

from engines.advice.context import AdviceContext, runs
from engines.advice.model import AdviceItem, rule
from engines.limbs import Limb

#: Both feet off the holds (hands still on) for at least this long is a cut, not a foot swap.
FEET_CUT_MIN_S: Final = 0.3
#: ... and a long one beyond this: the climber campused the section.
FEET_CUT_LONG_S: Final = 1.5

#: A free foot this far sideways from the hips (fraction of stature, ~35 cm at 175 cm) while the
#: other foot stands on a hold is flagging: the leg counterbalances instead of standing.
FLAG_LATERAL_FRACTION: Final = 0.2
#: A flag lasts at least this long (shorter is a foot passing by).
FLAG_MIN_S: Final = 0.3
#: A hand move during a flag, unmatched, whose target lies this far sideways from the other
#: hand (fraction of arm span) would have been shorter after matching hands first.
MATCH_REACH_FRACTION: Final = 0.5

_FEET = (Limb.LEFT_FOOT, Limb.RIGHT_FOOT)


@rule("feet_cut")
def feet_cut(ctx: AdviceContext) -> list[AdviceItem]:
    """Feet cutting loose: both feet off the holds while hanging on the hands mid-climb.

    Triggers when both feet leave the holds for `FEET_CUT_MIN_S` between the first and last foot
    placement (standing on the ground before the start is no cut); critical from
    `FEET_CUT_LONG_S`.
    """
    contact = ctx.biomech.contact
    footed = np.flatnonzero(contact[:, 2:].any(axis=1))
    if footed.size == 0:
        return []
    cut = ctx.timeline.has_pose & ~contact[:, 2:].any(axis=1) & contact[:, :2].any(axis=1)
    cut[: footed[0]] = False
    cut[footed[-1] :] = False
    items = []
    for start, stop in runs(cut):
        duration = ctx.seconds(start, stop)
        if duration < FEET_CUT_MIN_S:
            continue
        move = ctx.move_at(start)
        items.append(
            ctx.item(
                "feet_cut",
                severity="critical" if duration >= FEET_CUT_LONG_S else "warning",
                time_range=ctx.time_range(start, stop),
                move_index=move.index if move else None,
                limbs=_FEET,
                holds=ctx.holds_of(_FEET, max(start - 1, 0), start),
                message_en=(
                    f"Your feet came off for {duration:.1f} s. Keep them on and push with your "
                    "legs; if they slip, look for a higher or better foothold first."
                ),
                evidence={
                    "duration_s": duration,
                    "hand_force_bw": float(np.nanmean(ctx.biomech.hand_force[start:stop])),
                    "threshold_s": FEET_CUT_MIN_S,
                },
            )
        )
    return items


def _flags(ctx: AdviceContext) -> list[tuple[int, int, Limb, float]]:
    """``(start, stop, flagging foot, median sideways offset cm)`` of every flag."""
    contact = ctx.biomech.contact
    found = []
    for column, foot in ((2, Limb.LEFT_FOOT), (3, Limb.RIGHT_FOOT)):
        other = 5 - column
        offset = np.abs(ctx.limb_cm[:, column, 0] - ctx.hips_cm[:, 0])
        flagging = (
            ~contact[:, column]
            & contact[:, other]
            & (np.nan_to_num(offset) > FLAG_LATERAL_FRACTION * ctx.height_cm)
        )
        for start, stop in runs(flagging):
            if ctx.seconds(start, stop) >= FLAG_MIN_S:
                found.append((start, stop, foot, float(np.median(offset[start:stop]))))
    return found


@rule("missed_match_before_flag")
def missed_match_before_flag(ctx: AdviceContext) -> list[AdviceItem]:
    """Flagging into a long reach without matching hands first.

    Triggers for a hand move made while a foot flags, when the other hand was on a different hold
    than the moving one and the target lies at least `MATCH_REACH_FRACTION` of the arm span
    sideways from the other hand's hold: matching first would have shortened it.
    """
    items = []
    flags = _flags(ctx)
    for move in ctx.moves:
        if not move.limb.is_hand or move.from_hold is None:
            continue
        other = Limb.RIGHT_HAND if move.limb is Limb.LEFT_HAND else Limb.LEFT_HAND
        other_hold = ctx.track.hold_id(move.start_frame, other)
        if other_hold is None or other_hold == move.from_hold:
            continue
        lateral = abs(float(ctx.hold_cm[move.to_hold][0] - ctx.hold_cm[other_hold][0]))
        if lateral < MATCH_REACH_FRACTION * ctx.arm_span_cm:
            continue
        overlapping = [f for f in flags if f[0] < move.end_frame and f[1] > move.start_frame]
        if not overlapping:
            continue
        start, stop, foot, offset = max(overlapping, key=lambda f: f[1] - f[0])
        items.append(
            ctx.item(
                "missed_match_before_flag",
                severity="info",
                time_range=(move.start_s, move.end_s),
                move_index=move.index,
                limbs=[move.limb, other, foot],
                holds=[move.from_hold, other_hold, move.to_hold],
                message_en=(
                    f"Move {move.index + 1}: you flagged and reached {lateral:.0f} cm across. "
                    f"Matching hands on {move.from_hold} before flagging would shorten the reach."
                ),
                evidence={
                    "lateral_reach_cm": lateral,
                    "flag_offset_cm": offset,
                    "flag_s": ctx.seconds(start, stop),
                    "threshold_cm": MATCH_REACH_FRACTION * ctx.arm_span_cm,
                },
            )
        )
    return items
