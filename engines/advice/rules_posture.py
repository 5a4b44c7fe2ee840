"""Posture rules: arms, hips and balance."""

from __future__ import annotations

from typing import Final

import numpy as np

from engines.advice.context import LIMBS, MIN_SEEN_SHARE, AdviceContext, held_level, runs
from engines.advice.model import AdviceItem, Severity, rule
from engines.biomech.analysis import HIP_WALL_MAX_FRACTION
from engines.limbs import Limb
from engines.pose.timeline import Landmark

#: A rest is a still spell (no limb between holds) with hands and feet on holds, at least this long.
REST_MIN_S: Final = 2.0
#: On-screen elbow angle below which a resting arm counts as bent (straight reads ~170-180°).
BENT_ELBOW_DEG: Final = 145.0
#: ... and below which it is badly bent: the biceps hold most of the body.
VERY_BENT_ELBOW_DEG: Final = 110.0
#: A hanging elbow reading below this is a mis-tracked arm, not a posture (full flexion is ~40°).
MIN_PLAUSIBLE_ELBOW_DEG: Final = 30.0
#: Share of the rest a hand must spend on its hold for its arm to be judged.
REST_GRIP_SHARE: Final = 0.8

#: Hip-to-wall proxy, as a fraction of stature, above which hips count as far from the wall
#: (~26 cm at 175 cm). The proxy itself gives no figure where it cannot be trusted, nor beyond
#: `engines.biomech.analysis.HIP_WALL_MAX_FRACTION` (~52 cm): not a posture, a measuring error.
HIP_FAR_FRACTION: Final = 0.15
#: Share of a move's frames with hands and feet on holds that must carry a proxy figure for the
#: move to be judged (the rest: the proxy was not calibrated, see `engines.biomech.analysis`).
HIP_MEASURED_SHARE: Final = 0.6

#: Barn-door moment (CoG's horizontal distance outside the contacts, BW·cm) as a fraction of
#: stature that the grips must resist by twisting (~9 cm at 175 cm) ...
BARN_DOOR_FRACTION: Final = 0.05
#: ... and that few climbers hold for long (~17.5 cm).
BARN_DOOR_CRITICAL_FRACTION: Final = 0.10
#: ... for at least this long (shorter is a swing through).
BARN_DOOR_MIN_S: Final = 0.3
#: A barn door is critical only when the critical moment is held this long: the climber had to
#: fight the swing (a second is about what it takes to flag or re-place a foot).
BARN_DOOR_CRITICAL_S: Final = 1.0
#: A CoG this far outside the holds (fraction of stature, ~87 cm) cannot hang from them at all:
#: a mis-tracked limb or hold, not a barn door.
BARN_DOOR_MAX_FRACTION: Final = 0.5

#: Hand-to-hand span over arm span beyond which a move is a stretch (palm centres: a full
#: wingspan is ~0.87 of arm span) ...
COMFORT_SPAN_FRACTION: Final = 0.75
#: ... and a near-maximal, shoulder-loading one.
MAX_SPAN_FRACTION: Final = 0.85
#: Hands further apart than this (fraction of arm span) cannot both hold on: a hand was matched
#: to the wrong hold.
IMPOSSIBLE_SPAN_FRACTION: Final = 1.05
#: A near-maximal span is critical only when both hands stay on their holds this long after the
#: landing: the shoulders hold the span, the climber does not just pass through it.
OVERREACH_CRITICAL_HELD_S: Final = 0.5
#: The span is measured at the landing; the hands must be seen within this long of it.
OVERREACH_SEEN_S: Final = 0.2

_HANDS = (Limb.LEFT_HAND, Limb.RIGHT_HAND)
_ELBOWS = ("left_elbow", "right_elbow")
_SHOULDERS = (Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER)
_ELBOW_MARKS = (Landmark.LEFT_ELBOW, Landmark.RIGHT_ELBOW)
_WRISTS = (Landmark.LEFT_WRIST, Landmark.RIGHT_WRIST)


