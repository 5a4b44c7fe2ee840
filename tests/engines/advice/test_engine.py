"""generate_advice(): the registry, merging, ranking, the cap, determinism and the item contract."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from engines.advice import RULES, AdviceItem, generate_advice
from engines.advice.context import AdviceContext, held_level
from engines.advice.engine import (
    CRITICAL_MIN_CONFIDENCE,
    HOLDS_UNREAD_ID,
    MAX_ITEMS,
    RULE_MODULES,
    merge_findings,
    rank,
    score,
)
from engines.advice.model import Occurrence, Rule
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
    rigid_stand_in,
    span_move,
    wall_climb,
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


def test_advice_is_ranked_deterministic_and_json_ready() -> None:
    timeline = hand_move(hip_depth=65.0, shoulder_depth=35.0)

    first = analysed(timeline).advice
    second = analysed(timeline).advice

    assert first == second
    assert len(first) >= 2
    assert [score(item) for item in first] == sorted((score(i) for i in first), reverse=True)
    document = json.loads(json.dumps([item.to_dict() for item in first]))
    assert {entry["message_key"] for entry in document} == {
        f"advice.{item.rule_id}" for item in first
    }
    for entry in document:
        assert entry["severity"] in {"info", "warning", "critical"}
        assert entry["message_en"]
        assert all(isinstance(value, float) for value in entry["evidence"].values())
        assert 0.0 < entry["confidence"] <= 1.0
        assert entry["occurrences"] and all(
            set(occurrence) == {"move_index", "start_s", "end_s", "holds", "severity", "evidence"}
            for occurrence in entry["occurrences"]
        )


def test_a_finding_repeated_on_several_moves_is_one_item_with_its_occurrences() -> None:
    # A 22 s climb up a ladder of holds: the hips stand 34 cm off the wall (beyond the ankles)
    # on every hand move and come back in for the foot moves. Only the left-hand moves are out
    # for all their frames (the right-hand ones start with the hips still coming out).
    result = wall_climb("stretched", hips_out="on_reach").analysed()

    [item] = result.of("hips_far_from_wall")
    assert [o.move_index for o in item.occurrences] == [1, 5, 9, 13]
    assert all(result.moves[o.move_index].limb.value == "left_hand" for o in item.occurrences)
    assert item.evidence["occurrences"] == 4.0
    assert item.message_en.startswith("Hips far from the wall on 4 moves: 2 (")
    assert f"Move {item.move_index + 1}: your hips were about" in item.message_en
    # The quoted figures are the worst occurrence's, and every occurrence keeps its own.
    worst = max(o.evidence["hip_wall_cm"] for o in item.occurrences)
    assert item.evidence["hip_wall_cm"] == worst
    # The hips stand 60 cm off the wall, the ankles ~25: 35 cm by the proxy, give or take.
    assert all(o.evidence["hip_wall_cm"] == pytest.approx(34.0, abs=6.0) for o in item.occurrences)
    assert [o.start_s for o in item.occurrences] == sorted(o.start_s for o in item.occurrences)
    # Holds of every occurrence: L0 -> L1, L1 -> L2, ...
    assert item.holds == ("L0", "L1", "L2", "L3", "L4")
    # A depth inferred from foreshortening is never the thing to fix first.
    assert item.severity == "warning"
    assert item.confidence == pytest.approx(RULES["hips_far_from_wall"].confidence)


def _finding(rule_id: str, severity: str, start_s: float, **evidence: float) -> AdviceItem:
    return AdviceItem(
        rule_id=rule_id,
        move_index=int(start_s),
        start_s=start_s,
        end_s=start_s + 0.5,
        limbs=("right_hand",),
        holds=(f"h{int(start_s)}",),
        severity=severity,  # type: ignore[arg-type]
        message_key=f"advice.{rule_id}",
        message_en=f"Move {int(start_s) + 1}: something.",
        evidence=evidence,
    )


def _rule_named(rule_id: str, confidence: float, found: list[AdviceItem]) -> Rule:
    def check(ctx: AdviceContext) -> list[AdviceItem]:
        return found

    return Rule(rule_id, check, "A test rule.", rule_id.title(), confidence, "figure")


def test_merging_quotes_the_worst_occurrence_and_keeps_severity_honest() -> None:
    found = [
        _finding("sample", "warning", 1.0, figure=3.0),
        _finding("sample", "critical", 4.0, figure=2.0),
        _finding("sample", "warning", 7.0, figure=9.0),
    ]

    sure = merge_findings(_rule_named("sample", 0.9, found), found)
    unsure = merge_findings(_rule_named("sample", CRITICAL_MIN_CONFIDENCE - 0.1, found), found)

    # Severity first, then the measure: the critical one is quoted.
    assert (sure.move_index, sure.severity, sure.evidence["figure"]) == (4, "critical", 2.0)
    assert sure.occurrences == tuple(item.occurrence() for item in found)
    assert sure.occurrences[0] == Occurrence(1, 1.0, 1.5, ("h1",), "warning", {"figure": 3.0})
    assert sure.holds == ("h1", "h4", "h7")
    assert (
        sure.message_en
        == "Sample on 3 moves: 2 (1.0 s), 5 (4.0 s) and 8 (7.0 s). Move 5: something."
    )
    # Critical needs a confidence the video can back.
    assert unsure.severity == "warning"
    assert unsure.occurrences[1].severity == "critical"


def test_nothing_is_critical_in_a_climb_where_no_hand_held_a_hold() -> None:
    found = [_finding("sample", "critical", 4.0, figure=2.0)]

    merged = merge_findings(_rule_named("sample", 0.9, found), found, holds_read=False)

    assert merged.severity == "warning"
    assert merged.occurrences[0].severity == "critical"


def test_a_climb_without_hand_contacts_says_so_once_and_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    climb = rigid_stand_in()
    result = climb.analysed(max_items=None)
    # Even a rule that calls its finding critical is not the thing to fix first here.
    found = [_finding("loud", "critical", 4.0, figure=2.0)]
    monkeypatch.setitem(RULES, "loud", _rule_named("loud", 0.9, found))

    advice = generate_advice(
        result.timeline, result.track, result.moves, result.biomech, climb.hold_map, MORPHOLOGY
    )

    notice = advice[0]
    assert [item.rule_id for item in advice].count(HOLDS_UNREAD_ID) == 1
    assert notice.rule_id == HOLDS_UNREAD_ID and notice.severity == "info"
    assert notice.move_index is None and notice.holds == ()
    assert notice.evidence["hand_contact_s"] == 0.0
    assert notice.evidence["foot_contact_s"] > 0.0
    assert (notice.start_s, notice.end_s) == pytest.approx((0.0, 12.03), abs=0.05)
    assert "could not be read" in notice.message_en
    assert notice.occurrences == (notice.occurrence(),)
    assert [(item.rule_id, item.severity) for item in advice[1:]] == [("loud", "warning")]
    assert json.loads(json.dumps(notice.to_dict()))["message_key"] == f"advice.{HOLDS_UNREAD_ID}"
    # The notice is about the inputs, not a coaching rule: no drill answers it.
    assert HOLDS_UNREAD_ID not in RULES


def test_a_climb_with_hand_contacts_gets_no_unread_notice() -> None:
    for timeline in (hand_move(), feet_off(both=True), one_sided(left_foot_on=False)):
        assert all(item.rule_id != HOLDS_UNREAD_ID for item in analysed(timeline).advice)


def test_the_held_level_ignores_a_spike() -> None:
    values = np.array([1.0, 5.0, 5.0, 5.0, 30.0, 5.0, 2.0, np.nan, 40.0])

    assert held_level(values, 3) == 5.0
    assert held_level(values, 1) == 40.0
    assert held_level(values[:7], 20) == 1.0  # shorter than the window: its minimum
    assert math.isnan(held_level(values, 20))  # ... and a frame without a figure reaches nothing
    assert math.isnan(held_level(np.array([]), 3))


def test_findings_off_the_moves_are_counted_as_times() -> None:
    found = [
        replace(_finding("sample", "warning", 1.0, figure=1.0), move_index=None),
        _finding("sample", "warning", 4.0, figure=2.0),
    ]

    item = merge_findings(_rule_named("sample", 0.8, found), found)

    assert item.message_en == "Sample 2 times: at 1.0 s and move 5 at 4.0 s. Move 5: something."
    assert [o.move_index for o in item.occurrences] == [None, 4]


def test_one_finding_keeps_its_own_message() -> None:
    [found] = [_finding("sample", "info", 2.0, figure=1.0)]

    item = merge_findings(_rule_named("sample", 0.8, [found]), [found])

    assert item.message_en == found.message_en
    assert item.occurrences == (found.occurrence(),)
    assert item.confidence == pytest.approx(0.8)


def test_ranking_weighs_severity_occurrences_and_confidence() -> None:
    def merged(rule_id: str, severity: str, count: int, confidence: float) -> AdviceItem:
        found = [_finding(rule_id, severity, float(t), figure=1.0) for t in range(count)]
        return merge_findings(_rule_named(rule_id, confidence, found), found)

    critical_once = merged("critical_once", "critical", 1, 0.9)
    warning_often = merged("warning_often", "warning", 9, 0.9)
    info_often = merged("info_often", "info", 9, 0.9)
    unsure_warning = merged("unsure_warning", "warning", 9, 0.3)

    ranked = rank([info_often, unsure_warning, critical_once, warning_often])

    assert [item.rule_id for item in ranked] == [
        "warning_often",  # 2 x 3 x 0.9
        "critical_once",  # 4 x 1 x 0.9
        "info_often",  # 1 x 3 x 0.9
        "unsure_warning",  # 2 x 3 x 0.3
    ]


def test_at_most_a_handful_of_items_the_best_ranked(monkeypatch: pytest.MonkeyPatch) -> None:
    result = analysed(hand_move())
    for number in range(8):
        found = [
            _finding(f"extra_{number}", "warning", float(t), figure=1.0) for t in range(number + 1)
        ]
        monkeypatch.setitem(RULES, f"extra_{number}", _rule_named(f"extra_{number}", 0.9, found))

    def advice(**options: int | None) -> list[AdviceItem]:
        return generate_advice(
            result.timeline,
            result.track,
            result.moves,
            result.biomech,
            HOLD_MAP,
            MORPHOLOGY,
            rules=[f"extra_{number}" for number in range(8)],
            **options,  # type: ignore[arg-type]
        )

    capped, everything, two = advice(), advice(max_items=None), advice(max_items=2)

    assert len(capped) == MAX_ITEMS == 5
    assert len(everything) == 8
    # The findings seen most often come first.
    assert [item.rule_id for item in capped] == [f"extra_{n}" for n in (7, 6, 5, 4, 3)]
    assert capped == everything[:5] and two == everything[:2]
    assert [len(item.occurrences) for item in capped] == [8, 7, 6, 5, 4]


def test_a_realistic_climb_gives_a_few_items_each_naming_moves_times_holds_and_figures() -> None:
    result = wall_climb("stretched", hips_out="on_reach").analysed(max_items=None)

    assert 1 <= len(result.advice) <= MAX_ITEMS
    assert len({item.rule_id for item in result.advice}) == len(result.advice)
    for item in result.advice:
        assert item.occurrences
        assert item.holds
        assert item.evidence
        assert all(o.end_s >= o.start_s for o in item.occurrences)
        assert any(ch.isdigit() for ch in item.message_en)


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
