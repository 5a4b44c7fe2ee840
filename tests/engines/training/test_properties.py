"""Properties of `generate_plan` over random profiles: every plan passes the safety validator,
never holds a contraindicated exercise, stays within the finger-load caps and rest days, keeps
campus boards from beginners and under-18s, is deterministic and validates against its schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engines.training import (
    CATALOGUE,
    FingerIntensity,
    Injury,
    Level,
    Prescription,
    Session,
    TrainingPlan,
    TrainingProfile,
    Week,
    check_plan,
    encode_json,
    generate_plan,
    plan_to_document,
)
from engines.training.safety import HIGH_FINGER_SETS, MAX_SESSIONS
from tests.engines.training.strategies import profiles

pytestmark = pytest.mark.unit

SCHEMA = json.loads(
    (Path(__file__).parents[3] / "schema/json/training_program.schema.json").read_text()
)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
EXAMPLES = settings(max_examples=150, deadline=None)


def exercises(plan: TrainingPlan) -> Iterator[tuple[Week, Session, Prescription]]:
    for week in plan.weeks:
        for session in week.sessions:
            for item in session.exercises:
                yield week, session, item


@EXAMPLES
@given(profiles())
def test_every_plan_passes_the_safety_validator(profile: TrainingProfile) -> None:
    assert check_plan(generate_plan(profile), profile) == []


@EXAMPLES
@given(profiles())
def test_no_contraindicated_exercise_for_any_injury_set(profile: TrainingProfile) -> None:
    injured = set(profile.injuries)
    for _, _, item in exercises(generate_plan(profile)):
        assert not CATALOGUE[item.exercise_id].contraindications & injured, item.exercise_id


@settings(max_examples=60, deadline=None)
@given(profiles(), st.sets(st.sampled_from(list(Injury)), min_size=1))
def test_declaring_more_injuries_never_adds_a_contraindicated_exercise(
    profile: TrainingProfile, extra: set[Injury]
) -> None:
    injured = replace(profile, injuries=tuple({*profile.injuries, *extra}))
    for _, _, item in exercises(generate_plan(injured)):
        assert not CATALOGUE[item.exercise_id].contraindications & set(injured.injuries)


@EXAMPLES
@given(profiles())
def test_finger_load_caps_rest_days_and_sessions(profile: TrainingProfile) -> None:
    plan = generate_plan(profile)
    cap = HIGH_FINGER_SETS[profile.climbing_level] // (2 if profile.age < 18 else 1)
    finger_days = []
    for week in plan.weeks:
        high = sum(
            item.sets
            for session in week.sessions
            for item in session.exercises
            if CATALOGUE[item.exercise_id].finger is FingerIntensity.HIGH
        )
        assert high <= cap
        assert len(week.sessions) <= min(profile.days_per_week, MAX_SESSIONS[plan.level])
        assert all(1 <= session.day <= 6 for session in week.sessions)  # day 7 rests
        assert all(session.minutes <= profile.session_minutes for session in week.sessions)
        finger_days += [
            (week.number - 1) * 7 + session.day
            for session in week.sessions
            if any(
                CATALOGUE[i.exercise_id].finger >= FingerIntensity.MODERATE
                for i in session.exercises
            )
        ]
    assert all(b - a >= 2 for a, b in pairwise(finger_days))


@EXAMPLES
@given(profiles())
def test_no_campus_board_for_beginners_or_under_18s(profile: TrainingProfile) -> None:
    campus = [
        item
        for _, _, item in exercises(generate_plan(profile))
        if CATALOGUE[item.exercise_id].campus
    ]
    if profile.climbing_level is Level.BEGINNER or profile.age < 18:
        assert campus == []


@EXAMPLES
@given(profiles())
def test_plan_shape_deload_then_retest(profile: TrainingProfile) -> None:
    plan = generate_plan(profile)
    assert [week.kind for week in plan.weeks][-2:] == ["deload", "retest"]
    assert all(week.kind == "build" for week in plan.weeks[:-2])
    assert plan.phases[0].first_week == 1 and plan.phases[-1].last_week == len(plan.weeks)
    for before, after in pairwise(plan.phases):
        assert after.first_week == before.last_week + 1
    assert all(session.exercises for week in plan.weeks for session in week.sessions)
    assert plan.weeks[-1].sessions, "the retest week has at least one session"


@settings(max_examples=60, deadline=None)
@given(profiles())
def test_deterministic_and_independent_of_set_order(profile: TrainingProfile) -> None:
    first = encode_json(plan_to_document(generate_plan(profile), profile))
    again = encode_json(plan_to_document(generate_plan(profile), profile))
    shuffled = replace(
        profile,
        injuries=tuple(reversed(profile.injuries)),
        equipment=tuple(reversed(profile.equipment)),
        history=replace(
            profile.history,
            advice_counts=dict(reversed(list(profile.history.advice_counts.items()))),
        ),
    )
    assert first == again == encode_json(plan_to_document(generate_plan(shuffled), shuffled))


@settings(max_examples=80, deadline=None)
@given(profiles())
def test_document_validates_against_the_schema(profile: TrainingProfile) -> None:
    document = json.loads(encode_json(plan_to_document(generate_plan(profile), profile)))
    VALIDATOR.validate(document)


@settings(max_examples=80, deadline=None)
@given(profiles())
def test_every_choice_has_a_reason_and_cites_only_profile_inputs(profile: TrainingProfile) -> None:
    plan = generate_plan(profile)
    for week in plan.weeks:
        assert week.reason
        for session in week.sessions:
            assert session.reason
            for item in session.exercises:
                assert item.reason
    for note in (*plan.conflicts, *plan.notes):
        assert note.message and note.code
    assert all(phase.reason for phase in plan.phases)
