"""The generator's output: a periodised plan of weeks, sessions and prescribed exercises.

Every choice carries ``reason`` (one short English sentence) and ``cites`` (the profile inputs
that caused it, as paths: ``goals.power``, ``injuries.finger_pulley``, ``level``, ``age``,
``days_per_week``, ``session_minutes``, ``equipment.hangboard`` or ``equipment``,
``target_grade``, ``history.advice.feet_cut``, ``history.metrics.movement_efficiency``), so the
app can show why and link to the setting that changes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from engines.training.grades import Grade
from engines.training.vocab import FingerIntensity, Level

WeekKind = Literal["build", "deload", "retest"]


@dataclass(frozen=True)
class Prescription:
    """One exercise in a session, with its dose.

    Attributes:
        exercise_id: key into `engines.training.catalogue.CATALOGUE`.
        sets, reps: the dose (``reps`` counts hangs, problems or laps where the exercise says).
        work_s: seconds of work per rep where timed, else None.
        rest_s: rest between sets, seconds.
        rpe: target effort, 1..10.
        intensity: the effort in words.
        minutes: time the block takes, rests included.
    """

    exercise_id: str
    name: str
    category: str
    finger: FingerIntensity
    sets: int
    reps: int
    work_s: int | None
    rest_s: int
    rpe: int
    intensity: str
    minutes: int
    reason: str
    cites: tuple[str, ...] = ()


@dataclass(frozen=True)
class Session:
    """One training day. ``day`` is 1..7 within its week (7 is always a rest day)."""

    day: int
    kind: str
    title: str
    exercises: tuple[Prescription, ...]
    reason: str
    cites: tuple[str, ...] = ()

    @property
    def minutes(self) -> int:
        return sum(p.minutes for p in self.exercises)

    @property
    def finger_intensive(self) -> bool:
        """Moderate or high finger load somewhere in the session."""
        return any(p.finger >= FingerIntensity.MODERATE for p in self.exercises)

    @property
    def high_finger_sets(self) -> int:
        return sum(p.sets for p in self.exercises if p.finger is FingerIntensity.HIGH)


@dataclass(frozen=True)
class Week:
    number: int
    phase: str
    kind: WeekKind
    sessions: tuple[Session, ...]
    reason: str
    cites: tuple[str, ...] = ()

    @property
    def high_finger_sets(self) -> int:
        return sum(session.high_finger_sets for session in self.sessions)


@dataclass(frozen=True)
class Phase:
    """A block of consecutive weeks with one focus (``first_week``..``last_week`` inclusive)."""

    name: str
    focus: str
    first_week: int
    last_week: int
    reason: str
    cites: tuple[str, ...] = ()


@dataclass(frozen=True)
class Note:
    """A conflict between constraints (and how the plan resolved it) or a remark.

    ``code`` is stable for clients (e.g. ``too_many_days``, ``goal_not_trained``).
    """

    code: str
    message: str
    cites: tuple[str, ...] = ()


@dataclass(frozen=True)
class Focus:
    """A technique weakness read from the analysis history and the drills that address it."""

    code: str
    drills: tuple[str, ...]
    reason: str
    cites: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrainingPlan:
    """A periodised plan: build phases, a deload week, then a retest week.

    Attributes:
        level: the climber's level, read from ``grade``.
        grade: current grade as given; ``grade_equivalent`` in the discipline's other system.
        phases: in order; their weeks cover 1..len(weeks) without gaps.
        weeks: every week of the plan.
        focus: technique themes from the analysis history.
        conflicts: constraints that could not all be honoured, and what the plan did instead.
        notes: remarks on the plan (safety, the target grade, the history).
        rules: ids of the safety rules the plan was checked against
            (`engines.training.safety.SAFETY_RULES`).
    """

    level: Level
    grade: Grade
    grade_equivalent: Grade
    sessions_per_week: int
    phases: tuple[Phase, ...]
    weeks: tuple[Week, ...]
    focus: tuple[Focus, ...] = ()
    conflicts: tuple[Note, ...] = ()
    notes: tuple[Note, ...] = ()
    rules: tuple[str, ...] = field(default=())
