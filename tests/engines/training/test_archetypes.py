"""Example plans for archetype climbers: the key choices and the reasons that cite the inputs.

The profiles are in `tests.engines.training.archetypes`; the plans were read by hand (the issue's
note summarises them) and these tests pin the choices that matter.
"""

from __future__ import annotations

from typing import Any

import pytest

from engines.training import (
    CATALOGUE,
    FingerIntensity,
    Level,
    Note,
    Prescription,
    TrainingPlan,
    TrainingProfile,
    check_plan,
    generate_plan,
    profile_from_dict,
)
from tests.engines.training import archetypes

pytestmark = pytest.mark.unit


def plan_for(body: dict[str, Any]) -> tuple[TrainingPlan, TrainingProfile]:
    profile = profile_from_dict(body)
    plan = generate_plan(profile)
    assert check_plan(plan, profile) == []
    return plan, profile


def used(
    plan: TrainingPlan, *, kind: str | None = None, phase: str | None = None
) -> list[Prescription]:
    return [
        item
        for week in plan.weeks
        if (kind is None or week.kind == kind) and (phase is None or week.phase == phase)
        for session in week.sessions
        for item in session.exercises
    ]


def codes(notes: tuple[Note, ...]) -> list[str]:
    return [note.code for note in notes]


def test_beginner_with_a_pulley_injury_at_home() -> None:
    plan, _ = plan_for(archetypes.BEGINNER_PULLEY_HOME)
    assert plan.level is Level.BEGINNER and str(plan.grade_equivalent) == "5"
    assert [(p.name, p.first_week, p.last_week) for p in plan.phases] == [
        ("foundation", 1, 2),
        ("movement", 3, 4),
        ("deload", 5, 5),
        ("retest", 6, 6),
    ]
    assert plan.sessions_per_week == 2
    assert all([s.day for s in w.sessions] == [1, 4] for w in plan.weeks[:-1])
    # Nothing loads the injured finger: no hangboard, no campus, no bouldering at all.
    assert all(item.finger <= FingerIntensity.LOW for item in used(plan))
    assert not any(
        CATALOGUE[i.exercise_id].contraindications
        for i in used(plan)
        if "finger_pulley" in CATALOGUE[i.exercise_id].contraindications
    )
    assert {i.exercise_id for i in used(plan, kind="build")} >= {"push_ups", "dead_bug"}
    # Without a wall the technique goal cannot be trained: said, with the input that causes it.
    (goal,) = [c for c in plan.conflicts if c.code == "goal_not_trained"]
    assert goal.cites == ("goals.technique", "equipment") and "needs" in goal.message
    assert {"injury", "no_wall", "no_history"} <= set(codes(plan.notes))
    injury = next(n for n in plan.notes if n.code == "injury")
    assert injury.cites == ("injuries.finger_pulley",) and "H-tape" in injury.message
    assert [i.exercise_id for i in used(plan, kind="retest")] == [
        "warm_up",
        "test_push_ups",
        "test_plank",
    ]


def test_beginner_with_a_pulley_injury_in_a_gym_climbs_routes_not_boulders() -> None:
    plan, _ = plan_for({**archetypes.BEGINNER_PULLEY_HOME, "equipment": ["home", "gym"]})
    ids = {item.exercise_id for item in used(plan, kind="build")}
    assert "volume_bouldering" not in ids and "route_volume" in ids
    assert {"silent_feet", "hip_turn_in"} <= ids
    routes = next(
        i
        for w in plan.weeks
        for s in w.sessions
        if s.kind == "technique"
        for i in s.exercises
        if i.exercise_id == "route_volume"
    )
    assert (
        "Volume bouldering left out: contraindicated with a finger pulley injury" in routes.reason
    )
    assert "injuries.finger_pulley" in routes.cites
    assert "goal_not_trained" not in codes(plan.conflicts)


def test_intermediate_v5_after_power_with_gym_and_hangboard() -> None:
    plan, _ = plan_for(archetypes.INTERMEDIATE_POWER)
    assert plan.level is Level.INTERMEDIATE and str(plan.grade_equivalent) == "6C"
    assert [(p.name, p.first_week, p.last_week) for p in plan.phases] == [
        ("base", 1, 2),
        ("strength", 3, 4),
        ("power", 5, 6),
        ("deload", 7, 7),
        ("retest", 8, 8),
    ]
    assert all(len(w.sessions) == 4 for w in plan.weeks[:-1])
    assert [s.day for s in plan.weeks[0].sessions] == [1, 2, 4, 6]
    # Base: repeaters condition the tendons; strength: max hangs; power: power bouldering.
    assert "repeaters" in {i.exercise_id for i in used(plan, phase="base")}
    assert "max_hangs" not in {i.exercise_id for i in used(plan, phase="base")}
    max_hangs = next(i for i in used(plan, phase="strength") if i.exercise_id == "max_hangs")
    assert max_hangs.cites[0] == "goals.power" and "strength phase" in max_hangs.reason
    power = next(i for i in used(plan, phase="power") if i.exercise_id == "power_bouldering")
    assert "Campus ladders left out" in power.reason and "level" in power.cites
    # Two power days a week, never on consecutive days, within the intermediate cap.
    power_days = [s.day for s in plan.weeks[4].sessions if s.kind == "power"]
    assert power_days == [1, 6]
    assert max(w.high_finger_sets for w in plan.weeks) <= 16
    assert plan.conflicts == ()
    assert ("target", ("level", "target_grade")) in [(n.code, n.cites) for n in plan.notes]
    retest = {i.exercise_id for i in used(plan, kind="retest")}
    assert {"test_max_hang", "test_recorded_climb"} <= retest


