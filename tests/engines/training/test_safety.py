"""The safety validator catches each rule's violation (it is not vacuous), and the rules cite
their sources. Plans are broken on purpose by editing a valid generated plan."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from engines.training import (
    CATALOGUE,
    SAFETY_RULES,
    TrainingPlan,
    UnsafePlanError,
    check_plan,
    generate_plan,
    profile_from_dict,
)
from engines.training.safety import assert_safe
from engines.training.sessions import prescribe
from tests.engines.training import archetypes

pytestmark = pytest.mark.unit


def rules_broken(plan: TrainingPlan, body: dict[str, Any]) -> set[str]:
    return {violation.rule for violation in check_plan(plan, profile_from_dict(body))}


def with_exercise(
    plan: TrainingPlan, exercise_id: str, *, week: int = 0, sets: int = 1
) -> TrainingPlan:
    """``plan`` with ``exercise_id`` appended to the first session of week index ``week``."""
    weeks = list(plan.weeks)
    session = weeks[week].sessions[0]
    item = prescribe(CATALOGUE[exercise_id], sets, None, "test", ())
    changed = replace(session, exercises=(*session.exercises, item))
    weeks[week] = replace(weeks[week], sessions=(changed, *weeks[week].sessions[1:]))
    return replace(plan, weeks=tuple(weeks))


def test_every_rule_has_a_source_and_every_plan_lists_them() -> None:
    ids = [rule.id for rule in SAFETY_RULES]
    assert len(ids) == len(set(ids))
    assert all(rule.rule and rule.source for rule in SAFETY_RULES)
    plan = generate_plan(profile_from_dict(archetypes.INTERMEDIATE_POWER))
    assert plan.rules == tuple(ids)


def test_contraindicated_exercise_is_caught() -> None:
    plan = generate_plan(profile_from_dict(archetypes.BEGINNER_PULLEY_HOME))
    broken = with_exercise(plan, "max_hangs")
    assert {"contraindications", "exercise_level_age", "plan.equipment"} <= rules_broken(
        broken, archetypes.BEGINNER_PULLEY_HOME
    )


def test_campus_for_beginners_and_youth_is_caught() -> None:
    body = {**archetypes.BEGINNER_PULLEY_HOME, "injuries": [], "equipment": ["campus_board"]}
    plan = with_exercise(generate_plan(profile_from_dict(body)), "campus_ladders")
    assert "no_campus_beginner" in rules_broken(plan, body)
    youth = {
        **archetypes.INTERMEDIATE_POWER,
        "level": "V9",
        "age": 16,
        "equipment": ["gym", "campus_board"],
    }
    plan = with_exercise(generate_plan(profile_from_dict(youth)), "campus_ladders")
    assert "no_campus_youth" in rules_broken(plan, youth)


def test_finger_days_in_a_row_are_caught_across_weeks_too() -> None:
    body = archetypes.INTERMEDIATE_POWER
    plan = generate_plan(profile_from_dict(body))
    week = plan.weeks[4]  # power phase: finger days 1, 4 and 6
    moved = tuple(replace(s, day=5) if s.day == 4 else s for s in week.sessions)
    weeks = list(plan.weeks)
    weeks[4] = replace(week, sessions=moved)
    assert "finger_rest_day" in rules_broken(replace(plan, weeks=tuple(weeks)), body)
    # Day 6 of one week and day 1 of the next are two days apart: allowed...
    assert rules_broken(plan, body) == set()
    # ...but a finger session on day 7 would touch next week's day 1.
    weeks[4] = replace(
        week, sessions=tuple(replace(s, day=7) if s.day == 6 else s for s in week.sessions)
    )
    assert {"finger_rest_day", "weekly_rest"} <= rules_broken(
        replace(plan, weeks=tuple(weeks)), body
    )


def test_finger_load_cap_warm_up_and_structure_are_caught() -> None:
    body = archetypes.INTERMEDIATE_POWER
    plan = generate_plan(profile_from_dict(body))
    heavy = with_exercise(plan, "limit_bouldering", week=4, sets=9)
    assert plan.weeks[4].high_finger_sets + 9 > 16
    assert "finger_load_cap" in rules_broken(heavy, body)
    week = plan.weeks[2]
    fingers = week.sessions[0]
    assert fingers.finger_intensive
    cold = replace(fingers, exercises=fingers.exercises[1:])
    weeks = list(plan.weeks)
    weeks[2] = replace(week, sessions=(cold, *week.sessions[1:]))
    assert "warm_up" in rules_broken(replace(plan, weeks=tuple(weeks)), body)
    no_deload = replace(plan, weeks=tuple(w for w in plan.weeks if w.kind != "deload"))
    assert "deload_retest" in rules_broken(no_deload, body)


def test_too_many_sessions_and_long_sessions_are_caught() -> None:
    body = archetypes.BEGINNER_PULLEY_HOME
    plan = generate_plan(profile_from_dict(body))
    week = plan.weeks[0]
    extra = tuple(replace(week.sessions[0], day=day) for day in (2, 3, 5))
    weeks = list(plan.weeks)
    weeks[0] = replace(week, sessions=(*week.sessions, *extra))
    assert "weekly_rest" in rules_broken(replace(plan, weeks=tuple(weeks)), body)
    short = {**body, "session_minutes": 30}
    assert "plan.session_minutes" in rules_broken(plan, short)


def test_assert_safe_raises_on_a_broken_plan() -> None:
    profile = profile_from_dict(archetypes.BEGINNER_PULLEY_HOME)
    plan = with_exercise(generate_plan(profile), "campus_ladders")
    with pytest.raises(UnsafePlanError, match="no_campus_beginner"):
        assert_safe(plan, profile)
