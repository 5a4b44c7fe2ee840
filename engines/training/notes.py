"""The plan's conflicts and notes about the profile itself: what could not be honoured as asked
(days, goals) and what the climber should know (injuries, youth rules, the analysis history)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from engines.training.catalogue import CATALOGUE
from engines.training.exercise import Category
from engines.training.history import HistoryReading
from engines.training.plan import Note, Week
from engines.training.profile import TrainingProfile
from engines.training.safety import max_sessions
from engines.training.sessions import why_missing
from engines.training.vocab import WALLS, Goal, Injury

GOAL_CATEGORIES: Final = {
    Goal.FINGER_STRENGTH: frozenset({Category.FINGER_STRENGTH}),
    Goal.POWER: frozenset({Category.POWER}),
    Goal.ENDURANCE: frozenset({Category.ENDURANCE, Category.POWER_ENDURANCE}),
    Goal.TECHNIQUE: frozenset({Category.TECHNIQUE}),
}
#: The session kind (and the phase it is planned in) that trains each goal.
GOAL_SESSION: Final = {
    Goal.FINGER_STRENGTH: ("fingers", "max_strength"),
    Goal.POWER: ("power", "power"),
    Goal.ENDURANCE: ("endurance", "base"),
    Goal.TECHNIQUE: ("technique", "base"),
}
FINGER_INJURIES: Final = frozenset({Injury.FINGER_PULLEY, Injury.FINGER_JOINT})


def profile_conflicts(profile: TrainingProfile) -> list[Note]:
    """Constraints refused before planning: more days than the level recovers from."""
    cap = max_sessions(profile)
    if profile.days_per_week <= cap:
        return []
    level = profile.climbing_level.value
    return [
        Note(
            "too_many_days",
            f"{profile.days_per_week} training days asked; at {level} "
            f"level the plan keeps to {cap} sessions a week and at least one full rest "
            "day, for recovery.",
            ("days_per_week", "level"),
        )
    ]


def goal_conflicts(profile: TrainingProfile, weeks: Sequence[Week]) -> list[Note]:
    """Each goal no build week trains, and why."""
    trained = {
        CATALOGUE[item.exercise_id].category
        for week in weeks
        if week.kind == "build"
        for session in week.sessions
        for item in session.exercises
    }
    found = []
    for goal in profile.goals:
        if trained & GOAL_CATEGORIES[goal]:
            continue
        kind, phase = GOAL_SESSION[goal]
        why, cites, need = why_missing(kind, phase, profile)
        advice = f" Sessions of {need} minutes or more would allow it." if need else ""
        found.append(
            Note(
                "goal_not_trained",
                f"Goal {goal.value.replace('_', ' ')} is not trained by this plan: {why}.{advice}",
                (f"goals.{goal.value}", *cites),
            )
        )
    return found


def profile_notes(profile: TrainingProfile, reading: HistoryReading) -> list[Note]:
    notes = []
    for injury in profile.injuries:
        message = (
            f"{injury.value.replace('_', ' ').capitalize()} injury: exercises that load "
            "it are left out. This is not a rehabilitation plan: follow your "
            "physiotherapist before loading it again."
        )
        if injury in FINGER_INJURIES:
            message += (
                " When you climb, prefer open-hand grips on big holds and tape the "
                "finger as shown to you (H-tape, Schöffl et al.)."
            )
        notes.append(Note("injury", message, (f"injuries.{injury.value}",)))
    if profile.youth:
        notes.append(
            Note(
                "youth",
                f"Age {profile.age}: no campus board and no max hangs before "
                "18, repeaters from 16, and half the adult cap on high-intensity "
                "finger sets (Morrison & Schöffl, 2007).",
                ("age",),
            )
        )
    if not set(profile.equipment) & WALLS:
        notes.append(
            Note(
                "no_wall",
                "No climbing wall in your equipment (gym, crag, home wall "
                "or board): the plan trains strength, core and mobility only. Add "
                "where you climb for technique and endurance sessions.",
                ("equipment",),
            )
        )
    history = profile.history
    if history.analyses == 0:
        notes.append(
            Note(
                "no_history",
                "No analysed climbs yet: technique drills are general. "
                "Upload climbs and the next plan targets what they show.",
                ("history",),
            )
        )
    elif not reading.focus:
        notes.append(
            Note(
                "history_no_focus",
                f"No advice repeats across your "
                f"{history.analyses} analysed climbs: technique drills are general.",
                ("history",),
            )
        )
    if reading.technique_volume is not None:
        volume = reading.technique_volume
        notes.append(Note("technique_volume", volume.reason.capitalize(), volume.cites))
    notes.extend(reading.notes)
    return notes
