"""Periodisation: which phases a plan has and which sessions each phase's week asks for.

A plan is build phases, then a deload week and a retest week. Build phases follow the linear
periodisation of Anderson & Anderson ("The Rock Climber's Training Manual": base, then strength,
then power or power endurance) shaped by the primary goal; beginners get a technique foundation
instead (Hörst, "Training for Climbing": skill before strength). Each phase lists session kinds in
priority order; a week takes the first ``sessions_per_week`` of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from engines.training.grades import steps_between
from engines.training.plan import Note
from engines.training.profile import TrainingProfile
from engines.training.vocab import Goal, Level


@dataclass(frozen=True)
class PhaseTemplate:
    name: str
    weeks: int
    focus: str
    kinds: tuple[str, ...]
    why: str


_BASE = PhaseTemplate(
    "base",
    2,
    "movement, aerobic base and tendon conditioning",
    ("technique", "fingers", "endurance", "conditioning", "technique", "conditioning"),
    "a base of volume before intensity",
)
TEMPLATES: Final[dict[Goal, tuple[PhaseTemplate, ...]]] = {
    Goal.FINGER_STRENGTH: (
        _BASE,
        PhaseTemplate(
            "max_strength",
            4,
            "maximal finger strength",
            ("fingers", "technique", "fingers", "conditioning", "fingers", "endurance"),
            "finger strength is built with few, maximal, well-rested efforts",
        ),
    ),
    Goal.POWER: (
        _BASE,
        PhaseTemplate(
            "strength",
            2,
            "finger and pulling strength",
            ("fingers", "technique", "fingers", "conditioning", "endurance", "conditioning"),
            "power is built on strength",
        ),
        PhaseTemplate(
            "power",
            2,
            "explosive movement and contact strength",
            ("power", "technique", "power", "conditioning", "fingers", "endurance"),
            "power work comes after strength, when the tendons are ready",
        ),
    ),
    Goal.ENDURANCE: (
        PhaseTemplate(
            "base",
            2,
            "aerobic capacity and movement",
            ("endurance", "technique", "endurance", "conditioning", "technique", "conditioning"),
            "endurance starts from aerobic volume",
        ),
        PhaseTemplate(
            "strength",
            2,
            "finger strength to raise the ceiling",
            ("fingers", "endurance", "technique", "conditioning", "endurance", "conditioning"),
            "stronger fingers make every hold easier to hang on",
        ),
        PhaseTemplate(
            "power_endurance",
            2,
            "sustained hard climbing",
            (
                "power_endurance",
                "endurance",
                "power_endurance",
                "conditioning",
                "technique",
                "endurance",
            ),
            "power endurance sharpens the base for sustained routes",
        ),
    ),
    Goal.TECHNIQUE: (
        PhaseTemplate(
            "technique_volume",
            3,
            "movement skills through volume",
            ("technique", "endurance", "technique", "conditioning", "technique", "conditioning"),
            "skill comes from many good repetitions",
        ),
        PhaseTemplate(
            "technique_applied",
            3,
            "skills under harder climbing",
            ("technique", "power_endurance", "technique", "conditioning", "fingers", "endurance"),
            "skills must hold up when climbing gets hard and pumpy",
        ),
    ),
}
BEGINNER: Final = (
    PhaseTemplate(
        "foundation",
        2,
        "movement skills and general strength",
        ("technique", "conditioning", "technique", "endurance"),
        "beginners improve fastest through technique, not finger training",
    ),
    PhaseTemplate(
        "movement",
        2,
        "more climbing volume",
        ("technique", "endurance", "technique", "conditioning"),
        "volume on easy ground turns drills into habits",
    ),
)
#: Session kind that serves a secondary goal, per phase name (default: the goal's own kind).
GOAL_KIND: Final = {
    Goal.FINGER_STRENGTH: "fingers",
    Goal.POWER: "fingers",
    Goal.ENDURANCE: "endurance",
    Goal.TECHNIQUE: "technique",
}
FAR_TARGET_RUNGS: Final = 3


def primary_goal(profile: TrainingProfile) -> tuple[Goal, str, tuple[str, ...]]:
    """The goal that shapes the phases, with a reason and its cites."""
    if profile.goals:
        goal = profile.goals[0]
        return goal, f"first goal: {goal.value.replace('_', ' ')}", (f"goals.{goal.value}",)
    if profile.climbing_level is Level.BEGINNER:
        return Goal.TECHNIQUE, "no goal given; beginners gain most from technique", ("level",)
    grade = profile.target_grade or profile.level
    cite = "target_grade" if profile.target_grade else "level"
    if grade.discipline == "boulder":
        return Goal.POWER, f"no goal given; {grade} is a boulder grade: power", (cite,)
    return Goal.ENDURANCE, f"no goal given; {grade} is a sport grade: endurance", (cite,)


def templates(profile: TrainingProfile, goal: Goal) -> tuple[PhaseTemplate, ...]:
    if profile.climbing_level is Level.BEGINNER:
        return BEGINNER
    return TEMPLATES[goal]


def session_kinds(
    template: PhaseTemplate,
    profile: TrainingProfile,
    sessions: int,
    *,
    goal: Goal,
    technique_volume: bool,
) -> list[tuple[str, str, tuple[str, ...]]]:
    """The phase's week: ``sessions`` kinds in priority order, each with its reason and cites.

    Secondary goals move their kind to second place; low movement efficiency in the history
    adds a technique-volume session (drills and easy climbing, light on the fingers) third.
    """
    primary = profile.goals[0] if profile.goals else None
    label = f"{template.name.replace('_', ' ')} phase, goal {goal.value.replace('_', ' ')}"
    ranked: list[tuple[str, str, tuple[str, ...]]] = [
        (kind, label, _goal_cites(profile)) for kind in template.kinds
    ]
    for other in reversed(profile.goals[1:]):
        if other == primary:
            continue
        kind = "power" if other is Goal.POWER and template.name == "power" else GOAL_KIND[other]
        if profile.climbing_level is Level.BEGINNER and kind == "fingers":
            kind = "conditioning"
        _promote(
            ranked, kind, 1, f"goal {other.value.replace('_', ' ')}", (f"goals.{other.value}",)
        )
    if technique_volume:
        ranked.insert(
            1 if sessions <= 2 else 2,
            (
                "technique_volume",
                "low movement efficiency in your analysed climbs",
                ("history.metrics.movement_efficiency",),
            ),
        )
    while len(ranked) < sessions:
        ranked.append(("conditioning", "extra day: strength and mobility", ("days_per_week",)))
    return ranked[:sessions]


def _goal_cites(profile: TrainingProfile) -> tuple[str, ...]:
    if profile.goals:
        return (f"goals.{profile.goals[0].value}",)
    return ("target_grade",) if profile.target_grade else ("level",)


def _promote(
    ranked: list[tuple[str, str, tuple[str, ...]]],
    kind: str,
    position: int,
    reason: str,
    cites: tuple[str, ...],
) -> None:
    kinds = [each[0] for each in ranked]
    if kind in kinds[position:]:
        ranked.pop(kinds.index(kind, position))
    elif kind in kinds[:position]:
        return
    ranked.insert(position, (kind, reason, cites))


def target_notes(profile: TrainingProfile, build_weeks: int) -> list[Note]:
    """Remarks on the target grade against the current one."""
    target = profile.target_grade
    if target is None:
        return []
    steps = steps_between(profile.level, target)
    cites = ("level", "target_grade")
    if steps is None:
        return [
            Note(
                "target_other_discipline",
                f"Target {target} is a {target.discipline} "
                f"grade and your level {profile.level} a {profile.level.discipline} grade; "
                "the retest measures both, but the gap cannot be measured in rungs.",
                cites,
            )
        ]
    if steps <= 0:
        return [
            Note(
                "target_reached",
                f"Target {target} is not above your level "
                f"{profile.level}: the plan aims beyond it.",
                cites,
            )
        ]
    if steps > FAR_TARGET_RUNGS:
        return [
            Note(
                "target_far",
                f"Target {target} is {steps} grade steps above "
                f"{profile.level}: more than one {build_weeks}-week block usually brings. "
                "Retest, then repeat the cycle.",
                cites,
            )
        ]
    return [
        Note("target", f"Target {target} is {steps} grade step(s) above {profile.level}.", cites)
    ]
