"""Flow rules: hesitating, re-gripping, wandering between holds."""

from __future__ import annotations

from typing import Final

from engines.advice.context import MIN_SEEN_SHARE, AdviceContext
from engines.advice.model import AdviceItem, rule
from engines.contacts import Attachment, attachments
from engines.limbs import Limb

#: Hovering (free limb nearly still, see `engines.biomech.motion`) this long within one move is a
#: hesitation ...
HESITATION_S: Final = 1.0
#: ... and this long, a long one: the climber was unsure of the sequence.
LONG_HESITATION_S: Final = 2.5

#: Letting go of a hold and taking it again within this long is a re-grip.
REGRIP_MAX_GAP_S: Final = 1.0
#: Re-grips on one hold, by one hand, before it is worth saying ...
REGRIP_MIN_COUNT: Final = 2
#: ... and before it is a habit that burns forearm strength.
REGRIP_MANY_COUNT: Final = 4

#: Moves whose CoG path is shorter than this fraction of stature are too small to judge.
MIN_PATH_FRACTION: Final = 0.1
#: Straight-line CoG travel over path length below which the body wandered during the move.
MIN_EFFICIENCY: Final = 0.6


@rule("long_hesitation", title="Hesitating mid-move", confidence=0.8, measure="hesitation_s")
def long_hesitation(ctx: AdviceContext) -> list[AdviceItem]:
    """Hesitation mid-move: the free limb hovered instead of going to the hold.

    Triggers per move (from a hold, not first placements) with at least `HESITATION_S` of
    hovering, the moving limb seen on `engines.advice.context.MIN_SEEN_SHARE` of the move (a
    limb the model lost reads as still); critical from `LONG_HESITATION_S`: the climber stopped
    that long mid-move.
    """
    items = []
    for move, figures in zip(ctx.moves, ctx.biomech.moves, strict=True):
        hover = figures.hesitation_s
        if move.from_hold is None or not hover >= HESITATION_S:
            continue
        if ctx.seen_share(move.start_frame, move.end_frame + 1, [move.limb]) < MIN_SEEN_SHARE:
            continue
        items.append(
            ctx.item(
                "long_hesitation",
                severity="critical" if hover >= LONG_HESITATION_S else "warning",
                time_range=(move.start_s, move.end_s),
                move_index=move.index,
                limbs=[move.limb],
                holds=[move.from_hold, move.to_hold],
                message_en=(
                    f"Move {move.index + 1}: your {move.limb.value.replace('_', ' ')} hovered "
                    f"{hover:.1f} s before reaching {move.to_hold}. Read the sequence from the "
                    "ground or a rest, then commit."
                ),
                evidence={
                    "hesitation_s": hover,
                    "move_duration_s": figures.duration_s,
                    "threshold_s": HESITATION_S,
                },
            )
        )
    return items


@rule("regrip", title="Re-gripping", confidence=0.7, measure="regrips")
def regrip(ctx: AdviceContext) -> list[AdviceItem]:
    """Re-gripping: a hand letting go of a hold and taking it again, again and again.

    Triggers for a hand that re-grips one hold (gap under `REGRIP_MAX_GAP_S`) at least
    `REGRIP_MIN_COUNT` times in a row, the hand seen on `engines.advice.context.MIN_SEEN_SHARE`
    of the frames from the first release to the last re-grip (a hand the model loses flickers
    on and off its hold); a warning from `REGRIP_MANY_COUNT`, never critical.
    """
    stays = attachments(ctx.track)
    items: list[AdviceItem] = []
    for hand in (Limb.LEFT_HAND, Limb.RIGHT_HAND):
        chain: list[Attachment] = []
        for stay in (a for a in stays if a.limb is hand):
            if (
                chain
                and chain[-1].hold == stay.hold
                and stay.start_s - chain[-1].end_s <= REGRIP_MAX_GAP_S
            ):
                chain.append(stay)
                continue
            _report(ctx, chain, items)
            chain = [stay]
        _report(ctx, chain, items)
    return items


def _report(ctx: AdviceContext, chain: list[Attachment], items: list[AdviceItem]) -> None:
    count = len(chain) - 1
    if count < REGRIP_MIN_COUNT:
        return
    first, last = chain[0], chain[-1]
    if ctx.seen_share(first.end_frame, last.start_frame + 1, [first.limb]) < MIN_SEEN_SHARE:
        return
    arrival = [m for m in ctx.moves if m.limb is first.limb and m.end_frame <= first.start_frame]
    hand: Limb = first.limb
    items.append(
        ctx.item(
            "regrip",
            severity="warning" if count >= REGRIP_MANY_COUNT else "info",
            time_range=(first.end_s, last.start_s),
            move_index=arrival[-1].index if arrival else None,
            limbs=[hand],
            holds=[first.hold],
            message_en=(
                f"Your {hand.value.replace('_', ' ')} re-gripped {first.hold} {count} times. "
                "Take the grip right the first time and relax your forearm once you hold it."
            ),
            evidence={
                "regrips": float(count),
                "span_s": last.start_s - first.end_s,
                "threshold": float(REGRIP_MIN_COUNT),
            },
        )
    )


@rule(
    "inefficient_path",
    title="Wandering body",
    confidence=0.6,
    measure="efficiency",
    higher_is_worse=False,
)
def inefficient_path(ctx: AdviceContext) -> list[AdviceItem]:
    """Wandering body: the centre of gravity zig-zagged instead of travelling straight.

    Triggers per move whose CoG path is at least `MIN_PATH_FRACTION` of stature with an
    efficiency (chord over path) below `MIN_EFFICIENCY`, the torso seen on
    `engines.advice.context.MIN_SEEN_SHARE` of the move (a CoG on guessed landmarks wanders).
    """
    items = []
    for move, figures in zip(ctx.moves, ctx.biomech.moves, strict=True):
        if figures.cog_path_cm < MIN_PATH_FRACTION * ctx.height_cm:
            continue
        if not figures.efficiency < MIN_EFFICIENCY:
            continue
        if ctx.seen_share(move.start_frame, move.end_frame + 1, body=True) < MIN_SEEN_SHARE:
            continue
        items.append(
            ctx.item(
                "inefficient_path",
                severity="info",
                time_range=(move.start_s, move.end_s),
                move_index=move.index,
                limbs=[move.limb],
                holds=[move.from_hold, move.to_hold],
                message_en=(
                    f"Move {move.index + 1}: your body travelled {figures.cog_path_cm:.0f} cm to "
                    f"get {figures.cog_chord_cm:.0f} cm further. Set your hips where the move "
                    "ends before you go, and go in one line."
                ),
                evidence={
                    "efficiency": figures.efficiency,
                    "cog_path_cm": figures.cog_path_cm,
                    "cog_chord_cm": figures.cog_chord_cm,
                    "threshold": MIN_EFFICIENCY,
                },
            )
        )
    return items
