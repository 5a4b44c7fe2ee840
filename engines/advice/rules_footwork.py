"""Footwork rules: cutting feet, flagging without matching."""

from __future__ import annotations

from typing import Final

import numpy as np

from engines.advice.context import MIN_SEEN_SHARE, AdviceContext, runs
from engines.advice.model import AdviceItem, rule
from engines.advice.rules_posture import IMPOSSIBLE_SPAN_FRACTION
from engines.biomech.series import smooth, window_frames
from engines.limbs import Limb

#: Both feet off the holds (hands still on) for at least this long is a cut, not a foot swap.
FEET_CUT_MIN_S: Final = 0.3
#: ... and a long one beyond this: the climber campused the section.
FEET_CUT_LONG_S: Final = 1.5
#: "Off every mapped hold" is not "off the wall": a hold map misses footholds (small edges,
#: smears, volumes), and a climber standing still on them would read as cutting loose. A foot
#: only counts as having come off when, during the spell, it drops at least this far below where
#: it last stood (fraction of stature, ~9 cm at 175 cm) ...
FOOT_DROP_FRACTION: Final = 0.05
#: ... or moves at least this fast downwards or away from the body's midline (statures per
#: second, ~52 cm/s): the swing of a foot coming off, not a step onto another foothold.
FOOT_SWING_SPEED_FRACTION: Final = 0.3

#: A free foot this far sideways from the hips (fraction of stature, ~35 cm at 175 cm) while the
#: other foot stands on a hold is flagging: the leg counterbalances instead of standing.
FLAG_LATERAL_FRACTION: Final = 0.2
#: A flag lasts at least this long (shorter is a foot passing by).
FLAG_MIN_S: Final = 0.3
#: A hand move during a flag, unmatched, whose target lies this far sideways from the other
#: hand (fraction of arm span) would have been shorter after matching hands first.
MATCH_REACH_FRACTION: Final = 0.5

_FEET = (Limb.LEFT_FOOT, Limb.RIGHT_FOOT)


@rule("feet_cut", title="Feet cutting loose", confidence=0.9, measure="duration_s")
def feet_cut(ctx: AdviceContext) -> list[AdviceItem]:
    """Feet cutting loose: both feet off the holds while hanging on the hands mid-climb.

    Triggers when both feet leave the mapped holds for `FEET_CUT_MIN_S` between the first and last
    foot placement (standing on the ground before the start is no cut), and both really came off:
    each dropped `FOOT_DROP_FRACTION` below where it stood or swung down or out at
    `FOOT_SWING_SPEED_FRACTION` (feet that stay put stand on footholds missing from the map),
    both feet seen on `engines.advice.context.MIN_SEEN_SHARE` of the spell (feet leaving the
    picture or hidden lose their holds without coming off them); critical from
    `FEET_CUT_LONG_S`: a cut held that long is a campused section, not a slip.
    """
    contact = ctx.biomech.contact
    footed = np.flatnonzero(contact[:, 2:].any(axis=1))
    if footed.size == 0:
        return []
    cut = ctx.timeline.has_pose & ~contact[:, 2:].any(axis=1) & contact[:, :2].any(axis=1)
    cut[: footed[0]] = False
    cut[footed[-1] :] = False
    feet = smooth(ctx.limb_cm[:, 2:], window_frames(ctx.times))
    midline = smooth(ctx.hips_cm[:, 0], window_frames(ctx.times))
    items = []
    for start, stop in runs(cut):
        duration = ctx.seconds(start, stop)
        if duration < FEET_CUT_MIN_S or ctx.seen_share(start, stop, _FEET) < MIN_SEEN_SHARE:
            continue
        drops, swings = _foot_departure(ctx, feet, midline, start, stop)
        came_off = (drops >= FOOT_DROP_FRACTION * ctx.height_cm) | (
            swings >= FOOT_SWING_SPEED_FRACTION * ctx.height_cm
        )
        if not came_off.all():
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
                    "foot_drop_cm": float(drops.min()),
                    "foot_speed_cm_s": float(swings.min()),
                    **ctx.hand_force(start, stop),
                    "threshold_s": FEET_CUT_MIN_S,
                },
            )
        )
    return items


def _foot_departure(
    ctx: AdviceContext, feet: np.ndarray, midline: np.ndarray, start: int, stop: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per foot, over frames ``[start, stop)``: how far below its last stance it dropped (cm) and
    its fastest speed downwards or away from the midline (cm/s); 0 where unknown."""
    stance = feet[max(start - 1, 0)]
    spell = feet[start:stop]
    drops = np.nan_to_num(np.nanmax(stance[:, 1] - spell[..., 1], axis=0, initial=0.0))
    first = max(start - 1, 0)
    path = feet[first:stop]
    if len(path) < 2:
        return drops, np.zeros(2)
    velocity = np.diff(path, axis=0) / np.diff(ctx.times[first:stop])[:, None, None]
    outward = np.sign(path[1:, :, 0] - midline[first + 1 : stop, None])
    swing = np.fmax(-velocity[..., 1], outward * velocity[..., 0])
    return drops, np.nan_to_num(np.nanmax(swing, axis=0, initial=0.0))


def _flags(ctx: AdviceContext) -> list[tuple[int, int, Limb, float]]:
    """``(start, stop, flagging foot, median sideways offset cm)`` of every flag, the flagging
    foot and the hips seen on `engines.advice.context.MIN_SEEN_SHARE` of it."""
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
            if ctx.seconds(start, stop) < FLAG_MIN_S:
                continue
            if ctx.seen_share(start, stop, [foot], body=True) >= MIN_SEEN_SHARE:
                found.append((start, stop, foot, float(np.median(offset[start:stop]))))
    return found


@rule(
    "missed_match_before_flag",
    title="Flagging into a long reach without matching",
    confidence=0.6,
    measure="lateral_reach_cm",
)
def missed_match_before_flag(ctx: AdviceContext) -> list[AdviceItem]:
    """Flagging into a long reach without matching hands first.

    Triggers for a hand move made while a foot flags, when the other hand was on a different hold
    than the moving one and the target lies at least `MATCH_REACH_FRACTION` of the arm span
    sideways from the other hand's hold: matching first would have shortened it. Nothing beyond
    `engines.advice.rules_posture.IMPOSSIBLE_SPAN_FRACTION` of the arm span (not plausible).
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
        if lateral > IMPOSSIBLE_SPAN_FRACTION * ctx.arm_span_cm:
            continue  # no one holds both: a hand was matched to the wrong hold
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
