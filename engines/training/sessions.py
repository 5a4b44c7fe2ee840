"""One session: a warm-up, then exercises chosen slot by slot within the session's minutes.

A recipe lists a session kind's slots; each slot names candidate exercises, best first, and takes
the first that suits the climber (`exercise.unsuitable`) and fits the minutes left. A session with
finger-intensive work gets `FINGER_WARM_UP_MINUTES` of warm-up; a light session excludes moderate
and high finger loads. A kind whose ``primary`` slot cannot be filled is not built; `why_missing`
says why, for the plan's conflicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from engines.training.catalogue import CATALOGUE
from engines.training.exercise import Exercise, unsuitable
from engines.training.plan import Focus, Prescription
from engines.training.profile import TrainingProfile
from engines.training.recipes import DRILL, PHASE_PRIMARY, RECIPES, primary_candidates
from engines.training.vocab import FingerIntensity

FINGER_WARM_UP_MINUTES: Final = 20
LIGHT_WARM_UP_MINUTES: Final = 10


@dataclass
class Drills:
    """The week's rotation of technique drills: history focus first, then defaults."""

    queue: tuple[str, ...]
    focus_of: dict[str, Focus]
    next: int = 0

    def take(self, used: set[str]) -> list[str]:
        """Drills in rotation order from the current position, skipping ``used``."""
        size = len(self.queue)
        order = [self.queue[(self.next + i) % size] for i in range(size)]
        return [drill for drill in order if drill not in used]

    def advance(self, drill: str) -> None:
        self.next = (self.queue.index(drill) + 1) % len(self.queue)


@dataclass
class Built:
    """A session's exercises before it has a day."""

    kind: str
    exercises: list[Prescription]

    @property
    def finger_intensive(self) -> bool:
        return any(p.finger >= FingerIntensity.MODERATE for p in self.exercises)


def prescribe(
    exercise: Exercise, sets: int, minutes: int | None, reason: str, cites: Sequence[str]
) -> Prescription:
    return Prescription(
        exercise_id=exercise.id,
        name=exercise.name,
        category=exercise.category.value,
        finger=exercise.finger,
        sets=sets,
        reps=exercise.reps,
        work_s=exercise.work_s,
        rest_s=exercise.rest_s,
        rpe=exercise.rpe,
        intensity=exercise.intensity,
        minutes=exercise.minutes(sets) if minutes is None else minutes,
        reason=reason,
        cites=tuple(dict.fromkeys(cites)),
    )


def _why_not(exercise: Exercise, profile: TrainingProfile) -> list[tuple[str, str]]:
    return unsuitable(
        exercise,
        level=profile.climbing_level,
        age=profile.age,
        injuries=profile.injuries,
        equipment=profile.equipment,
    )


