"""Scoring hold detections against hand-drawn boxes on real photos.

Each photo's detections and true boxes are matched one-to-one (Hungarian, on box IoU); a match
counts at IoU >= 0.5 (COCO AP50's criterion) and, more loosely, at IoU >= 0.3 and when the
detection's centre lies inside the true box. Scores pool all photos (micro averages) and give
the per-photo median F1 too, since a few dense training boards would otherwise dominate.

Three views: ``holds`` (true holds against detections typed as anything but volume),
``volumes`` (true volumes against detections typed volume) and ``all`` (every true box against
every detection, class ignored).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

CRITERIA: tuple[str, ...] = ("iou50", "iou30", "centre")


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, 4) x (M, 4) -> (N, M) IoU of x0, y0, x1, y1 boxes."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def _f1(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


@dataclass
class Tally:
    """Counts for one view, pooled over photos, plus the per-photo F1 at IoU >= 0.5."""

    truths: int = 0
    detections: int = 0
    matches: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CRITERIA, 0))
    photo_f1: list[float] = field(default_factory=list)

    def add(self, truth: np.ndarray, found: np.ndarray, centres: np.ndarray | None = None) -> None:
        """Score one photo: ``truth`` and ``found`` are (N, 4) boxes in the same units;
        ``centres`` (N, 2) are the points the centre criterion tests (the boxes' centres when
        None: a detector's hold centre is where contact detection looks for a hand)."""
        self.truths += len(truth)
        self.detections += len(found)
        if len(truth) == 0 or len(found) == 0:
            if len(truth) or len(found):
                self.photo_f1.append(0.0)
            return
        iou = box_iou(found, truth)
        for name, floor in (("iou50", 0.5), ("iou30", 0.3)):
            rows, cols = linear_sum_assignment(-iou)
            hits = int((iou[rows, cols] >= floor).sum())
            self.matches[name] += hits
            if name == "iou50":
                p, r = hits / len(found), hits / len(truth)
                self.photo_f1.append(_f1(p, r))
        if centres is None:
            centres = (found[:, :2] + found[:, 2:]) / 2
        cx, cy = centres[:, 0], centres[:, 1]
        inside = (
            (cx[:, None] >= truth[None, :, 0])
            & (cx[:, None] <= truth[None, :, 2])
            & (cy[:, None] >= truth[None, :, 1])
            & (cy[:, None] <= truth[None, :, 3])
        )
        # Among boxes containing the centre, prefer the best-overlapping one, one-to-one.
        rows, cols = linear_sum_assignment(-(inside * (1.0 + iou)))
        self.matches["centre"] += int(inside[rows, cols].sum())

    def figures(self) -> dict[str, float]:
        """precision/recall/F1 per criterion, and the per-photo median F1 at IoU >= 0.5."""
        out: dict[str, float] = {"truths": self.truths, "detections": self.detections}
        for name in CRITERIA:
            p = self.matches[name] / self.detections if self.detections else 0.0
            r = self.matches[name] / self.truths if self.truths else 0.0
            out[f"{name}_precision"], out[f"{name}_recall"], out[f"{name}_f1"] = p, r, _f1(p, r)
        out["photo_median_f1"] = float(np.median(self.photo_f1)) if self.photo_f1 else 0.0
        return out


@dataclass
class BoxScores:
    """The three views of one detector over a set of photos."""

    holds: Tally = field(default_factory=Tally)
    volumes: Tally = field(default_factory=Tally)
    all: Tally = field(default_factory=Tally)

    def add(
        self,
        truth: np.ndarray,
        truth_is_volume: np.ndarray,
        found: np.ndarray,
        found_is_volume: np.ndarray,
        centres: np.ndarray | None = None,
    ) -> None:
        """Score one photo; boxes (N, 4) in one unit (normalised or pixels)."""
        tv, fv = truth_is_volume.astype(bool), found_is_volume.astype(bool)
        if centres is None:
            centres = (found[:, :2] + found[:, 2:]) / 2
        self.holds.add(truth[~tv], found[~fv], centres[~fv])
        self.volumes.add(truth[tv], found[fv], centres[fv])
        self.all.add(truth, found, centres)

    def figures(self) -> dict[str, dict[str, float]]:
        return {
            "holds": self.holds.figures(),
            "volumes": self.volumes.figures(),
            "all": self.all.figures(),
        }
