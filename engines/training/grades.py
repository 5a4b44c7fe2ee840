"""Climbing grades: the only place they are parsed, converted and turned into a level.

Two disciplines, two systems each: bouldering in Font (``6C+``) or Hueco V (``V5``), sport in
French (``7c+``) or YDS (``5.13a``). Each discipline is one ladder of rungs; a rung pairs the
grades the usual conversion charts put side by side, so converting is reading the other column
of the first rung a grade appears on. Boulder and sport grades are never converted into each
other: the charts that do it disagree by several grades.

Without an explicit system, the usual spelling decides: ``V…`` is V, ``5.…`` YDS, lower-case
letters French, upper-case Font (``6a`` is French, ``6A`` Font). ``3`` exists in Font and French
and needs a system.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Literal

from engines.training.errors import TrainingInputError
from engines.training.vocab import Level


class GradeSystem(StrEnum):
    FONT = "font"
    V = "v"
    FRENCH = "french"
    YDS = "yds"


Discipline = Literal["boulder", "sport"]

#: Bouldering rungs, easiest first: (Font, V).
BOULDER_RUNGS: Final = (
    ("3", "VB"), ("4", "V0"), ("4+", "V0"), ("5", "V1"), ("5+", "V2"), ("6A", "V3"),
    ("6A+", "V3"), ("6B", "V4"), ("6B+", "V4"), ("6C", "V5"), ("6C+", "V5"), ("7A", "V6"),
    ("7A+", "V7"), ("7B", "V8"), ("7B+", "V8"), ("7C", "V9"), ("7C+", "V10"), ("8A", "V11"),
    ("8A+", "V12"), ("8B", "V13"), ("8B+", "V14"), ("8C", "V15"), ("8C+", "V16"), ("9A", "V17"),
)  # fmt: skip
#: Sport rungs, easiest first: (French, YDS).
SPORT_RUNGS: Final = (
    ("3", "5.4"), ("4a", "5.5"), ("4b", "5.6"), ("4c", "5.7"), ("5a", "5.8"), ("5b", "5.9"),
    ("5c", "5.9"), ("6a", "5.10a"), ("6a+", "5.10b"), ("6b", "5.10c"), ("6b+", "5.10d"),
    ("6c", "5.11a"), ("6c", "5.11b"), ("6c+", "5.11c"), ("7a", "5.11d"), ("7a+", "5.12a"),
    ("7b", "5.12b"), ("7b+", "5.12c"), ("7c", "5.12d"), ("7c+", "5.13a"), ("8a", "5.13b"),
    ("8a+", "5.13c"), ("8b", "5.13d"), ("8b+", "5.14a"), ("8c", "5.14b"), ("8c+", "5.14c"),
    ("9a", "5.14d"), ("9a+", "5.15a"), ("9b", "5.15b"), ("9b+", "5.15c"), ("9c", "5.15d"),
)  # fmt: skip

_LADDER: Final = {
    GradeSystem.FONT: (BOULDER_RUNGS, 0),
    GradeSystem.V: (BOULDER_RUNGS, 1),
    GradeSystem.FRENCH: (SPORT_RUNGS, 0),
    GradeSystem.YDS: (SPORT_RUNGS, 1),
}
#: The other system of the same discipline.
_PARTNER: Final = {
    GradeSystem.FONT: GradeSystem.V,
    GradeSystem.V: GradeSystem.FONT,
    GradeSystem.FRENCH: GradeSystem.YDS,
    GradeSystem.YDS: GradeSystem.FRENCH,
}


def _first_rungs(system: GradeSystem) -> dict[str, int]:
    rungs, column = _LADDER[system]
    index: dict[str, int] = {}
    for rung, pair in enumerate(rungs):
        index.setdefault(pair[column], rung)
    return index


#: Grade -> the first rung it appears on, per system (insertion order: easiest first).
_RUNG: Final = {system: _first_rungs(system) for system in GradeSystem}

#: First rung of each level above beginner, per discipline (grades below it: the level before).
#: Boulder: V3/6A intermediate, V7/7A+ advanced, V11/8A elite. Sport: 6a/5.10a intermediate,
#: 7a+/5.12a advanced, 8a+/5.13c elite.
_LEVEL_FLOORS: Final = {
    "boulder": ((Level.INTERMEDIATE, "6A"), (Level.ADVANCED, "7A+"), (Level.ELITE, "8A")),
    "sport": ((Level.INTERMEDIATE, "6a"), (Level.ADVANCED, "7a+"), (Level.ELITE, "8a+")),
}


@dataclass(frozen=True)
class Grade:
    """A grade in one system, spelled canonically (``Grade(GradeSystem.FONT, "6C+")``)."""

    system: GradeSystem
    value: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "system", GradeSystem(self.system))
        if self.value not in _RUNG[self.system]:
            raise _unknown(self.value, self.system, field="grade")

    @property
    def discipline(self) -> Discipline:
        return "boulder" if self.system in (GradeSystem.FONT, GradeSystem.V) else "sport"

    @property
    def rung(self) -> int:
        """Position on its discipline's ladder (0: the easiest grade)."""
        return _RUNG[self.system][self.value]

    def __str__(self) -> str:
        return self.value


