"""What the climber's analysed climbs ask the plan to work on.

Advice that keeps coming back (a rule of `engines.advice` given in at least
`REPEATED_MIN_ANALYSES` analyses and `REPEATED_MIN_SHARE` of them) and weak summary metrics become
`Focus` themes: drills the technique sessions rotate through, most frequent first. Low movement
efficiency also adds technique volume (a technique session moves up the week's priorities).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from engines.training.catalogue import CATALOGUE
from engines.training.exercise import unsuitable
from engines.training.plan import Focus, Note
from engines.training.profile import TrainingProfile

REPEATED_MIN_ANALYSES: Final = 2
REPEATED_MIN_SHARE: Final = 0.25
#: Mean movement efficiency (CoG chord over path, 0..1) below which technique gets more volume;
#: the advice engine flags single moves below 0.6.
LOW_EFFICIENCY: Final = 0.65
#: Mean force through the hands (body weights) above which the climber hangs on the arms.
HIGH_ARM_LOAD_BW: Final = 0.6

#: Advice rule id -> (theme, drills that address it, best first). Every rule of
#: `engines.advice.RULES` has an entry (a test holds this), so new advice gets a decision here.
ADVICE_FOCUS: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "feet_cut": ("footwork and body tension", ("silent_feet", "steep_feet_on", "toe_hook_drill")),
    "long_hesitation": ("reading and flow", ("route_preview_flow", "downclimbing")),
    "regrip": ("precise hand placement", ("hover_hands",)),
    "inefficient_path": ("direct movement", ("hip_line_drill", "downclimbing")),
    "missed_match_before_flag": ("flagging and matching", ("flagging_drill",)),
    "bent_arms_rest": ("straight-arm resting", ("straight_arm_shakeout",)),
    "hips_far_from_wall": ("hips to the wall", ("hip_turn_in", "drop_knee_drill")),
    "barn_door": ("balance over the holds", ("flagging_drill", "hip_turn_in")),
    "overreach": ("shorter reaches", ("intermediate_feet",)),
}
#: Technique drills for climbers without a repeated weakness, rotated in this order.
DEFAULT_DRILLS: Final = (
    "silent_feet",
    "hip_turn_in",
    "flagging_drill",
    "straight_arm_shakeout",
    "downclimbing",
    "route_preview_flow",
)


@dataclass(frozen=True)
class HistoryReading:
    focus: tuple[Focus, ...]
    notes: tuple[Note, ...]
    technique_volume: Focus | None
    """Set when technique volume goes up; its reason and cites explain why."""


def usable(drills: tuple[str, ...], profile: TrainingProfile) -> tuple[str, ...]:
    return tuple(
        drill
        for drill in drills
        if not unsuitable(
            CATALOGUE[drill],
            level=profile.climbing_level,
            age=profile.age,
            injuries=profile.injuries,
            equipment=profile.equipment,
        )
    )


def read_history(profile: TrainingProfile) -> HistoryReading:
    """Focus themes, notes and the technique-volume decision for ``profile.history``."""
    history = profile.history
    candidates: list[tuple[float, str, Focus]] = []
    notes: list[Note] = []
    for rule_id, count in history.advice_counts.items():
        if rule_id not in ADVICE_FOCUS:
            continue  # advice from a newer or older backend: nothing to map it to
        share = count / history.analyses if history.analyses else 0.0
        if count < REPEATED_MIN_ANALYSES or share < REPEATED_MIN_SHARE:
            continue
        theme, drills = ADVICE_FOCUS[rule_id]
        cite = f"history.advice.{rule_id}"
        fitting = usable(drills, profile)
        if not fitting:
            notes.append(
                Note(
                    "focus_without_drill",
                    f"{rule_id} advice in {count} of "
                    f"{history.analyses} analysed climbs, but no {theme} drill suits "
                    "your equipment and injuries.",
                    (cite,),
                )
            )
            continue
        reason = (
            f"{rule_id} advice in {count} of {history.analyses} analysed climbs: {theme} drills"
        )
        candidates.append((-share, rule_id, Focus(rule_id, fitting, reason, (cite,))))
    metrics = history.metrics
    efficiency = metrics.get("movement_efficiency")
    volume: Focus | None = None
    if efficiency is not None and history.analyses and efficiency < LOW_EFFICIENCY:
        cite = "history.metrics.movement_efficiency"
        drills = usable(ADVICE_FOCUS["inefficient_path"][1], profile)
        reason = (
            f"mean movement efficiency {efficiency:.2f} (below {LOW_EFFICIENCY}) over "
            f"{history.analyses} analysed climbs: more technique volume"
        )
        volume = Focus("low_movement_efficiency", drills, reason, (cite,))
        if drills:
            candidates.append((-1.0, "~efficiency", volume))
    tension = metrics.get("avg_tension")
    if tension is not None and history.analyses and tension > HIGH_ARM_LOAD_BW:
        drills = usable(("silent_feet", "straight_arm_shakeout"), profile)
        if drills:
            reason = (
                f"mean load through the hands {tension:.2f} body weights (above "
                f"{HIGH_ARM_LOAD_BW}): weight-on-the-feet drills"
            )
            focus = Focus("high_arm_load", drills, reason, ("history.metrics.avg_tension",))
            candidates.append((-0.5, "~tension", focus))
    candidates.sort(key=lambda each: (each[0], each[1]))
    return HistoryReading(tuple(c[2] for c in candidates), tuple(notes), volume)