def test_advanced_7c_plus_after_endurance_with_repeated_feet_cut() -> None:
    plan, profile = plan_for(archetypes.ADVANCED_ENDURANCE_FEET_CUT)
    assert plan.level is Level.ADVANCED and str(plan.grade_equivalent) == "5.13a"
    assert [p.name for p in plan.phases] == [
        "base",
        "strength",
        "power_endurance",
        "deload",
        "retest",
    ]
    # feet_cut in 4 of 6 climbs leads the focus; regrip (1 of 6) is not repeated enough.
    assert [f.code for f in plan.focus] == ["feet_cut", "bent_arms_rest"]
    assert plan.focus[0].cites == ("history.advice.feet_cut",)
    assert "4 of 6 analysed climbs" in plan.focus[0].reason
    drills = [i for i in used(plan, kind="build") if i.exercise_id in plan.focus[0].drills]
    assert {d.exercise_id for d in drills} == {"silent_feet", "steep_feet_on", "toe_hook_drill"}
    assert all(d.cites == ("history.advice.feet_cut",) for d in drills)
    # Every build week practises footwork.
    for week in plan.weeks[:-2]:
        ids = {i.exercise_id for s in week.sessions for i in s.exercises}
        assert ids & set(plan.focus[0].drills), week.number
    assert {"arc_traverse", "route_volume"} <= {i.exercise_id for i in used(plan, phase="base")}
    assert "max_hangs" in {i.exercise_id for i in used(plan, phase="strength")}
    assert "four_by_fours" in {i.exercise_id for i in used(plan, phase="power_endurance")}
    assert plan.conflicts == ()
    assert profile.history.analyses == 6


def test_seven_fifteen_minute_sessions_for_power_is_a_plan_with_its_conflicts() -> None:
    plan, _ = plan_for(archetypes.SEVEN_SHORT_SESSIONS_POWER)
    assert plan.sessions_per_week == 5
    found = codes(plan.conflicts)
    assert found[0] == "too_many_days" and "goal_not_trained" in found
    goal = next(c for c in plan.conflicts if c.code == "goal_not_trained")
    assert "session_minutes" in goal.cites and "Sessions of 29 minutes or more" in goal.message
    assert all(s.minutes <= 15 for w in plan.weeks for s in w.sessions)
    assert not any(s.finger_intensive for w in plan.weeks for s in w.sessions)


def test_low_movement_efficiency_adds_technique_volume() -> None:
    body = {
        **archetypes.INTERMEDIATE_POWER,
        "history": {"analyses": 5, "metrics": {"movement_efficiency": 0.5}},
    }
    plan, _ = plan_for(body)
    baseline, _ = plan_for(archetypes.INTERMEDIATE_POWER)
    kinds = [[s.kind for s in w.sessions] for w in plan.weeks[:-2]]
    assert all(week[:3].count("technique_volume") == 1 for week in kinds)
    note = next(n for n in plan.notes if n.code == "technique_volume")
    assert note.cites == ("history.metrics.movement_efficiency",) and "0.50" in note.message
    assert plan.focus[0].code == "low_movement_efficiency"
    hip_line = next(i for i in used(plan) if i.exercise_id == "hip_line_drill")
    assert hip_line.cites == ("history.metrics.movement_efficiency",)
    volume = next(s for s in plan.weeks[0].sessions if s.kind == "technique_volume")
    assert not volume.finger_intensive
    assert volume.cites == ("history.metrics.movement_efficiency",)
    drills = [
        i
        for w in plan.weeks[:-2]
        for s in w.sessions
        for i in s.exercises
        if i.category == "technique"
    ]
    assert len(drills) > len(
        [
            i
            for w in baseline.weeks[:-2]
            for s in w.sessions
            for i in s.exercises
            if i.category == "technique"
        ]
    )


def test_under_18_never_gets_campus_or_max_hangs() -> None:
    body = {
        **archetypes.INTERMEDIATE_POWER,
        "level": "V8",
        "age": 15,
        "equipment": ["gym", "hangboard", "campus_board", "system_board"],
    }
    plan, _ = plan_for(body)
    ids = {i.exercise_id for i in used(plan)}
    assert not ids & {"campus_ladders", "campus_feet_on", "max_hangs", "test_max_hang"}
    assert "board_power_problems" in ids
    assert max(w.high_finger_sets for w in plan.weeks) <= 12  # advanced cap 24, halved
    youth = next(n for n in plan.notes if n.code == "youth")
    assert youth.cites == ("age",)