@rule(
    "bent_arms_rest",
    title="Resting on bent arms",
    confidence=0.8,
    measure="elbow_deg",
    higher_is_worse=False,
)
def bent_arms_rest(ctx: AdviceContext) -> list[AdviceItem]:
    """Resting on bent arms: hanging on straight arms lets the skeleton, not the biceps, hold on.

    Triggers per rest (`REST_MIN_S`) for each hand above its shoulder on a hold whose median
    elbow angle is below `BENT_ELBOW_DEG` (and above `MIN_PLAUSIBLE_ELBOW_DEG`); critical below
    `VERY_BENT_ELBOW_DEG` (a median over a rest of `REST_MIN_S` or more: held, not a glimpse).
    The angle is read only on frames where that arm (shoulder, elbow, wrist) is seen, on at least
    `engines.advice.context.MIN_SEEN_SHARE` of the frames its hand grips.
    """
    contact = ctx.biomech.contact
    resting = ctx.timeline.has_pose & ~ctx.in_move & contact[:, :2].any(1) & contact[:, 2:].any(1)
    # Shoulder heights in cm, y up like `AdviceContext.limb_cm`.
    shoulder_y = -ctx.timeline.landmarks[:, list(_SHOULDERS), 1].astype(np.float64) * (
        ctx.timeline.frame_height / ctx.biomech.scale.px_per_cm
    )
    items = []
    for start, stop in runs(resting):
        if ctx.seconds(start, stop) < REST_MIN_S:
            continue
        bent: list[Limb] = []
        angles: dict[str, float] = {}
        for column, hand in enumerate(_HANDS):
            gripping = contact[start:stop, column]
            if gripping.mean() < REST_GRIP_SHARE:
                continue
            # Only a hand above its shoulder can hang on a straight arm.
            rise = ctx.limb_cm[start:stop, column, 1] - shoulder_y[start:stop, column]
            if not np.nanmedian(rise[gripping]) > 0:
                continue
            arm_seen = ctx.seen(_SHOULDERS[column], _ELBOW_MARKS[column], _WRISTS[column])
            measured = gripping & arm_seen[start:stop]
            if measured.sum() < MIN_SEEN_SHARE * gripping.sum():
                continue
            angle = float(np.nanmedian(ctx.biomech.angle(_ELBOWS[column])[start:stop][measured]))
            if MIN_PLAUSIBLE_ELBOW_DEG <= angle < BENT_ELBOW_DEG:
                bent.append(hand)
                angles[f"{_ELBOWS[column]}_deg"] = angle
        if not bent:
            continue
        moment = ctx.biomech.elbow_moment[start:stop, [LIMBS.index(h) for h in bent]]
        worst = min(angles.values())
        severity: Severity = "critical" if worst < VERY_BENT_ELBOW_DEG else "warning"
        rest_s = ctx.seconds(start, stop)
        items.append(
            ctx.item(
                "bent_arms_rest",
                severity=severity,
                time_range=ctx.time_range(start, stop),
                limbs=bent,
                holds=ctx.holds_of(bent, start, stop),
                message_en=(
                    f"You rested {rest_s:.1f} s with your arms bent ({worst:.0f}°). "
                    "Straighten your arms and hang from your skeleton to recover."
                ),
                evidence={
                    "rest_s": rest_s,
                    "elbow_deg": worst,
                    **angles,
                    "elbow_moment_bw_cm": float(np.nanmean(moment)),
                    "threshold_deg": BENT_ELBOW_DEG,
                },
            )
        )
    return items


