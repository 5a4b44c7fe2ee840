"""What an exercise is: its category, equipment, finger load, contraindications and default dose.

The catalogue itself is data in `engines.training.catalogue`; this module holds the types and the
one function that says whether an exercise suits a climber (`unsuitable`), which the generator
uses to choose and the safety validator to check.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum

from engines.training.vocab import WALLS, Equipment, FingerIntensity, Injury, Level


class Category(StrEnum):
    WARM_UP = "warm_up"
    TECHNIQUE = "technique"
    VOLUME = "volume"
    FINGER_STRENGTH = "finger_strength"
    POWER = "power"
    POWER_ENDURANCE = "power_endurance"
    ENDURANCE = "endurance"
    STRENGTH = "strength"
    ANTAGONIST = "antagonist"
    CORE = "core"
    MOBILITY = "mobility"
    ASSESSMENT = "assessment"


@dataclass(frozen=True)
class Exercise:
    """One catalogue entry and its default prescription.

    Attributes:
        id: stable identifier, used in plans and by the validator.
        name: short English name.
        category: what the exercise trains.
        how: one-sentence instruction for the climber.
        benefit: what it is for, quoted in the reasons of the plan.
        equipment: any one of these is enough; empty: needs nothing.
        finger: how hard it loads the fingers.
        contraindications: declared injuries that rule it out.
        sets, reps: default dose; ``reps`` may count problems, hangs or laps (see ``how``).
        work_s: seconds of work per rep, where that is the measure (hangs, holds); else None.
        rest_s: rest between sets, seconds.
        rpe: default effort, rate of perceived exertion 1..10.
        intensity: the effort in words (load, grade, pace).
        set_minutes: minutes one set takes, its rest included (the time budget uses it).
        min_sets, max_sets: the dose may shrink to fit a session or grow with progression.
        min_level: the lowest level it is offered to.
        min_age: the youngest age it is offered to.
    """

    id: str
    name: str
    category: Category
    how: str
    benefit: str
    equipment: frozenset[Equipment] = field(default_factory=frozenset)
    finger: FingerIntensity = FingerIntensity.NONE
    contraindications: frozenset[Injury] = field(default_factory=frozenset)
    sets: int = 3
    reps: int = 1
    work_s: int | None = None
    rest_s: int = 60
    rpe: int = 6
    intensity: str = ""
    set_minutes: float = 2.0
    min_sets: int = 1
    max_sets: int = 0
    min_level: Level = Level.BEGINNER
    min_age: int = 0

    def __post_init__(self) -> None:
        if self.max_sets == 0:
            object.__setattr__(self, "max_sets", self.sets + 1)
        if not 1 <= self.min_sets <= self.sets <= self.max_sets:
            raise ValueError(f"{self.id}: needs 1 <= min_sets <= sets <= max_sets")
        if not 1 <= self.rpe <= 10:
            raise ValueError(f"{self.id}: rpe must be 1..10")
        if self.set_minutes <= 0:
            raise ValueError(f"{self.id}: set_minutes must be positive")

    @property
    def campus(self) -> bool:
        """True for campus-board work (the youth and beginner rules single it out)."""
        return Equipment.CAMPUS_BOARD in self.equipment

    @property
    def needs_wall(self) -> bool:
        return bool(self.equipment) and self.equipment <= WALLS

    def minutes(self, sets: int) -> int:
        """Whole minutes ``sets`` sets take."""
        return max(1, round(self.set_minutes * sets))


def unsuitable(
    exercise: Exercise,
    *,
    level: Level,
    age: int,
    injuries: Collection[Injury],
    equipment: Collection[Equipment],
) -> list[tuple[str, str]]:
    """Why ``exercise`` does not suit this climber, as ``(message, cited input)`` pairs, in a fixed
    order; empty when it does. Equipment is a fit, the rest are safety rules."""
    found: list[tuple[str, str]] = []
    for injury in sorted(exercise.contraindications & set(injuries)):
        found.append(
            (
                f"contraindicated with a {injury.value.replace('_', ' ')} injury",
                f"injuries.{injury.value}",
            )
        )
    if exercise.campus and level is Level.BEGINNER:
        found.append(("no campus board for beginners", "level"))
    elif level.rank < exercise.min_level.rank:
        found.append((f"from {exercise.min_level.value} level on", "level"))
    if age < exercise.min_age:
        found.append((f"not before age {exercise.min_age}", "age"))
    if exercise.equipment and not exercise.equipment & set(equipment):
        names = " or ".join(sorted(each.value.replace("_", " ") for each in exercise.equipment))
        found.append((f"needs {names}", "equipment"))
    return found
