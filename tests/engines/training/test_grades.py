"""Grades: parsing, conversion within a discipline, levels, and errors listing allowed values."""

from __future__ import annotations

import pytest

from engines.training import (
    Grade,
    GradeSystem,
    Level,
    TrainingInputError,
    allowed_grades,
    convert,
    equivalent,
    level_of,
    parse_grade,
    steps_between,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "system", "canonical", "other"),
    [
        ("V5", GradeSystem.V, "V5", "6C"),
        ("v0", GradeSystem.V, "V0", "4"),
        ("6C+", GradeSystem.FONT, "6C+", "V5"),
        ("7A", GradeSystem.FONT, "7A", "V6"),
        ("7c+", GradeSystem.FRENCH, "7c+", "5.13a"),
        ("6a", GradeSystem.FRENCH, "6a", "5.10a"),
        ("5.12a", GradeSystem.YDS, "5.12a", "7a+"),
        ("5.11b", GradeSystem.YDS, "5.11b", "6c"),
        (" 5.10A ", GradeSystem.YDS, "5.10a", "6a"),
    ],
)
def test_parse_infers_the_system_and_converts_within_the_discipline(
    text: str, system: GradeSystem, canonical: str, other: str
) -> None:
    grade = parse_grade(text)
    assert (grade.system, grade.value) == (system, canonical)
    assert equivalent(grade).value == other


def test_explicit_system_overrides_the_spelling() -> None:
    assert parse_grade("6a", "font") == Grade(GradeSystem.FONT, "6A")
    assert parse_grade("3", "french") == Grade(GradeSystem.FRENCH, "3")


@pytest.mark.parametrize("system", list(GradeSystem))
def test_every_grade_converts_to_its_partner_and_keeps_its_level(system: GradeSystem) -> None:
    for value in allowed_grades(system):
        grade = Grade(system, value)
        partner = equivalent(grade)
        assert partner.discipline == grade.discipline
        assert level_of(partner) == level_of(grade)
        assert convert(partner, system).rung <= grade.rung  # many-to-one charts round down


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("V2", Level.BEGINNER),
        ("V3", Level.INTERMEDIATE),
        ("V6", Level.INTERMEDIATE),
        ("V7", Level.ADVANCED),
        ("V10", Level.ADVANCED),
        ("V11", Level.ELITE),
        ("5c", Level.BEGINNER),
        ("5.10a", Level.INTERMEDIATE),
        ("7a", Level.INTERMEDIATE),
        ("7a+", Level.ADVANCED),
        ("7c+", Level.ADVANCED),
        ("8a+", Level.ELITE),
    ],
)
def test_levels(text: str, level: Level) -> None:
    assert level_of(parse_grade(text)) is level


def test_steps_between_same_discipline_only() -> None:
    assert steps_between(parse_grade("V5"), parse_grade("V7")) == 3  # 6C -> 7A+
    assert steps_between(parse_grade("7c+"), parse_grade("8a")) == 1
    assert steps_between(parse_grade("V5"), parse_grade("7a")) is None
    with pytest.raises(ValueError, match="do not convert"):
        convert(parse_grade("V5"), GradeSystem.FRENCH)


@pytest.mark.parametrize(
    ("text", "system", "field", "allowed_sample"),
    [
        ("V18", None, "level", "V17"),
        ("7d", None, "level", "french:7c"),
        ("6Z", "font", "level", "6C+"),
        ("5.16a", "yds", "level", "5.15d"),
        ("6a", "ewbank", "level_system", "font"),
        ("3", None, "level_system", "french"),
    ],
)
def test_unknown_grades_raise_listing_allowed_values(
    text: str, system: str | None, field: str, allowed_sample: str
) -> None:
    with pytest.raises(TrainingInputError) as raised:
        parse_grade(text, system, field="level")
    assert raised.value.field == field
    assert allowed_sample in raised.value.allowed
    assert text.strip() in str(raised.value) or system in str(raised.value)
