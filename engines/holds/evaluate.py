"""Scoring a hold detector against ground truth.

Localisation is matched by mask IoU: every detected polygon (rasterised on the photo's grid, a
pixel belonging to it when at least half inside) and every ground-truth hold's visible region
(`SyntheticWall.labels`, rasterised the same way) are compared, pairs are matched one-to-one
by the Hungarian algorithm on IoU, and a pair counts as a true positive when IoU >= 0.5 (the
COCO AP50 criterion). A looser centre criterion is reported alongside: a detection whose centre
falls inside a ground-truth hold's visible region matches it, one-to-one. Type, colour and route
are scored over the IoU matches only.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from engines.errors import EngineInputError
from engines.holds.geometry import from_normalised, rasterize
from engines.holds.synth import SyntheticWall, generate_wall
from schema.holds import Hold, HoldMap

logger = logging.getLogger(__name__)

#: IoU a detection needs with a ground-truth hold to count as finding it.
IOU_MATCH = 0.5
#: Ground-truth holds whose colour differs from the wall's by less than this (CIE76) are "low
#: contrast": recall on them is reported separately.
LOW_CONTRAST = 20.0

Detector = Callable[[np.ndarray], HoldMap]


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


@dataclass
class DetectionScores:
    """How a detector did over a set of walls.

    Attributes:
        precision, recall, f1: localisation at IoU >= 0.5.
        centre_precision, centre_recall, centre_f1: localisation by detected centre inside the
            ground-truth hold.
        mean_iou: mean IoU of the matched pairs.
        type_accuracy: share of matched holds whose type is right.
        color_accuracy: share of matched holds whose colour name is right.
        route_f1: pairwise F1 of route grouping over matched holds of a route: a pair of holds
            is positive when both are on the same ground-truth route.
        low_contrast_recall: recall over ground-truth holds with contrast < `LOW_CONTRAST`
            (NaN when there were none).
        recall_by_type: recall per ground-truth type.
        confusion: (true type, predicted type) -> count over matched holds.
    """

    walls: int
    truths: int
    detections: int
    matches: int
    precision: float
    recall: float
    f1: float
    centre_precision: float
    centre_recall: float
    centre_f1: float
    mean_iou: float
    type_accuracy: float
    color_accuracy: float
    route_f1: float
    low_contrast_recall: float
    recall_by_type: dict[str, float] = field(default_factory=dict)
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.matches > min(self.truths, self.detections):
            raise ValueError("more matches than truths or detections")


@dataclass
class _Tally:
    truths: int = 0
    detections: int = 0
    matches: int = 0
    centre_matches: int = 0
    ious: list[float] = field(default_factory=list)
    type_pairs: list[tuple[str, str]] = field(default_factory=list)
    color_hits: int = 0
    route_pairs: list[tuple[str, str]] = field(default_factory=list)
    low_contrast: list[bool] = field(default_factory=list)
    found_by_type: Counter[str] = field(default_factory=Counter)
    truth_by_type: Counter[str] = field(default_factory=Counter)
    route_tp: int = 0
    route_fp: int = 0
    route_fn: int = 0


def evaluate(detector: Detector, walls: Iterable[SyntheticWall]) -> DetectionScores:
    """Run ``detector`` on every wall and score it against the ground truth.

    Args:
        detector: photo (H, W, 3) uint8 BGR -> hold map. A detector that raises
            `EngineInputError` (no holds found) is scored as detecting nothing.
        walls: synthetic walls with ground truth.

    Returns:
        Pooled scores over all walls (micro averages).
    """
    tally = _Tally()
    count = 0
    for wall in walls:
        count += 1
        try:
            found = detector(wall.image)
        except EngineInputError as error:
            logger.info("wall %d: %s", wall.seed, error)
            found = HoldMap(wall.image.shape[1], wall.image.shape[0], [])
        _score_wall(wall, found, tally)
    return _summarise(count, tally)


def evaluate_synthetic(n: int, seed: int, *, detector: Detector | None = None) -> DetectionScores:
    """Score a detector (the classical one by default) on ``n`` walls from seeds ``seed``...

    Args:
        n: how many synthetic walls.
        seed: seed of the first wall; the others follow.
        detector: the detector to score; `engines.holds.detect_holds` when None.

    Returns:
        Pooled scores.
    """
    if detector is None:
        from engines.holds.detect import detect_holds

        def detector(image: np.ndarray) -> HoldMap:
            return detect_holds(image).hold_map

    return evaluate(detector, (generate_wall(seed + i) for i in range(n)))


def _masks(found: HoldMap, shape: tuple[int, int]) -> list[np.ndarray]:
    h, w = shape
    return [
        rasterize(from_normalised(np.array(hold.polygon), (w, h)), shape) for hold in found.holds
    ]


def _score_wall(wall: SyntheticWall, found: HoldMap, tally: _Tally) -> None:
    truths, dets = wall.holds, found.holds
    h, w = wall.labels.shape
    n_t, n_d = len(truths), len(dets)
    tally.truths += n_t
    tally.detections += n_d
    tally.truth_by_type.update(t.type for t in truths)
    truth_area = np.bincount(wall.labels.ravel(), minlength=n_t + 1)[1:]
    iou = np.zeros((n_d, n_t))
    for d, mask in enumerate(_masks(found, (h, w))):
        inter = np.bincount(wall.labels[mask], minlength=n_t + 1)[1:]
        union = truth_area + mask.sum() - inter
        iou[d] = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
    rows, cols = linear_sum_assignment(-iou) if n_d and n_t else ([], [])
    matched = [(d, t) for d, t in zip(rows, cols, strict=True) if iou[d, t] >= IOU_MATCH]
    tally.matches += len(matched)
    for d, t in matched:
        tally.ious.append(float(iou[d, t]))
        tally.type_pairs.append((truths[t].type, dets[d].type))
        tally.color_hits += truths[t].color == dets[d].color
        tally.found_by_type[truths[t].type] += 1
    found_truths = {t for _, t in matched}
    tally.low_contrast.extend(
        t in found_truths for t in range(n_t) if wall.contrast[t] < LOW_CONTRAST
    )
    _score_routes(truths, dets, matched, tally)

    # Centre criterion: the truth under each detection's centre, first come first served.
    claimed: set[int] = set()
    for hold in dets:
        px = min(int(hold.x * w), w - 1), min(int(hold.y * h), h - 1)
        label = int(wall.labels[px[1], px[0]])
        if label and label not in claimed:
            claimed.add(label)
    tally.centre_matches += len(claimed)


def _score_routes(
    truths: list[Hold], dets: list[Hold], matched: list[tuple[int, int]], tally: _Tally
) -> None:
    on_route = [(truths[t].route, dets[d].route) for d, t in matched if truths[t].route]
    for i in range(len(on_route)):
        for j in range(i + 1, len(on_route)):
            same_truth = on_route[i][0] == on_route[j][0]
            same_found = on_route[i][1] == on_route[j][1] and on_route[i][1] != ""
            tally.route_tp += same_truth and same_found
            tally.route_fp += same_found and not same_truth
            tally.route_fn += same_truth and not same_found


def _summarise(walls: int, tally: _Tally) -> DetectionScores:
    def ratio(a: float, b: float) -> float:
        return a / b if b else 0.0

    precision, recall = ratio(tally.matches, tally.detections), ratio(tally.matches, tally.truths)
    c_precision = ratio(tally.centre_matches, tally.detections)
    c_recall = ratio(tally.centre_matches, tally.truths)
    route_p = ratio(tally.route_tp, tally.route_tp + tally.route_fp)
    route_r = ratio(tally.route_tp, tally.route_tp + tally.route_fn)
    return DetectionScores(
        walls=walls,
        truths=tally.truths,
        detections=tally.detections,
        matches=tally.matches,
        precision=precision,
        recall=recall,
        f1=_f1(precision, recall),
        centre_precision=c_precision,
        centre_recall=c_recall,
        centre_f1=_f1(c_precision, c_recall),
        mean_iou=float(np.mean(tally.ious)) if tally.ious else 0.0,
        type_accuracy=ratio(sum(a == b for a, b in tally.type_pairs), len(tally.type_pairs)),
        color_accuracy=ratio(tally.color_hits, tally.matches),
        route_f1=_f1(route_p, route_r),
        low_contrast_recall=(
            float(np.mean(tally.low_contrast)) if tally.low_contrast else float("nan")
        ),
        recall_by_type={
            k: ratio(tally.found_by_type[k], n) for k, n in sorted(tally.truth_by_type.items())
        },
        confusion=dict(Counter(tally.type_pairs)),
    )