@rule("hips_far_from_wall", title="Hips far from the wall", confidence=0.5, measure="hip_wall_cm")
def hips_far_from_wall(ctx: AdviceContext) -> list[AdviceItem]:
    """Hips far from the wall during a move: the arms pull to hold the body in.

    Triggers per move, with hands and feet on holds, whose median hip-to-wall proxy exceeds
    `HIP_FAR_FRACTION` of stature, when the proxy measured at least `HIP_MEASURED_SHARE` of those
    frames with the hips and shoulders seen. Never critical: depth is not seen, only inferred
    from how short the legs look (the proxy in `engines.biomech.analysis`, silent where it
    cannot be trusted).
    """
    far = HIP_FAR_FRACTION * ctx.height_cm
    plausible = HIP_WALL_MAX_FRACTION * ctx.height_cm
    contact = ctx.biomech.contact
    braced = contact[:, :2].any(axis=1) & contact[:, 2:].any(axis=1)
    items = []
    for move in ctx.moves:
        frames = slice(move.start_frame, move.end_frame + 1)
        depths = ctx.biomech.hip_wall_cm[frames][braced[frames]]
        # A figure on frames where the hips are not seen is no measurement.
        measured = np.isfinite(depths) & ctx.body_seen[frames][braced[frames]]
        if depths.size == 0 or measured.mean() < HIP_MEASURED_SHARE:
            continue
        depth = float(np.median(depths[measured]))
        if not far < depth <= plausible:
            continue
        items.append(
            ctx.item(
                "hips_far_from_wall",
                severity="warning",
                time_range=(move.start_s, move.end_s),
                move_index=move.index,
                limbs=[move.limb],
                holds=[move.from_hold, move.to_hold],
                message_en=(
                    f"Move {move.index + 1}: your hips were about {depth:.0f} cm off the wall. "
                    "Bring them in so your feet take the weight."
                ),
                evidence={
                    "hip_wall_cm": depth,
                    "threshold_cm": far,
                    "measured_share": float(measured.mean()),
                    **ctx.hand_force(move.start_frame, move.end_frame + 1),
                },
                confidence=float(measured.mean()),
            )
        )
    return items


@rule("barn_door", title="Barn-door swing", confidence=0.75, measure="unbalanced_bw_cm")
def barn_door(ctx: AdviceContext) -> list[AdviceItem]:
    """Barn-door risk: the centre of gravity hangs outside the holds, so the body wants to swing.

    A barn door is a rotation about the holds the climber hangs from, so it needs a hand on a hold:
    triggers when, with a hand on a hold and two or more limbs on holds, the unbalanced moment
    exceeds `BARN_DOOR_FRACTION` of stature for `BARN_DOOR_MIN_S`. The moment is read only on
    frames where the torso (the CoG) and the limbs on holds are seen, on at least
    `engines.advice.context.MIN_SEEN_SHARE` of the spell, and the figure quoted is the worst one
    held for `BARN_DOOR_MIN_S` (`engines.advice.context.held_level`), not a one-frame peak.
    Critical when the moment stays beyond `BARN_DOOR_CRITICAL_FRACTION` for
    `BARN_DOOR_CRITICAL_S`: a swing the climber had to fight, not one they passed through.
    Nothing beyond `BARN_DOOR_MAX_FRACTION` (not plausible).
    """
    contact = ctx.biomech.contact
    moment = np.nan_to_num(ctx.biomech.unbalanced_cm)
    hanging = ctx.hand_held & (contact.sum(axis=1) >= 2)
    swinging = hanging & (moment > BARN_DOOR_FRACTION * ctx.height_cm)
    # Seen: the torso, and every limb that is on a hold (the contacts the moment is taken about).
    seen = ctx.body_seen & (ctx.limb_seen | ~contact).all(axis=1)
    items = []
    for start, stop in runs(swinging):
        duration = ctx.seconds(start, stop)
        if duration < BARN_DOOR_MIN_S:
            continue
        measured = seen[start:stop]
        if measured.mean() < MIN_SEEN_SHARE:
            continue
        values = moment[start:stop][measured]
        if values.max() > BARN_DOOR_MAX_FRACTION * ctx.height_cm:
            continue
        worst = held_level(values, ctx.frames(BARN_DOOR_MIN_S))
        if not worst > BARN_DOOR_FRACTION * ctx.height_cm:
            continue  # the threshold was crossed only on frames not seen
        sustained = held_level(values, ctx.frames(BARN_DOOR_CRITICAL_S))
        severe = duration >= BARN_DOOR_CRITICAL_S and (
            sustained > BARN_DOOR_CRITICAL_FRACTION * ctx.height_cm
        )
        limbs = [limb for c, limb in enumerate(LIMBS) if contact[start:stop, c].any()]
        move = ctx.move_at(start)
        held_x = ctx.limb_cm[start, contact[start], 0]
        side = "right" if ctx.cog_cm[start, 0] > held_x.max() else "left"
        items.append(
            ctx.item(
                "barn_door",
                severity="critical" if severe else "warning",
                time_range=ctx.time_range(start, stop),
                move_index=move.index if move else None,
                limbs=limbs,
                holds=ctx.holds_of(limbs, start, stop),
                message_en=(
                    f"Your weight hung {worst:.0f} cm to the {side} of your holds for "
                    f"{duration:.1f} s: a barn-door swing. Flag a leg or move your hips over "
                    "your holds to stay balanced."
                ),
                evidence={
                    "unbalanced_bw_cm": worst,
                    "duration_s": duration,
                    "seen_share": float(measured.mean()),
                    "threshold_bw_cm": BARN_DOOR_FRACTION * ctx.height_cm,
                },
            )
        )
    return items


