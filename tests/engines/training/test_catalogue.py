"""The catalogue and the tables around it agree with each other and with the advice engine."""

from __future__ import annotations

import pytest

from engines.advice import RULES
from engines.training import CATALOGUE, EXERCISES, Category, FingerIntensity, Injury, Level
from engines.training.history import ADVICE_FOCUS, DEFAULT_DRILLS
from engines.training.recipes import DRILL, PHASE_PRIMARY, RECIPES, TITLES

pytestmark = pytest.mark.unit


def test_every_advice_rule_maps_to_drills() -> None:
    assert set(ADVICE_FOCUS) == set(RULES), "decide which drills answer the new advice rule"
    for _, drills in ADVICE_FOCUS.values():
        assert all(CATALOGUE[d].category is Category.TECHNIQUE for d in drills)
    assert all(CATALOGUE[d].category is Category.TECHNIQUE for d in DEFAULT_DRILLS)


def test_recipes_name_catalogue_exercises() -> None:
    for kind, slots in RECIPES.items():
        assert kind in TITLES
        for _, candidates in slots:
            assert candidates is DRILL or all(c in CATALOGUE for c in candidates), kind
    assert all(c in CATALOGUE for cs in PHASE_PRIMARY.values() for c in cs)


def test_finger_loading_exercises_are_contraindicated_for_finger_injuries() -> None:
    for exercise in EXERCISES:
        if exercise.finger >= FingerIntensity.MODERATE:
            assert {Injury.FINGER_PULLEY, Injury.FINGER_JOINT} <= exercise.contraindications


def test_campus_and_maximal_hangs_are_for_adults_above_beginner_level() -> None:
    for exercise in EXERCISES:
        if exercise.campus or exercise.id in ("max_hangs", "test_max_hang"):
            assert exercise.min_age >= 18
            assert exercise.min_level is not Level.BEGINNER
        if exercise.finger is FingerIntensity.HIGH:
            assert exercise.min_level is not Level.BEGINNER  # the beginner cap is 0


def test_every_injury_rules_something_out() -> None:
    ruled_out = {injury for exercise in EXERCISES for injury in exercise.contraindications}
    assert ruled_out == set(Injury)
