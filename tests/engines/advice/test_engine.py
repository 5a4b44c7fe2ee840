"""generate_advice(): the registry, ordering, determinism and the item contract."""

from __future__ import annotations

import json

import pytest

from engines.advice import RULES, AdviceItem, generate_advice
from engines.advice.engine import RULE_MODULES
from engines.biomech import analyse
from tests.engines.advice.scenarios import (
    HOLD_MAP,
    MORPHOLOGY,
    analysed,
    feet_off,
    flag_traverse,
    hand_move,
    hesitating_move,
    one_sided,
    regripping,
    resting,
    span_move,
)

pytestmark = pytest.mark.unit


def test_at_least_eight_documented_rules_are_registered() -> None:
    assert len(RULES) >= 8
    for rule_id, rule in RULES.items():
        assert rule.id == rule_id
        assert rule.summary and rule.summary != rule_id
        assert rule.check.__module__ in {module.__name__ for module in RULE_MODULES}


def test_every_rule_fires_on_some_constructed_climb() -> None:
    climbs = [
        resting(elbow_deg=90.0),
        hand_move(hip_depth=65.0, shoulder_depth=35.0),
        hand_move(wander_cm=15.0),
        feet_off(both=True),
        regripping(times=3),
        hesitating_move(hover_s=2.0),
        flag_traverse(match_first=False, flag=True),
        one_sided(left_foot_on=False),
        span_move(to=240.0),
    ]

    fired = {item.rule_id for timeline in climbs for item in analysed(timeline).advice}

    assert fired == set(RULES)


def test_advice_is_sorted_deterministic_and_json_ready() -> None:
    timeline = hand_move(hip_depth=65.0, shoulder_depth=35.0)

    first = analysed(timeline).advice
    second = analysed(timeline).advice

    assert first == second
    assert [(i.start_s, i.rule_id) for i in first] == sorted((i.start_s, i.rule_id) for i in first)
    document = json.loads(json.dumps([item.to_dict() for item in first]))
    assert {entry["message_key"] for entry in document} == {
        f"advice.{item.rule_id}" for item in first
    }
    for entry in document:
        assert entry["severity"] in {"info", "warning", "critical"}
        assert entry["message_en"]
        assert all(isinstance(value, float) for value in entry["evidence"].values())


def test_rules_can_be_selected() -> None:
    result = analysed(resting(elbow_deg=90.0))

    only = generate_advice(
        result.timeline,
        result.track,
        result.moves,
        result.biomech,
        HOLD_MAP,
        MORPHOLOGY,
        rules=["feet_cut"],
    )

    assert result.of("bent_arms_rest")
    assert only == []
    with pytest.raises(KeyError):
        generate_advice(
            result.timeline,
            result.track,
            result.moves,
            result.biomech,
            HOLD_MAP,
            MORPHOLOGY,
            rules=["no_such_rule"],
        )


def test_biomechanics_of_another_move_list_are_rejected() -> None:
    result = analysed(hand_move())
    stale = analyse(result.timeline, result.track, [], MORPHOLOGY)

    with pytest.raises(ValueError, match="move list"):
        generate_advice(result.timeline, result.track, result.moves, stale, HOLD_MAP, MORPHOLOGY)


def test_items_check_their_contract() -> None:
    fields = dict(
        rule_id="feet_cut",
        move_index=None,
        start_s=1.0,
        end_s=2.0,
        limbs=("left_foot",),
        holds=("f1",),
        severity="warning",
        message_key="advice.feet_cut",
        message_en="Feet!",
        evidence={"duration_s": 1.0},
    )
    AdviceItem(**fields)  # type: ignore[arg-type]

    for bad in (
        {"severity": "fatal"},
        {"end_s": 0.5},
        {"message_key": "advice.other"},
        {"evidence": {"duration_s": float("nan")}},
    ):
        with pytest.raises(ValueError):
            AdviceItem(**{**fields, **bad})  # type: ignore[arg-type]
