from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engines.holds import NoHoldsFoundError
from engines.holds.evaluate import evaluate, evaluate_synthetic
from schema.holds import HoldMap
from tests.engines.holds.walls import FLOOR_SEEDS, wall

pytestmark = pytest.mark.unit


def _truth_detector(image: np.ndarray) -> HoldMap:
    synthetic = next(wall(s) for s in FLOOR_SEEDS if wall(s).image is image)
    return HoldMap(1024, 768, [dataclasses.replace(h) for h in synthetic.holds])


def test_ground_truth_scores_perfectly() -> None:
    scores = evaluate(_truth_detector, [wall(FLOOR_SEEDS[0]), wall(FLOOR_SEEDS[1])])

    assert scores.walls == 2
    assert scores.precision == scores.recall == scores.f1 == 1.0
    assert scores.centre_f1 > 0.97  # a crescent's centre can fall outside it
    assert scores.mean_iou > 0.95
    assert scores.type_accuracy == scores.color_accuracy == scores.route_f1 == 1.0
    assert scores.low_contrast_recall in (1.0,) or np.isnan(scores.low_contrast_recall)


def test_wrong_types_and_routes_are_scored() -> None:
    def detector(image: np.ndarray) -> HoldMap:
        found = _truth_detector(image)
        for hold in found.holds:
            hold.type, hold.route = "jug", "one"
        return found

    scores = evaluate(detector, [wall(FLOOR_SEEDS[0])])
    truth = wall(FLOOR_SEEDS[0]).holds
    assert scores.f1 == 1.0
    assert scores.type_accuracy == pytest.approx(np.mean([h.type == "jug" for h in truth]))
    assert scores.route_f1 < 1.0
    assert scores.confusion[("jug", "jug")] == sum(h.type == "jug" for h in truth)


def test_shifted_outlines_do_not_match() -> None:
    def detector(image: np.ndarray) -> HoldMap:
        found = _truth_detector(image)
        for hold in found.holds:
            # Moved by more than a hold's width: no overlap left for small holds.
            hold.polygon = [(x + 0.08, y) for x, y in hold.polygon]
            hold.x += 0.08
        return found

    scores = evaluate(detector, [wall(FLOOR_SEEDS[0])])
    assert scores.recall < 0.3


def test_refusal_counts_as_no_detections() -> None:
    def detector(image: np.ndarray) -> HoldMap:
        raise NoHoldsFoundError("nothing here")

    scores = evaluate(detector, [wall(FLOOR_SEEDS[0])])
    assert scores.detections == scores.matches == 0
    assert scores.recall == scores.f1 == 0.0


def test_evaluate_synthetic_runs_the_classical_detector() -> None:
    scores = evaluate_synthetic(1, FLOOR_SEEDS[2])
    assert scores.walls == 1 and scores.truths > 0
    assert scores.f1 > 0.8