@rule("overreach", title="Overreaching", confidence=0.9, measure="span_ratio")
def overreach(ctx: AdviceContext) -> list[AdviceItem]:
    """Reach beyond a comfortable span: a hand landing far from the other hand.

    Triggers per hand move whose hand-to-hand span on landing (both hands on holds) exceeds
    `COMFORT_SPAN_FRACTION` of the arm span, both hands seen (on
    `engines.advice.context.MIN_SEEN_SHARE` of the frames within `OVERREACH_SEEN_S` of the
    landing); critical beyond `MAX_SPAN_FRACTION` when both hands then stay on their holds for
    `OVERREACH_CRITICAL_HELD_S`; nothing beyond `IMPOSSIBLE_SPAN_FRACTION`.
    """
    hands = [LIMBS.index(hand) for hand in _HANDS]
    window = ctx.frames(OVERREACH_SEEN_S)
    held = ctx.frames(OVERREACH_CRITICAL_HELD_S)
    items = []
    for move, figures in zip(ctx.moves, ctx.biomech.moves, strict=True):
        span = figures.hand_span_cm
        if not move.limb.is_hand or not span > COMFORT_SPAN_FRACTION * ctx.arm_span_cm:
            continue
        ratio = span / ctx.arm_span_cm
        if ratio > IMPOSSIBLE_SPAN_FRACTION:
            continue
        end = move.end_frame
        if ctx.seen_share(max(end - window, 0), end + window + 1, _HANDS) < MIN_SEEN_SHARE:
            continue
        grips = ctx.track.holds[end : end + held, hands]
        kept = grips.shape[0] == held and bool((grips == grips[0]).all() and (grips >= 0).all())
        items.append(
            ctx.item(
                "overreach",
                severity="critical" if ratio > MAX_SPAN_FRACTION and kept else "warning",
                time_range=(move.start_s, move.end_s),
                move_index=move.index,
                limbs=[move.limb],
                holds=[move.from_hold, move.to_hold],
                message_en=(
                    f"Move {move.index + 1}: your hands ended {span:.0f} cm apart, "
                    f"{ratio:.0%} of your arm span. Step your feet up or across first to "
                    "shorten the reach."
                ),
                evidence={
                    "hand_span_cm": span,
                    "arm_span_cm": ctx.arm_span_cm,
                    "span_ratio": ratio,
                    "threshold_ratio": COMFORT_SPAN_FRACTION,
                },
            )
        )
    return items
