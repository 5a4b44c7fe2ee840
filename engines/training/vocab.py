"""The training vocabularies: goals, injuries, equipment, levels and finger intensities.

Values are lower-case strings (`StrEnum`), the same on the wire, in the database and in the plan
document. `allowed_values` lists them for API error messages; `parse_choices` turns strings into
members and refuses unknown ones with every allowed value in the error.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum, StrEnum
from typing import TypedDict, TypeVar

from engines.training.errors import TrainingInputError


class Goal(StrEnum):
    """What the climber wants from the block (a target grade is a separate profile field)."""

    FINGER_STRENGTH = "finger_strength"
    POWER = "power"
    ENDURANCE = "endurance"
    TECHNIQUE = "technique"


class Injury(StrEnum):
    """A current or recurring injury the plan must not load."""

    FINGER_PULLEY = "finger_pulley"
    FINGER_JOINT = "finger_joint"
    WRIST = "wrist"
    ELBOW = "elbow"
    SHOULDER = "shoulder"
    NECK = "neck"
    LOWER_BACK = "lower_back"
    HIP = "hip"
    KNEE = "knee"
    ANKLE = "ankle"


class Equipment(StrEnum):
    """Where and with what the climber trains; an exercise needs any one of its equipment."""

    GYM = "gym"  # an indoor climbing wall (boulders and/or routes)
    CRAG = "crag"  # outdoor rock
    HOME_WALL = "home_wall"
    SYSTEM_BOARD = "system_board"  # Moon/Kilter/Tension-style board
    HANGBOARD = "hangboard"
    CAMPUS_BOARD = "campus_board"
    PULL_UP_BAR = "pull_up_bar"
    WEIGHTS = "weights"
    RESISTANCE_BANDS = "resistance_bands"
    HOME = "home"  # floor space at home: bodyweight work only


class Level(StrEnum):
    """The climber's level, derived from their grade by `engines.training.grades.level_of`."""

    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"
    ELITE = "elite"

    @property
    def rank(self) -> int:
        return LEVELS.index(self)


LEVELS: tuple[Level, ...] = tuple(Level)


class FingerIntensity(IntEnum):
    """How hard an exercise loads the finger flexors and pulleys.

    MODERATE and HIGH make a day finger-intensive (it needs a finger rest day on each side);
    HIGH sets count against the weekly cap of `engines.training.safety`.
    """

    NONE = 0
    LOW = 1
    MODERATE = 2
    HIGH = 3


#: Equipment that is a climbing wall of some kind.
WALLS: frozenset[Equipment] = frozenset(
    {Equipment.GYM, Equipment.CRAG, Equipment.HOME_WALL, Equipment.SYSTEM_BOARD}
)


class AllowedValues(TypedDict):
    goals: list[str]
    injuries: list[str]
    equipment: list[str]
    grade_systems: list[str]
    grades: dict[str, list[str]]


def allowed_values() -> AllowedValues:
    """Every value each enumerated profile field accepts, for 422 messages and client forms.

    Returns:
        goals, injuries, equipment and grade systems, and each system's grades easiest first.
    """
    from engines.training.grades import GradeSystem, allowed_grades

    return {
        "goals": [goal.value for goal in Goal],
        "injuries": [injury.value for injury in Injury],
        "equipment": [each.value for each in Equipment],
        "grade_systems": [system.value for system in GradeSystem],
        "grades": {system.value: allowed_grades(system) for system in GradeSystem},
    }


E = TypeVar("E", bound=StrEnum)


def parse_choices(kind: type[E], values: Iterable[object], *, field: str) -> tuple[E, ...]:
    """Members of ``kind`` for ``values`` (strings or members), duplicates dropped, order kept.

    Raises:
        TrainingInputError: a value is not one of ``kind``; the message lists the allowed ones.
    """
    if isinstance(values, str):
        raise TrainingInputError(
            f"{field} must be a list of values, not one string", field=field, value=values
        )
    chosen: list[E] = []
    for value in values:
        try:
            member = kind(value)  # type: ignore[arg-type]  # refused below if not a str value
        except ValueError:
            allowed = [each.value for each in kind]
            raise TrainingInputError(
                f"unknown {field} value {value!r}; allowed: {', '.join(allowed)}",
                field=field,
                value=value,
                allowed=allowed,
            ) from None
        if member not in chosen:
            chosen.append(member)
    return tuple(chosen)
