"""assemble_result_document(): the stored steps' documents in, the served bytes out."""

from __future__ import annotations

import gzip
import json
from dataclasses import asdict

import pytest

from engines.document import decode_result_document
from engines.document.assemble import StoredSteps, assemble_result_document
from schema.analysis import AnalysisResult, MetricsSummary, Status
from schema.documents import (
    AdviceDocument,
    ClimbSpan,
    GhostPlanDocument,
    decode_advice,
    decode_ghost_plan,
    encode_advice,
    encode_ghost_plan,
)
from schema.steps import PersistResultsInput
from tests.engines.document.synthetic import Climb, advice, synthetic_climb

pytestmark = pytest.mark.unit

VERDICT = {
    "verdict": "same_as_climber",
    "message": "Your sequence was already the most efficient one we found for your body.",
    "ghost_effort": 9.5,
    "climber_effort": None,
}


@pytest.fixture(scope="module")
def climb() -> Climb:
    return synthetic_climb(6.0)


def _params(ghost_skipped: str | None = None) -> PersistResultsInput:
    result = AnalysisResult("a1", Status.COMPLETED, "s", "a", "g", result_key="r")
    result.ghost_skipped_reason = ghost_skipped
    return PersistResultsInput("a1", result, MetricsSummary(hold_count=4), 1234, "bucket")


def test_the_steps_documents_become_the_served_document(climb: Climb) -> None:
    span = ClimbSpan(
        1.0, 5.0, "left_ground", "ground", "let_go", {"left_hand": None}, "h3", ["floor-1"]
    )
    stored = StoredSteps(
        skeleton=climb.skeleton.to_bytes(),
        advice=encode_advice(
            AdviceDocument(span, [m.to_dict() for m in climb.moves], advice=advice(climb.moves, 2))
        ),
        ghost=climb.ghost.to_bytes(),
        ghost_plan=encode_ghost_plan(GhostPlanDocument(climb.ghost_moves, VERDICT)),  # type: ignore[arg-type]
    )
    params = _params()
    params.hold_map = climb.hold_map

    served = json.loads(gzip.decompress(assemble_result_document(params, stored)))

    result = decode_result_document(served)
    assert result.ghost_verdict == VERDICT
    assert result.ghost is not None and len(result.ghost_moves) == len(climb.ghost_moves)
    assert len(result.advice) == 2 and len(result.moves) == len(climb.moves)
    assert served["extra"] == {
        "climb": asdict(span),
        "processing_time_ms": 1234,
        "used_detected_holds_after_deadline": False,
    }


def test_documents_stored_by_older_workers_still_assemble(climb: Climb) -> None:
    # Advice before climbs were segmented; no plan stored with the ghost.
    old_advice = gzip.compress(json.dumps({"moves": [], "advice": []}).encode())
    stored = StoredSteps(climb.skeleton.to_bytes(), old_advice, ghost=None)

    served = json.loads(gzip.decompress(assemble_result_document(_params("no route"), stored)))

    assert served["extra"]["climb"] is None
    assert served["ghost"] is None and served["ghost_moves"] == []
    assert served["ghost_skipped_reason"] == "no route"
    assert decode_advice(old_advice) == AdviceDocument()
    # A climb stored before floor holds were left out names none.
    old_climb = {"start_s": 1.0, "end_s": 5.0, "start": "left_ground", "end": "ground"}
    stored_climb = gzip.compress(json.dumps({"climb": old_climb}).encode())
    assert decode_advice(stored_climb).climb == ClimbSpan(1.0, 5.0, "left_ground", "ground")
    assert decode_advice(stored_climb).climb.floor_holds == []  # type: ignore[union-attr]
    old_plan = gzip.compress(json.dumps({"moves": [{"limb": "left_hand"}]}).encode())
    assert decode_ghost_plan(old_plan) == GhostPlanDocument([{"limb": "left_hand"}], None)
