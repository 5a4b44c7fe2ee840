"""Safety rules as code, each with its source, and the validator every generated plan passes.

`SAFETY_RULES` states each rule and where it comes from; the limits it needs are constants here,
and `check_plan` checks a finished plan against all of them (and against the profile: equipment,
session length), independently of how the generator built it. The generator calls `assert_safe`
on every plan before returning it.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Final

from engines.training.catalogue import CATALOGUE
from engines.training.errors import UnsafePlanError
from engines.training.exercise import Category, unsuitable
from engines.training.plan import TrainingPlan
from engines.training.profile import TrainingProfile
from engines.training.vocab import Level

HORST: Final = 'Hörst, "Training for Climbing", 3rd ed. (2016)'
ANDERSON: Final = 'Anderson & Anderson, "The Rock Climber\'s Training Manual" (2014)'
SCHOFFL_PULLEY: Final = (
    'Schöffl et al., "Pulley injuries in rock climbers", Wilderness Environ Med 14(2) (2003)'
)
ONE_MOVE: Final = 'Hochholzer & Schöffl, "One Move Too Many" (2016)'
YOUTH: Final = (
    'Morrison & Schöffl, "Physiological responses to rock climbing in young climbers", '
    "Br J Sports Med 41 (2007); Hochholzer & Schöffl, epiphyseal fractures of the finger in "
    "young climbers, Wilderness Environ Med 16 (2005)"
)


@dataclass(frozen=True)
class SafetyRule:
    id: str
    rule: str
    source: str


SAFETY_RULES: Final = (
    SafetyRule(
        "contraindications",
        "No exercise contraindicated for a declared injury (the "
        "catalogue's contraindication table).",
        f"{ONE_MOVE}; {SCHOFFL_PULLEY}",
    ),
    SafetyRule(
        "finger_load_cap",
        "Weekly high-intensity finger sets within a level cap "
        "(beginner 0, intermediate 16, advanced 24, elite 32), halved under 18.",
        f"{HORST}; {ANDERSON}",
    ),
    SafetyRule("no_campus_beginner", "No campus board for beginners.", f"{HORST}; {ANDERSON}"),
    SafetyRule(
        "no_campus_youth", "No campus board under 18 (open growth plates of the fingers).", YOUTH
    ),
    SafetyRule(
        "exercise_level_age",
        "Exercises only from their minimum level and age: "
        "hangboard from intermediate, repeaters from 16, max hangs from 18.",
        f"{HORST}; {YOUTH}",
    ),
    SafetyRule(
        "finger_rest_day",
        "At least one day without finger-intensive work between two "
        "finger-intensive days, across weeks too.",
        f"{HORST}; {ANDERSON}",
    ),
    SafetyRule(
        "weekly_rest",
        "At least one full rest day a week; at most 4 sessions a week for "
        "beginners, 5 for intermediates, 6 above.",
        HORST,
    ),
    SafetyRule(
        "warm_up",
        f"Every finger-intensive session starts with a warm-up of at least {15} minutes.",
        f"{HORST}; {ONE_MOVE}",
    ),
    SafetyRule(
        "deload_retest",
        "Build weeks end with a deload week, then a retest week.",
        f"{ANDERSON}; Lattice Training assess-plan-retest model",
    ),
)
RULES_BY_ID: Final = {rule.id: rule for rule in SAFETY_RULES}

#: Weekly high-intensity finger sets allowed per level (`finger_load_cap`).
HIGH_FINGER_SETS: Final = {
    Level.BEGINNER: 0,
    Level.INTERMEDIATE: 16,
    Level.ADVANCED: 24,
    Level.ELITE: 32,
}
#: Sessions a week per level (`weekly_rest`); day 7 is always free.
MAX_SESSIONS: Final = {Level.BEGINNER: 4, Level.INTERMEDIATE: 5, Level.ADVANCED: 6, Level.ELITE: 6}
MIN_WARM_UP_MINUTES: Final = 15
REST_DAY: Final = 7


def high_finger_cap(profile: TrainingProfile) -> int:
    cap = HIGH_FINGER_SETS[profile.climbing_level]
    return cap // 2 if profile.youth else cap


def max_sessions(profile: TrainingProfile) -> int:
    return MAX_SESSIONS[profile.climbing_level]


@dataclass(frozen=True)
class Violation:
    """A plan breaking a rule. ``rule`` is a `SAFETY_RULES` id or ``plan.*`` for a mismatch with
    the profile (equipment, session length, unknown exercise)."""

    rule: str
    message: str
    week: int | None = None
    day: int | None = None


_SAFETY_OF: Final = {
    "injuries": "contraindications",
    "level": "exercise_level_age",
    "age": "exercise_level_age",
    "equipment": "plan.equipment",
}


def _exercise_violations(plan: TrainingPlan, profile: TrainingProfile) -> list[Violation]:
    found = []
    for week in plan.weeks:
        for session in week.sessions:
            for item in session.exercises:
                exercise = CATALOGUE.get(item.exercise_id)
                where = {"week": week.number, "day": session.day}
                if exercise is None:
                    found.append(Violation("plan.exercise", f"unknown {item.exercise_id}", **where))
                    continue
                if exercise.campus and profile.climbing_level is Level.BEGINNER:
                    found.append(Violation("no_campus_beginner", exercise.id, **where))
                if exercise.campus and profile.youth:
                    found.append(Violation("no_campus_youth", exercise.id, **where))
                for message, cite in unsuitable(
                    exercise,
                    level=profile.climbing_level,
                    age=profile.age,
                    injuries=profile.injuries,
                    equipment=profile.equipment,
                ):
                    rule = _SAFETY_OF[cite.split(".")[0]]
                    found.append(Violation(rule, f"{exercise.id}: {message}", **where))
                if item.finger is not exercise.finger:
                    found.append(
                        Violation(
                            "plan.exercise",
                            f"{exercise.id}: finger load differs from the catalogue",
                            **where,
                        )
                    )
    return found


def _session_violations(plan: TrainingPlan, profile: TrainingProfile) -> list[Violation]:
    found = []
    cap = high_finger_cap(profile)
    finger_days: list[tuple[int, int, int]] = []  # (absolute day, week, day)
    for week in plan.weeks:
        days = [session.day for session in week.sessions]
        if len(days) != len(set(days)) or any(not 1 <= day < REST_DAY for day in days):
            found.append(
                Violation(
                    "weekly_rest",
                    f"days {days}: one session a day, day {REST_DAY} free",
                    week=week.number,
                )
            )
        if len(days) > max_sessions(profile):
            found.append(Violation("weekly_rest", f"{len(days)} sessions", week=week.number))
        if week.high_finger_sets > cap:
            found.append(
                Violation("finger_load_cap", f"{week.high_finger_sets} > {cap}", week=week.number)
            )
        for session in week.sessions:
            where = {"week": week.number, "day": session.day}
            if session.minutes > profile.session_minutes:
                found.append(Violation("plan.session_minutes", f"{session.minutes} min", **where))
            if not session.finger_intensive:
                continue
            finger_days.append(((week.number - 1) * 7 + session.day, week.number, session.day))
            first = session.exercises[0]
            if first.category != Category.WARM_UP or first.minutes < MIN_WARM_UP_MINUTES:
                found.append(Violation("warm_up", "no warm-up first", **where))
    finger_days.sort()
    for (before, _, _), (after, week_number, day) in pairwise(finger_days):
        if after - before < 2:
            found.append(
                Violation(
                    "finger_rest_day", "finger-intensive days in a row", week=week_number, day=day
                )
            )
    return found


def _structure_violations(plan: TrainingPlan) -> list[Violation]:
    kinds = [week.kind for week in plan.weeks]
    found = []
    if len(kinds) < 3 or kinds[-2:] != ["deload", "retest"] or "deload" in kinds[:-2]:
        found.append(Violation("deload_retest", f"week kinds {kinds}"))
    if [week.number for week in plan.weeks] != list(range(1, len(kinds) + 1)):
        found.append(Violation("deload_retest", "weeks not numbered 1..n"))
    return found


def check_plan(plan: TrainingPlan, profile: TrainingProfile) -> list[Violation]:
    """Every rule the plan breaks for this profile; empty for a safe, consistent plan.

    Checks what the plan says, not how it was made: finger loads are read from the catalogue,
    finger-intensive days are the sessions with moderate or high finger work, and rest days are
    counted across week boundaries.
    """
    return (
        _exercise_violations(plan, profile)
        + _session_violations(plan, profile)
        + _structure_violations(plan)
    )


def assert_safe(plan: TrainingPlan, profile: TrainingProfile) -> None:
    """Raise `UnsafePlanError` listing the violations when `check_plan` finds any."""
    violations = check_plan(plan, profile)
    if violations:
        listed = "; ".join(
            f"{v.rule} (week {v.week}, day {v.day}): {v.message}" for v in violations[:10]
        )
        raise UnsafePlanError(f"generated plan breaks {len(violations)} rule(s): {listed}")
