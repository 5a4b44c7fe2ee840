"""The plan document and its published JSON Schema agree: every field documented, the schema's
enumerations equal the engine's, and the archetype documents validate."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from engines.training import (
    FORMAT,
    VERSION,
    Category,
    Equipment,
    FingerIntensity,
    Goal,
    GradeSystem,
    Injury,
    Level,
    encode_json,
    generate_plan,
    plan_to_document,
    profile_from_dict,
)
from engines.training.recipes import RECIPES
from tests.engines.training import archetypes

pytestmark = pytest.mark.unit

SCHEMA = json.loads(
    (Path(__file__).parents[3] / "schema/json/training_program.schema.json").read_text()
)
BODIES = [
    archetypes.BEGINNER_PULLEY_HOME,
    archetypes.INTERMEDIATE_POWER,
    archetypes.ADVANCED_ENDURANCE_FEET_CUT,
    archetypes.SEVEN_SHORT_SESSIONS_POWER,
]


def closed(schema: Any) -> Any:
    """A copy where every object with properties refuses others, so the serialiser cannot emit
    a field the published schema does not document (the published one stays open to readers)."""
    if isinstance(schema, dict):
        schema = {key: closed(value) for key, value in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [closed(each) for each in schema]
    return schema


def document(body: dict[str, Any]) -> dict[str, Any]:
    profile = profile_from_dict(body)
    return json.loads(encode_json(plan_to_document(generate_plan(profile), profile)))


def test_schema_is_valid_and_names_the_format_and_version() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["properties"]["format"]["const"] == FORMAT
    assert SCHEMA["properties"]["version"]["const"] == VERSION
    # Every field is required except `sources`, which the training activity adds when it stores
    # a program (the engine does not know analysis ids).
    assert set(SCHEMA["required"]) == set(SCHEMA["properties"]) - {"sources"}


@pytest.mark.parametrize("body", BODIES)
def test_archetype_documents_validate_with_every_field_documented(body: dict[str, Any]) -> None:
    doc = document(body)
    jsonschema.Draft202012Validator(closed(SCHEMA)).validate(doc)
    assert doc["format"] == FORMAT and doc["version"] == VERSION
    used = {e["exercise_id"] for w in doc["weeks"] for s in w["sessions"] for e in s["exercises"]}
    assert set(doc["exercises"]) == used
    assert doc["weeks_total"] == len(doc["weeks"]) == doc["phases"][-1]["last_week"]
    assert {rule["id"] for rule in doc["safety_rules"]} >= {"contraindications", "warm_up"}


def test_schema_enumerations_match_the_engine() -> None:
    defs = SCHEMA["$defs"]
    profile = defs["profile"]["properties"]
    assert profile["goals"]["items"]["enum"] == [goal.value for goal in Goal]
    assert profile["injuries"]["items"]["enum"] == [injury.value for injury in Injury]
    assert profile["equipment"]["items"]["enum"] == [each.value for each in Equipment]
    assert defs["grade"]["properties"]["system"]["enum"] == [s.value for s in GradeSystem]
    assert SCHEMA["properties"]["level"]["enum"] == [level.value for level in Level]
    assert defs["session"]["properties"]["kind"]["enum"] == list(RECIPES)
    assert defs["prescription"]["properties"]["category"]["enum"] == [c.value for c in Category]
    assert defs["prescription"]["properties"]["finger"]["enum"] == [
        f.name.lower() for f in FingerIntensity
    ]


def test_the_validator_rejects_a_broken_document() -> None:
    doc = document(archetypes.INTERMEDIATE_POWER)
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for breaks in (
        lambda d: d.update(version=2),
        lambda d: d["weeks"][0]["sessions"][0].update(day=7),
        lambda d: d["weeks"][0]["sessions"][0]["exercises"][0].update(rpe=11),
        lambda d: d["conflicts"].append({"code": "x", "message": "y", "cites": ["mood"]}),
        lambda d: d["profile"].update(goals=["flexibility"]),
    ):
        broken = copy.deepcopy(doc)
        breaks(broken)
        with pytest.raises(jsonschema.ValidationError):
            validator.validate(broken)


def test_same_profile_same_bytes() -> None:
    body = archetypes.ADVANCED_ENDURANCE_FEET_CUT
    assert json.dumps(document(body)) == json.dumps(document(dict(reversed(list(body.items())))))


def test_bytes_do_not_depend_on_the_hash_seed() -> None:
    """String hashing differs between processes; a plan built by iterating a set would too."""
    script = (
        "import hashlib, json, sys\n"
        "from engines.training import encode_json, generate_plan, plan_to_document, "
        "profile_from_dict\n"
        "from tests.engines.training import archetypes as a\n"
        "h = hashlib.sha256()\n"
        "for body in (a.BEGINNER_PULLEY_HOME, a.INTERMEDIATE_POWER, "
        "a.ADVANCED_ENDURANCE_FEET_CUT, a.SEVEN_SHORT_SESSIONS_POWER):\n"
        "    p = profile_from_dict(body)\n"
        "    h.update(encode_json(plan_to_document(generate_plan(p), p)))\n"
        "print(h.hexdigest())\n"
    )
    root = Path(__file__).parents[3]
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    here = hashlib.sha256()
    for body in BODIES:
        profile = profile_from_dict(body)
        here.update(encode_json(plan_to_document(generate_plan(profile), profile)))
    assert digests == {here.hexdigest()}
