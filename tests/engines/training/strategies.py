"""Hypothesis strategies for climber profiles, and a seeded plain-random one for the bench."""

from __future__ import annotations

from hypothesis import strategies as st

from engines.training import (
    AnalysisHistory,
    Equipment,
    Goal,
    Grade,
    GradeSystem,
    Injury,
    TrainingProfile,
    allowed_grades,
)
from engines.training.history import ADVICE_FOCUS

GRADES = [Grade(system, value) for system in GradeSystem for value in allowed_grades(system)]
#: Advice rule ids a history may hold: every mapped one and one the generator does not know.
RULE_IDS = [*ADVICE_FOCUS, "rule_from_a_newer_backend"]


@st.composite
def histories(draw: st.DrawFn) -> AnalysisHistory:
    analyses = draw(st.integers(0, 30))
    counts = draw(st.dictionaries(st.sampled_from(RULE_IDS), st.integers(0, analyses)))
    metrics = {}
    if analyses:
        for name, low, high in (("movement_efficiency", 0.0, 1.0), ("avg_tension", 0.0, 1.5)):
            value = draw(st.none() | st.floats(low, high))
            if value is not None:
                metrics[name] = value
    return AnalysisHistory(analyses, counts, metrics)


@st.composite
def profiles(draw: st.DrawFn) -> TrainingProfile:
    return TrainingProfile(
        level=draw(st.sampled_from(GRADES)),
        age=draw(st.integers(8, 80)),
        days_per_week=draw(st.integers(1, 7)),
        session_minutes=draw(st.integers(10, 300)),
        goals=tuple(draw(st.lists(st.sampled_from(list(Goal)), unique=True, max_size=4))),
        target_grade=draw(st.none() | st.sampled_from(GRADES)),
        injuries=tuple(draw(st.sets(st.sampled_from(list(Injury))))),
        equipment=tuple(draw(st.sets(st.sampled_from(list(Equipment))))),
        history=draw(histories()),
    )