def build_session(
    kind: str,
    profile: TrainingProfile,
    *,
    phase: str,
    reason: str,
    cites: tuple[str, ...],
    drills: Drills,
    light: bool = False,
) -> Built | None:
    """The session of ``kind`` for this profile, or None when its primary slot stays empty.

    Without ``light``, a session that turns out to hold no finger-intensive work is rebuilt light
    so the time a long warm-up would take goes to exercises.
    """
    start = drills.next
    if not light:
        full = _fill(kind, profile, phase, reason, cites, drills, FINGER_WARM_UP_MINUTES, False)
        if full is not None and full.finger_intensive:
            return full
        drills.next = start  # rebuilt light: no long warm-up, more time for exercises
    total = profile.session_minutes
    warm_up = min(LIGHT_WARM_UP_MINUTES, max(5, total // 5))
    return _fill(kind, profile, phase, reason, cites, drills, warm_up, True)


def _fill(
    kind: str,
    profile: TrainingProfile,
    phase: str,
    reason: str,
    cites: tuple[str, ...],
    drills: Drills,
    warm_up: int,
    light: bool,
) -> Built | None:
    left = profile.session_minutes - warm_up
    if left <= 0:
        return None
    built = Built(kind, [])
    used: set[str] = set()
    start = drills.next
    for role, slot in RECIPES[kind]:
        if slot is DRILL:
            candidates = tuple(drills.take(used))
        elif role == "primary":
            candidates = PHASE_PRIMARY.get((phase, kind), slot)
        else:
            candidates = slot
        chosen = None
        passed_over: list[tuple[str, str, str]] = []
        for exercise_id in candidates:
            if exercise_id in used:
                continue
            exercise = CATALOGUE[exercise_id]
            problems = _why_not(exercise, profile)
            if light and exercise.finger >= FingerIntensity.MODERATE:
                problems = [*problems, ("light session: no moderate or high finger load", "")]
            if not problems and exercise.minutes(exercise.min_sets) > left:
                problems = [
                    (
                        f"needs {exercise.minutes(exercise.min_sets)} min after a "
                        f"{warm_up}-min warm-up",
                        "session_minutes",
                    )
                ]
            if problems:
                passed_over += [(exercise_id, message, cite) for message, cite in problems]
                continue
            chosen = exercise
            break
        if chosen is None:
            if role == "primary":
                drills.next = start  # the session is dropped: its drills stay in the rotation
                return None
            continue
        sets = max(s for s in range(chosen.min_sets, chosen.sets + 1) if chosen.minutes(s) <= left)
        used.add(chosen.id)
        left -= chosen.minutes(sets)
        if slot is DRILL:
            drills.advance(chosen.id)
        built.exercises.append(_prescribed(chosen, sets, reason, cites, passed_over, drills))
    if not built.exercises:
        return None
    warm = CATALOGUE["warm_up"]
    why = (
        "Warm-up first: finger-intensive work follows"
        if built.finger_intensive
        else "Warm-up before training"
    )
    built.exercises.insert(0, prescribe(warm, 1, warm_up, why, cites))
    return built


def _prescribed(
    exercise: Exercise,
    sets: int,
    reason: str,
    cites: tuple[str, ...],
    passed_over: list[tuple[str, str, str]],
    drills: Drills,
) -> Prescription:
    focus = drills.focus_of.get(exercise.id)
    if focus is not None:
        why, cited = f"{exercise.name}: {focus.reason}", focus.cites
    else:
        why, cited = f"{exercise.name}: {exercise.benefit} ({reason})", cites
    if passed_over:
        other, message, cite = passed_over[0]
        why += f"; {CATALOGUE[other].name} left out: {message}"
        cited = (*cited, cite) if cite else cited
    return prescribe(exercise, sets, None, why, cited)


def why_missing(
    kind: str, phase: str, profile: TrainingProfile
) -> tuple[str, tuple[str, ...], int | None]:
    """Why no ``kind`` session can be built: each primary candidate and what rules it out, the
    cites, and the session minutes that would fit the shortest candidate ruled out only by time."""
    parts: list[str] = []
    cites: list[str] = []
    needs: list[int] = []
    candidates = primary_candidates(kind, phase)
    if candidates is DRILL:
        candidates = ("silent_feet",)  # stands for every drill: they share their needs
    for exercise_id in candidates:
        exercise = CATALOGUE[exercise_id]
        problems = _why_not(exercise, profile)
        warm_up = (
            FINGER_WARM_UP_MINUTES
            if exercise.finger >= FingerIntensity.MODERATE
            else LIGHT_WARM_UP_MINUTES
        )
        need = warm_up + exercise.minutes(exercise.min_sets)
        if not problems and need > profile.session_minutes:
            problems = [(f"needs a {need}-min session", "session_minutes")]
            needs.append(need)
        if not problems:
            problems = [("no session left for it", "days_per_week")]
        parts.append(f"{exercise.name} ({'; '.join(m for m, _ in problems)})")
        cites += [c for _, c in problems if c]
    return ", ".join(parts), tuple(dict.fromkeys(cites)), min(needs, default=None)
