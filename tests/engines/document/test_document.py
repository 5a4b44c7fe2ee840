"""build_result_document() / decode_result_document(): the document, its schema, its errors."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

from engines.advice import RULES, AdviceItem
from engines.advice.engine import merge_findings
from engines.advice.model import SEVERITIES, Occurrence
from engines.document import (
    FORMAT,
    VERSION,
    ResultDocumentError,
    build_result_document,
    decode_result_document,
    encode_json,
)
from engines.limbs import Limb
from engines.pose.timeline import LANDMARK_COUNT, FrameQuality, SkeletonTimeline
from schema.analysis import MetricsSummary
from schema.holds import HOLD_TYPES
from tests.engines.document.synthetic import Climb, advice, move_figures, synthetic_climb

pytestmark = pytest.mark.unit

SCHEMA = json.loads(
    (Path(__file__).parents[3] / "schema/json/analysis_result.schema.json").read_text()
)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
METRICS = MetricsSummary(max_reach_cm=171.24567, avg_tension=math.nan, hold_count=20)


@pytest.fixture(scope="module")
def climb() -> Climb:
    return synthetic_climb(8.0)


def _build(climb: Climb, **changes: Any) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    arguments: dict[str, Any] = {
        "analysis_id": "analysis-1",
        "hold_map": climb.hold_map,
        "skeleton": climb.skeleton,
        "metrics": METRICS,
        "moves": [move.to_dict() for move in climb.moves],
        "move_figures": move_figures(climb.moves, rng),
        "advice": advice(climb.moves, 3),
        "ghost": climb.ghost,
        "ghost_moves": climb.ghost_moves,
        "extra": {"route_name": "Le Toit jaune"},
    }
    return build_result_document(**(arguments | changes))


def _served(document: dict[str, Any]) -> dict[str, Any]:
    """What the app parses: the document after JSON encoding."""
    parsed: dict[str, Any] = json.loads(encode_json(document))
    return parsed


def test_a_document_with_a_ghost_validates_and_decodes(climb: Climb) -> None:
    document = _served(_build(climb))

    VALIDATOR.validate(document)
    result = decode_result_document(document)

    assert (document["format"], document["version"]) == (FORMAT, VERSION) == (FORMAT, 1)
    assert document["video"] == {
        "frame_width": 1080,
        "frame_height": 1920,
        "source_fps": 30.0,
        "frame_count": 240,
        "duration_s": 8.0,
        "pose_coverage": round(climb.skeleton.coverage, 4),
    }
    assert result.analysis_id == "analysis-1"
    assert len(result.skeleton) == len(climb.skeleton)
    np.testing.assert_array_equal(result.skeleton.quality, climb.skeleton.quality)
    assert result.ghost is not None and result.ghost_first_frame == 0
    assert np.abs(result.ghost.landmarks[..., :2] - climb.ghost.landmarks[..., :2]).max() <= (
        0.5 / 1080 + 1e-6
    )
    assert [h.id for h in result.hold_map.holds] == [h.id for h in climb.hold_map.holds]
    assert result.moves == [move.to_dict() for move in climb.moves]
    assert result.ghost_moves == climb.ghost_moves
    assert result.advice == json.loads(json.dumps(advice(climb.moves, 3)))  # tuples → lists
    assert result.extra == {"route_name": "Le Toit jaune"}
    assert document["metrics"] == {
        "max_reach_cm": 171.246,
        "avg_tension": None,  # NaN is "no figure", never a number
        "movement_efficiency": None,
        "hold_count": 20,
    }
    assert result.metrics == MetricsSummary(max_reach_cm=171.246, hold_count=20)


def test_the_ghost_verdict_reaches_the_app(climb: Climb) -> None:
    # As `engines.ghost.GhostVerdict.to_dict` gives it.
    verdict = {
        "verdict": "same_as_climber",
        "message": "Your sequence was already the most efficient one we found for your body.",
        "ghost_effort": 12.346,
        "climber_effort": None,
    }

    document = _served(_build(climb, ghost_verdict=verdict))

    VALIDATOR.validate(document)
    assert decode_result_document(document).ghost_verdict == verdict
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate({**document, "ghost_verdict": {**verdict, "verdict": "improved"}})
    # Documents from before the verdict have no such field: it reads as no verdict.
    older = _served(_build(climb))
    del older["ghost_verdict"]
    VALIDATOR.validate(older)
    assert decode_result_document(older).ghost_verdict is None
    with pytest.raises(ResultDocumentError, match="ghost_verdict"):
        _build(climb, ghost_verdict=["better"])


def test_a_document_without_a_ghost_says_why(climb: Climb) -> None:
    reason = "Your plan does not include the ghost climber."
    document = _served(_build(climb, ghost=None, ghost_moves=None, ghost_skipped_reason=reason))

    VALIDATOR.validate(document)
    result = decode_result_document(document)

    assert document["ghost"] is None and document["ghost_moves"] == []
    assert result.ghost is None and result.ghost_first_frame is None
    assert result.ghost_skipped_reason == reason


def test_a_ghost_on_part_of_the_video_keeps_its_first_frame(climb: Climb) -> None:
    ghost = climb.ghost
    part = slice(30, len(ghost) - 10)
    late = replace(
        ghost,
        timestamps_s=ghost.timestamps_s[part],
        landmarks=ghost.landmarks[part],
        quality=ghost.quality[part],
    )

    document = _served(_build(climb, ghost=late))
    result = decode_result_document(document)

    VALIDATOR.validate(document)
    assert result.ghost is not None and result.ghost_first_frame == 30
    np.testing.assert_allclose(
        result.ghost.timestamps_s, result.skeleton.timestamps_s[30 : 30 + len(late)]
    )


def test_a_ghost_off_the_video_frames_is_refused(climb: Climb) -> None:
    shifted = replace(climb.ghost, timestamps_s=climb.ghost.timestamps_s + 0.01)
    resized = replace(climb.ghost, frame_width=720, frame_height=1280)

    with pytest.raises(ResultDocumentError, match="run of the video's frames"):
        _build(climb, ghost=shifted)
    with pytest.raises(ResultDocumentError, match="frame size"):
        _build(climb, ghost=resized)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("moves", [{"index": 0, "start_s": math.nan}], "moves is not JSON-ready"),
        ("advice", ["not an object"], "advice must be a list of objects"),
        ("extra", {"when": object()}, "extra is not JSON-ready"),
        ("extra", ["a list"], "extra must be an object"),
    ],
)
def test_inputs_that_are_not_json_are_refused(
    climb: Climb, field: str, value: Any, message: str
) -> None:
    with pytest.raises(ResultDocumentError, match=message):
        _build(climb, **{field: value})


def test_missing_and_corrupt_frames_stay_missing_through_the_document(climb: Climb) -> None:
    result = decode_result_document(_served(_build(climb)))

    for quality in (FrameQuality.MISSING, FrameQuality.CORRUPT):
        frames = climb.skeleton.quality == quality
        assert frames.any()
        assert np.isnan(result.skeleton.landmarks[frames]).all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "something.else"}, "not an ascension.analysis_result"),
        ({"version": 2}, "version 2 is not supported"),
        ({"video": {"frame_width": 1}}, "malformed"),
    ],
)
def test_documents_it_cannot_read_are_refused(
    climb: Climb, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ResultDocumentError, match=message):
        decode_result_document(_served(_build(climb)) | change)


def test_the_schema_rejects_a_broken_timeline(climb: Climb) -> None:
    document = _served(_build(climb))
    document["skeleton"]["x"]["deltas"][0][0] = 0.5

    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate(document)


def test_the_schema_names_what_the_engines_use() -> None:
    defs = SCHEMA["$defs"]

    assert SCHEMA["properties"]["format"]["const"] == FORMAT
    assert SCHEMA["properties"]["version"]["const"] == VERSION
    assert set(defs["hold"]["properties"]["type"]["enum"]) == HOLD_TYPES
    assert defs["limb"]["enum"] == [limb.value for limb in Limb]
    assert tuple(defs["advice_item"]["properties"]["severity"]["enum"]) == SEVERITIES
    assert tuple(defs["advice_occurrence"]["properties"]["severity"]["enum"]) == SEVERITIES
    assert set(defs["advice_occurrence"]["required"]) == set(
        Occurrence(None, 0.0, 0.0, (), "info").to_dict()
    )
    assert defs["timeline"]["properties"]["quality"]["properties"]["values"]["items"]["enum"] == [
        quality.value for quality in FrameQuality
    ]
    assert defs["timeline"]["properties"]["landmark_count"]["const"] == LANDMARK_COUNT
    assert defs["channel"]["properties"]["deltas"]["minItems"] == LANDMARK_COUNT
    assert set(defs["metrics"]["required"]) == set(vars(MetricsSummary()))


def test_a_five_minute_climb_round_trips() -> None:
    long = synthetic_climb(300.0, seed=3)
    skeleton: SkeletonTimeline = long.skeleton

    result = decode_result_document(_served(_build(long)))

    assert len(result.skeleton) == len(skeleton) == 9000
    posed = skeleton.has_pose
    error = np.abs(result.skeleton.landmarks[posed, :, :2] - skeleton.landmarks[posed, :, :2])
    assert error.max() <= 0.5 / 1080 + 1e-6
    np.testing.assert_array_equal(result.skeleton.quality, skeleton.quality)


def _merged_advice(climb: Climb) -> list[dict[str, Any]]:
    """One long_hesitation item standing for three findings, as `generate_advice` returns it."""
    found = [
        AdviceItem(
            rule_id="long_hesitation",
            move_index=move.index,
            start_s=move.start_s,
            end_s=move.end_s,
            limbs=(move.limb.value,),
            holds=(move.from_hold or "", move.to_hold),
            severity="warning",
            message_key="advice.long_hesitation",
            message_en=f"Move {move.index + 1}: your hand hovered before reaching {move.to_hold}.",
            evidence={"hesitation_s": 1.0 + move.index / 10, "threshold_s": 1.0},
        )
        for move in climb.moves[:3]
    ]
    return [merge_findings(RULES["long_hesitation"], found).to_dict()]


def test_merged_advice_with_its_occurrences_validates_and_round_trips(climb: Climb) -> None:
    items = _merged_advice(climb)
    document = _served(_build(climb, advice=items))

    VALIDATOR.validate(document)
    result = decode_result_document(document)

    [item] = result.advice
    assert item == json.loads(json.dumps(items[0]))
    assert len(item["occurrences"]) == 3
    assert [o["move_index"] for o in item["occurrences"]] == [m.index for m in climb.moves[:3]]
    assert item["evidence"]["occurrences"] == 3.0
    assert 0.0 < item["confidence"] <= 1.0


def test_advice_from_an_older_backend_still_validates_and_decodes(climb: Climb) -> None:
    old = [
        {k: v for k, v in item.items() if k not in ("confidence", "occurrences")}
        for item in advice(climb.moves, 2)
    ]
    document = _served(_build(climb, advice=old))

    VALIDATOR.validate(document)
    assert decode_result_document(document).advice == old


@pytest.mark.parametrize("occurrences", ["moves 1 and 2", [3]])
def test_malformed_occurrences_are_refused(climb: Climb, occurrences: Any) -> None:
    document = _served(_build(climb, advice=_merged_advice(climb)))
    document["advice"][0]["occurrences"] = occurrences

    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate(document)
    with pytest.raises(ResultDocumentError, match="occurrences must be a list of objects"):
        decode_result_document(document)