def allowed_grades(system: GradeSystem | str) -> list[str]:
    """Every grade of ``system``, easiest first."""
    return list(_RUNG[GradeSystem(system)])


def _unknown(text: str, system: GradeSystem | None, *, field: str) -> TrainingInputError:
    if system is None:
        allowed = [f"{s.value}:{g}" for s in GradeSystem for g in _RUNG[s]]
        hint = "; ".join(f"{s.value}: {', '.join(_RUNG[s])}" for s in GradeSystem)
    else:
        allowed = allowed_grades(system)
        hint = f"{system.value}: {', '.join(allowed)}"
    return TrainingInputError(
        f"unknown grade {text!r}; allowed {hint}", field=field, value=text, allowed=allowed
    )


def _canonical(text: str, system: GradeSystem) -> str:
    if system is GradeSystem.FONT:
        return text.upper()
    if system is GradeSystem.V:
        return text.upper()
    return text.lower()


def _infer(text: str) -> GradeSystem | None:
    if text[:1] in "Vv":
        return GradeSystem.V
    if text.startswith("5."):
        return GradeSystem.YDS
    if any(letter in text for letter in "abc"):
        return GradeSystem.FRENCH
    if any(letter in text for letter in "ABC"):
        return GradeSystem.FONT
    if text in _RUNG[GradeSystem.FONT] and text not in _RUNG[GradeSystem.FRENCH]:
        return GradeSystem.FONT
    return None


def parse_grade(
    text: str, system: GradeSystem | str | None = None, *, field: str = "grade"
) -> Grade:
    """The grade ``text`` names, in ``system`` or the system its spelling implies.

    Args:
        text: ``"V5"``, ``"6C+"``, ``"7c+"``, ``"5.12a"``...
        system: ``"font"``, ``"v"``, ``"french"`` or ``"yds"``; None: inferred (module docstring).
        field: the profile field named in errors.

    Raises:
        TrainingInputError: unknown system or grade, or a grade whose system cannot be told;
            the message and ``allowed`` list the accepted values.
    """
    cleaned = text.strip().replace(" ", "") if isinstance(text, str) else ""
    if system is not None:
        try:
            system = GradeSystem(system)
        except ValueError:
            allowed = [s.value for s in GradeSystem]
            raise TrainingInputError(
                f"unknown grade system {system!r}; allowed: {', '.join(allowed)}",
                field=f"{field}_system",
                value=system,
                allowed=allowed,
            ) from None
    else:
        system = _infer(cleaned)
        if system is None and cleaned in _RUNG[GradeSystem.FONT]:
            raise TrainingInputError(
                f"grade {cleaned!r} exists in Font and French: give its system",
                field=f"{field}_system",
                value=text,
                allowed=[s.value for s in GradeSystem],
            )
    if system is None or _canonical(cleaned, system) not in _RUNG[system]:
        raise _unknown(text, system, field=field)
    return Grade(system, _canonical(cleaned, system))


def convert(grade: Grade, system: GradeSystem | str) -> Grade:
    """``grade`` in ``system``, which must be of the same discipline (Font <-> V, French <-> YDS).

    Raises:
        ValueError: ``system`` is of the other discipline.
    """
    system = GradeSystem(system)
    if system is grade.system:
        return grade
    if _PARTNER[grade.system] is not system:
        raise ValueError(f"{grade.system.value} grades do not convert to {system.value}")
    rungs, column = _LADDER[system]
    return Grade(system, rungs[grade.rung][column])


def equivalent(grade: Grade) -> Grade:
    """The same grade in the other system of its discipline (``6C+`` -> ``V5``)."""
    return convert(grade, _PARTNER[grade.system])


def level_of(grade: Grade) -> Level:
    """The climber's level for their current grade (thresholds in ``_LEVEL_FLOORS``)."""
    floors = _LEVEL_FLOORS[grade.discipline]
    primary = grade.system in (GradeSystem.FONT, GradeSystem.FRENCH)
    canonical = grade if primary else equivalent(grade)
    level = Level.BEGINNER
    for candidate, floor in floors:
        if canonical.rung >= _RUNG[canonical.system][floor]:
            level = candidate
    return level


def steps_between(current: Grade, target: Grade) -> int | None:
    """Rungs from ``current`` up to ``target`` (negative: the target is easier); None when the
    two are of different disciplines and cannot be compared."""
    if current.discipline != target.discipline:
        return None
    return target.rung - current.rung
