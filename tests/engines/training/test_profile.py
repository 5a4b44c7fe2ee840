"""Profiles from plain values: unknown values refused with the allowed ones, ranges, history."""

from __future__ import annotations

from typing import Any

import pytest

from engines.training import (
    AnalysisHistory,
    Equipment,
    Goal,
    GradeSystem,
    Injury,
    TrainingInputError,
    allowed_grades,
    allowed_values,
    history_from_documents,
    profile_from_dict,
    profile_to_dict,
)
from tests.engines.training import archetypes

pytestmark = pytest.mark.unit


def test_allowed_values_lists_every_enumerated_field() -> None:
    allowed = allowed_values()
    assert allowed["goals"] == [goal.value for goal in Goal]
    assert allowed["injuries"] == [injury.value for injury in Injury]
    assert allowed["equipment"] == [each.value for each in Equipment]
    assert allowed["grade_systems"] == ["font", "v", "french", "yds"]
    assert allowed["grades"]["v"] == allowed_grades(GradeSystem.V)
    assert {"finger_pulley", "elbow", "shoulder", "wrist", "knee", "lower_back"} <= set(
        allowed["injuries"]
    )
    assert {"hangboard", "campus_board", "gym", "home"} <= set(allowed["equipment"])


@pytest.mark.parametrize(
    ("field", "value", "enum"),
    [
        ("goals", ["power", "flexibility"], Goal),
        ("injuries", ["pinky"], Injury),
        ("equipment", ["gym", "treadwall"], Equipment),
    ],
)
def test_unknown_values_are_refused_with_the_allowed_ones(
    field: str, value: list[str], enum: Any
) -> None:
    with pytest.raises(TrainingInputError) as raised:
        profile_from_dict({**archetypes.INTERMEDIATE_POWER, field: value})
    assert raised.value.field == field
    assert raised.value.allowed == tuple(each.value for each in enum)
    assert str(value[-1]) in str(raised.value) and "allowed" in str(raised.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("age", 7),
        ("age", "25"),
        ("days_per_week", 0),
        ("days_per_week", 8),
        ("days_per_week", True),
        ("session_minutes", 5),
        ("session_minutes", None),
    ],
)
def test_out_of_range_numbers_are_refused(field: str, value: object) -> None:
    with pytest.raises(TrainingInputError) as raised:
        profile_from_dict({**archetypes.INTERMEDIATE_POWER, field: value})
    assert raised.value.field == field


def test_level_is_required_and_grades_take_either_form() -> None:
    body = {k: v for k, v in archetypes.INTERMEDIATE_POWER.items() if k != "level"}
    with pytest.raises(TrainingInputError, match="level"):
        profile_from_dict(body)
    nested = profile_from_dict({**body, "level": {"system": "font", "grade": "6c"}})
    flat = profile_from_dict({**body, "level": "6c", "level_system": "font"})
    assert nested.level == flat.level and str(flat.level) == "6C"
    with pytest.raises(TrainingInputError) as raised:
        profile_from_dict({**body, "level": "V5", "target_grade": "V99"})
    assert raised.value.field == "target_grade"


def test_a_single_string_is_not_a_list() -> None:
    with pytest.raises(TrainingInputError, match="list"):
        profile_from_dict({**archetypes.INTERMEDIATE_POWER, "goals": "power"})


def test_profile_round_trips_through_plain_values() -> None:
    for body in (archetypes.ADVANCED_ENDURANCE_FEET_CUT, archetypes.BEGINNER_PULLEY_HOME):
        profile = profile_from_dict(body)
        assert profile_from_dict(profile_to_dict(profile)) == profile


def test_history_counts_must_fit_the_analyses() -> None:
    with pytest.raises(TrainingInputError):
        AnalysisHistory(2, {"feet_cut": 3})
    with pytest.raises(TrainingInputError, match="allowed"):
        AnalysisHistory(2, {}, {"grip_strength": 1.0})


def test_history_from_result_documents() -> None:
    def document(rules: list[str], efficiency: float | None) -> dict[str, Any]:
        return {
            "metrics": {
                "max_reach_cm": 170.0,
                "avg_tension": None,
                "movement_efficiency": efficiency,
                "hold_count": 12,
            },
            "advice": [{"rule_id": rule, "severity": "warning"} for rule in rules],
        }

    history = history_from_documents(
        [
            document(["feet_cut", "feet_cut", "regrip"], 0.5),
            document(["feet_cut"], None),
            document([], 0.7),
        ]
    )
    assert history.analyses == 3
    assert history.advice_counts == {"feet_cut": 2, "regrip": 1}  # analyses, not occurrences
    assert history.metrics == {"max_reach_cm": 170.0, "movement_efficiency": 0.6}


@pytest.mark.parametrize(
    "history",
    [
        "lots",
        {"analyses": "3"},
        {"analyses": 3, "advice_counts": ["feet_cut"]},
        {"analyses": 3, "metrics": {"movement_efficiency": "low"}},
    ],
)
def test_malformed_history_is_refused(history: object) -> None:
    with pytest.raises(TrainingInputError) as raised:
        profile_from_dict({**archetypes.INTERMEDIATE_POWER, "history": history})
    assert raised.value.field == "history"
