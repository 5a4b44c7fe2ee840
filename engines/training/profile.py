"""The generator's input: the climber's profile and a summary of their analysed climbs.

`TrainingProfile` holds members and `Grade`s, already checked; `profile_from_dict` builds one from
plain JSON-like values (an API body, a legacy queue message) and refuses unknown values with
`TrainingInputError`, whose ``allowed`` lists the accepted ones. `history_from_documents` turns
analysis result documents (``schema/json/analysis_result.schema.json``) into `AnalysisHistory`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from engines.training.errors import TrainingInputError
from engines.training.grades import Grade, level_of, parse_grade
from engines.training.vocab import Equipment, Goal, Injury, Level, parse_choices

MIN_AGE: Final = 8
MAX_AGE: Final = 100
MIN_SESSION_MINUTES: Final = 10
MAX_SESSION_MINUTES: Final = 300
#: The analysis_metrics figures a history may average (the result document's `metrics`).
METRICS: Final = ("movement_efficiency", "avg_tension", "max_reach_cm")


@dataclass(frozen=True)
class AnalysisHistory:
    """What the climber's past analyses say, summarised.

    Attributes:
        analyses: how many analysed climbs the summary covers.
        advice_counts: advice ``rule_id`` (`engines.advice.RULES`) -> in how many of those
            analyses it was given. Unknown rule ids are kept and ignored by the generator.
        metrics: mean of each figure in `METRICS` over the analyses that had one.
    """

    analyses: int = 0
    advice_counts: Mapping[str, int] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.analyses < 0:
            raise TrainingInputError("history.analyses cannot be negative", field="history")
        for rule_id, count in self.advice_counts.items():
            if not 0 <= count <= self.analyses:
                raise TrainingInputError(
                    f"history.advice_counts[{rule_id!r}] must be 0..analyses ({self.analyses})",
                    field="history",
                    value=count,
                )
        for name in self.metrics:
            if name not in METRICS:
                raise TrainingInputError(
                    f"unknown history metric {name!r}; allowed: {', '.join(METRICS)}",
                    field="history",
                    value=name,
                    allowed=METRICS,
                )
        # Sorted copies: the plan must not depend on the order the caller built them in.
        object.__setattr__(self, "advice_counts", dict(sorted(self.advice_counts.items())))
        object.__setattr__(self, "metrics", dict(sorted(self.metrics.items())))


@dataclass(frozen=True)
class TrainingProfile:
    """Everything the generator needs to know about the climber.

    Attributes:
        level: current grade (redpoint/top-out level), in any system of `grades.GradeSystem`.
        age: years; under 18 the youth rules apply.
        days_per_week: training days wanted, 1..7.
        session_minutes: length of one session, `MIN_SESSION_MINUTES`..`MAX_SESSION_MINUTES`.
        goals: what the climber wants, most important first.
        target_grade: the grade the climber aims for, if any.
        injuries: declared injuries; the plan never loads them.
        equipment: what the climber can train on.
        history: summary of their analysed climbs.
    """

    level: Grade
    age: int
    days_per_week: int
    session_minutes: int
    goals: tuple[Goal, ...] = ()
    target_grade: Grade | None = None
    injuries: tuple[Injury, ...] = ()
    equipment: tuple[Equipment, ...] = ()
    history: AnalysisHistory = field(default_factory=AnalysisHistory)

    def __post_init__(self) -> None:
        _in_range("age", self.age, MIN_AGE, MAX_AGE)
        _in_range("days_per_week", self.days_per_week, 1, 7)
        _in_range("session_minutes", self.session_minutes, MIN_SESSION_MINUTES, MAX_SESSION_MINUTES)
        object.__setattr__(self, "goals", parse_choices(Goal, self.goals, field="goals"))
        # Injuries and equipment are sets: canonical order, so the plan ignores input order.
        injuries = parse_choices(Injury, self.injuries, field="injuries")
        equipment = parse_choices(Equipment, self.equipment, field="equipment")
        object.__setattr__(self, "injuries", tuple(i for i in Injury if i in injuries))
        object.__setattr__(self, "equipment", tuple(e for e in Equipment if e in equipment))

    @property
    def climbing_level(self) -> Level:
        return level_of(self.level)

    @property
    def youth(self) -> bool:
        return self.age < 18


def _in_range(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise TrainingInputError(
            f"{name} must be a whole number from {low} to {high}, got {value!r}",
            field=name,
            value=value,
        )


def _grade(body: Mapping[str, Any], key: str) -> Grade | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, Mapping):  # {"system": "font", "grade": "6C+"}
        return parse_grade(str(value.get("grade", "")), value.get("system"), field=key)
    return parse_grade(str(value), body.get(f"{key}_system"), field=key)


def _values(body: Mapping[str, Any], key: str) -> tuple[Any, ...]:
    value = body.get(key) or ()
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise TrainingInputError(f"{key} must be a list of values", field=key, value=value)
    return tuple(value)


def profile_from_dict(body: Mapping[str, Any]) -> TrainingProfile:
    """A profile from plain values, as `engines.training.document.profile_to_dict` writes them.

    ``level`` and ``target_grade`` are ``"V5"`` (with an optional ``level_system``) or
    ``{"system": "font", "grade": "6C+"}``; goals, injuries and equipment are lists of strings;
    ``history`` is ``{"analyses": n, "advice_counts": {...}, "metrics": {...}}``.

    Raises:
        TrainingInputError: a missing or unknown value; ``field`` names it, ``allowed`` lists the
            accepted values where there is a list.
    """
    level = _grade(body, "level")
    if level is None:
        raise TrainingInputError("level (current grade) is required", field="level")
    return TrainingProfile(
        level=level,
        age=body.get("age"),  # type: ignore[arg-type]  # checked in __post_init__
        days_per_week=body.get("days_per_week"),  # type: ignore[arg-type]
        session_minutes=body.get("session_minutes"),  # type: ignore[arg-type]
        goals=_values(body, "goals"),
        target_grade=_grade(body, "target_grade"),
        injuries=_values(body, "injuries"),
        equipment=_values(body, "equipment"),
        history=_history(body.get("history") or {}),
    )


def _history(body: object) -> AnalysisHistory:
    refused = TrainingInputError(
        "history must be {analyses: int, advice_counts: {rule_id: int}, metrics: {name: number}}",
        field="history",
        value=body,
    )
    if not isinstance(body, Mapping):
        raise refused
    analyses = body.get("analyses", 0)
    counts = body.get("advice_counts") or {}
    metrics = body.get("metrics") or {}
    if not (isinstance(counts, Mapping) and isinstance(metrics, Mapping)):
        raise refused
    if not all(_whole(n) for n in (analyses, *counts.values())):
        raise refused
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in metrics.values()):
        raise refused
    return AnalysisHistory(
        analyses=analyses,
        advice_counts={str(k): v for k, v in counts.items()},
        metrics={str(k): float(v) for k, v in metrics.items()},
    )


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def history_from_documents(documents: Iterable[Mapping[str, Any]]) -> AnalysisHistory:
    """Summarise analysis result documents (their ``metrics`` and ``advice[].rule_id``).

    Args:
        documents: decoded result documents, e.g. the climber's latest 20 analyses.

    Returns:
        The count of documents, in how many each advice rule fired, and each metric's mean over
        the documents that have it (null figures are skipped).
    """
    analyses = 0
    counts: dict[str, int] = {}
    sums: dict[str, list[float]] = {name: [] for name in METRICS}
    for document in documents:
        analyses += 1
        for rule_id in sorted({str(item.get("rule_id")) for item in document.get("advice", [])}):
            counts[rule_id] = counts.get(rule_id, 0) + 1
        metrics = document.get("metrics") or {}
        for name in METRICS:
            value = metrics.get(name)
            if isinstance(value, int | float) and math.isfinite(value):  # skips None, NaN
                sums[name].append(float(value))
    means = {name: round(sum(vs) / len(vs), 3) for name, vs in sums.items() if vs}
    return AnalysisHistory(analyses=analyses, advice_counts=counts, metrics=means)
