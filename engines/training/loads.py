"""Week-to-week dose: progression inside a phase, the deload week, and the finger-load cap.

Progression adds one set to each session's main exercise from a phase's second week and one
point of effort from its third, never beyond the exercise's ``max_sets``, the session's minutes
or the weekly cap on high-intensity finger sets. The deload week halves the sets and lowers the
effort by two points (Anderson & Anderson's recovery before testing).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Final

from engines.training.catalogue import CATALOGUE
from engines.training.exercise import Category
from engines.training.plan import Prescription, Session
from engines.training.sessions import Built
from engines.training.vocab import FingerIntensity

#: Categories whose main exercise progresses week to week.
PROGRESSIVE: Final = frozenset(
    {
        Category.TECHNIQUE,
        Category.VOLUME,
        Category.FINGER_STRENGTH,
        Category.POWER,
        Category.POWER_ENDURANCE,
        Category.ENDURANCE,
        Category.STRENGTH,
    }
)
#: Categories whose effort rises in a phase's third week.
INTENSIFIED: Final = frozenset(
    {Category.FINGER_STRENGTH, Category.POWER, Category.POWER_ENDURANCE, Category.STRENGTH}
)
MAX_TRAINING_RPE: Final = 9
DELOAD_RPE_DROP: Final = 2


def high_sets(exercises: list[Prescription] | tuple[Prescription, ...]) -> int:
    return sum(p.sets for p in exercises if p.finger is FingerIntensity.HIGH)


def trim_high_sets(sessions: list[Built], cap: int) -> bool:
    """Lower the sets of high-intensity finger exercises, last session first, down to each
    exercise's ``min_sets``, until the week is within ``cap``. Returns whether it is."""
    excess = sum(high_sets(b.exercises) for b in sessions) - cap
    for built in reversed(sessions):
        for index in reversed(range(len(built.exercises))):
            item = built.exercises[index]
            if excess <= 0:
                return True
            if item.finger is not FingerIntensity.HIGH:
                continue
            exercise = CATALOGUE[item.exercise_id]
            cut = min(excess, item.sets - exercise.min_sets)
            if cut > 0:
                sets = item.sets - cut
                built.exercises[index] = replace(item, sets=sets, minutes=exercise.minutes(sets))
                excess -= cut
    return excess <= 0


def progress(sessions: list[Session], step: int, *, minutes: int, cap: int) -> list[Session]:
    """The phase's week ``step`` (0: as built): +1 set on main exercises from step 1, +1 effort
    on strength and power work from step 2, within ``minutes``, ``max_sets`` and ``cap``."""
    if step == 0:
        return sessions
    week_high = sum(s.high_finger_sets for s in sessions)
    result = []
    for session in sessions:
        items = list(session.exercises)
        total = session.minutes
        for index, item in enumerate(items):
            exercise = CATALOGUE[item.exercise_id]
            if exercise.category not in PROGRESSIVE:
                continue
            high = item.finger is FingerIntensity.HIGH
            longer = exercise.minutes(item.sets + 1) - item.minutes
            if (
                item.sets < exercise.max_sets
                and total + longer <= minutes
                and not (high and week_high + 1 > cap)
            ):
                items[index] = replace(item, sets=item.sets + 1, minutes=item.minutes + longer)
                total += longer
                week_high += 1 if high else 0
            break  # only the session's main exercise grows
        if step >= 2:
            items = [
                replace(p, rpe=min(MAX_TRAINING_RPE, p.rpe + 1))
                if CATALOGUE[p.exercise_id].category in INTENSIFIED
                else p
                for p in items
            ]
        result.append(replace(session, exercises=tuple(items)))
    return result


def deload(sessions: tuple[Session, ...]) -> list[Session]:
    """The deload week from the last build week: half the sets, two points less effort."""
    result = []
    for session in sessions:
        items = []
        for item in session.exercises:
            exercise = CATALOGUE[item.exercise_id]
            if exercise.category is Category.WARM_UP:
                items.append(item)
                continue
            sets = max(1, math.ceil(item.sets / 2))
            items.append(
                replace(
                    item,
                    sets=sets,
                    minutes=exercise.minutes(sets),
                    rpe=max(3, item.rpe - DELOAD_RPE_DROP),
                )
            )
        result.append(replace(session, exercises=tuple(items)))
    return result
