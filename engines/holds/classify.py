"""Hold type from a region's shape and shading, the way a route setter reads a photo.

Cues (all measurable on a single photo, without knowing its scale in centimetres):

* size relative to the photo's typical hold (the median region): foot chips are a fraction of
  it, volumes several times it;
* elongation and the direction of the long axis: crimps are long and lie flat, pinches stand up;
* a dark recess inside the outline: the opening behind a jug's lip (upper part, wide), an
  undercling's (lower part), a pocket's hole (round, central);
* straight sides and few corners: volumes are plywood or resin polyhedra;
* none of these on a large round body: a sloper.

Each type gets a soft score from smooth memberships; the probabilities are the normalised scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: The types the classical classifier tells apart ("edge" is left to the climber: from the
#: front a photo cannot tell it from a crimp).
CLASSICAL_TYPES: tuple[str, ...] = (
    "jug",
    "crimp",
    "sloper",
    "pinch",
    "pocket",
    "volume",
    "foot_chip",
    "undercling",
)


@dataclass(frozen=True)
class ShapeFeatures:
    """What the classifier looks at for one region.

    Attributes:
        diameter_px: diameter of the disc of the same area.
        relative_size: ``diameter_px`` over the photo's typical hold diameter.
        elongation: long over short axis of the region's inertia ellipse, >= 1.
        tilt_deg: angle of the long axis from horizontal, 0..90.
        solidity: area over convex-hull area, 0..1.
        corners: vertices of the outline simplified to 4 % of its perimeter.
        cavity: share of the inside much darker than the hold's own colour, 0..1.
        cavity_offset: height of the dark part's centre, -1 (top) .. 1 (bottom).
        cavity_aspect: width over height of the dark part (0 when there is none).
        cavity_span: width of the dark part over the hold's width, 0..1.
    """

    diameter_px: float
    relative_size: float
    elongation: float
    tilt_deg: float
    solidity: float
    corners: int
    cavity: float
    cavity_offset: float
    cavity_aspect: float
    cavity_span: float = 0.0

    def __post_init__(self) -> None:
        if self.elongation < 1.0 or not 0.0 <= self.tilt_deg <= 90.0:
            raise ValueError("elongation must be >= 1 and tilt within 0..90 degrees")


def shape_features(mask: np.ndarray, brightness: np.ndarray, typical: float) -> ShapeFeatures:
    """Measure one region.

    Args:
        mask: (h, w) bool, the region in a crop around it.
        brightness: (h, w) float32 brightness of the photo in the same crop.
        typical: the photo's typical hold diameter in pixels.
    """
    area = float(mask.sum())
    diameter = float(np.sqrt(4.0 * area / np.pi))
    ys, xs = np.nonzero(mask)
    cov = np.cov(np.stack([xs, ys]).astype(np.float64)) if area > 2 else np.eye(2)
    eigval, eigvec = np.linalg.eigh(cov)
    elongation = float(np.sqrt(max(eigval[1], 1e-6) / max(eigval[0], 1e-6)))
    major = eigvec[:, 1]
    tilt = float(np.degrees(np.arctan2(abs(major[1]), abs(major[0]))))

    u8 = mask.astype(np.uint8)
    contour = max(cv2.findContours(u8, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)[0], key=len)
    hull_area = cv2.contourArea(cv2.convexHull(contour))
    solidity = float(min(area / hull_area, 1.0)) if hull_area > 0 else 1.0
    simplified = cv2.approxPolyDP(contour, 0.04 * cv2.arcLength(contour, True), True)

    cavity, offset, aspect, span = _cavity(mask, brightness, xs, ys)
    return ShapeFeatures(
        diameter_px=diameter,
        relative_size=diameter / max(typical, 1.0),
        elongation=max(elongation, 1.0),
        tilt_deg=min(max(tilt, 0.0), 90.0),
        solidity=solidity,
        corners=len(simplified),
        cavity=cavity,
        cavity_offset=offset,
        cavity_aspect=aspect,
        cavity_span=span,
    )


def _cavity(
    mask: np.ndarray, brightness: np.ndarray, xs: np.ndarray, ys: np.ndarray
) -> tuple[float, float, float, float]:
    """The dark recess inside a region: share, vertical position and aspect."""
    # Away from the outline: a hold's lower rim is shaded dark on every hold.
    inner = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=2) > 0
    if inner.sum() < 12:
        return 0.0, 0.0, 0.0, 0.0
    values = brightness[inner]
    dark = inner & (brightness < 0.55 * float(np.percentile(values, 60)))
    dark_u8 = cv2.morphologyEx(dark.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    # A recess is ringed by the hold; shading that darkens the underside of a dome runs out to
    # the hold's edge.
    n, parts = cv2.connectedComponents(dark_u8, connectivity=8)
    dark = np.zeros_like(inner)
    kernel = np.ones((3, 3), np.uint8)
    for k in range(1, n):
        part = (parts == k).astype(np.uint8)
        ring = (cv2.dilate(part, kernel) > 0) & (part == 0)
        if (ring & ~inner).sum() <= 0.3 * ring.sum():
            dark |= part > 0
    share = float(dark.sum() / mask.sum())
    # A screw hole is a speck, not a recess.
    if share < 0.025:
        return 0.0, 0.0, 0.0, 0.0
    dy, dx = np.nonzero(dark)
    top, bottom = ys.min(), ys.max()
    offset = float(2.0 * (dy.mean() - top) / max(bottom - top, 1) - 1.0)
    aspect = float((np.ptp(dx) + 1) / (np.ptp(dy) + 1))
    span = float((np.ptp(dx) + 1) / (np.ptp(xs) + 1))
    return share, offset, aspect, span


def _rising(x: float, centre: float, width: float) -> float:
    return float(1.0 / (1.0 + np.exp(-(x - centre) / width)))


def type_probabilities(f: ShapeFeatures) -> dict[str, float]:
    """Probability of each of `CLASSICAL_TYPES` for a region with features ``f``."""
    huge = _rising(f.relative_size, 2.4, 0.15)
    tiny = 1.0 - _rising(f.relative_size, 0.64, 0.04)
    large = _rising(f.relative_size, 1.3, 0.1)
    long = _rising(f.elongation, 2.45, 0.15)
    tall = _rising(f.elongation, 1.75, 0.12)
    flat = 1.0 - _rising(f.tilt_deg, 45.0, 8.0)
    faceted = _rising(f.solidity, 0.9, 0.02) * (1.0 - _rising(f.corners, 5.5, 0.4))
    recess = _rising(f.cavity, 0.02, 0.006)
    lower = _rising(f.cavity_offset, 0.22, 0.04)
    # The opening behind a lip runs along it, across much of the hold; a pocket is a hole.
    wide = _rising(f.cavity_span, 0.27, 0.03)
    body = (1.0 - huge) * (1.0 - tiny)
    round_body = body * (1.0 - long) * (1.0 - tall * (1.0 - flat))
    scores = {
        "volume": huge * (0.3 + 0.7 * faceted),
        "foot_chip": tiny * (1.0 - long),
        "crimp": (1.0 - huge) * long * flat,
        "pinch": body * tall * (1.0 - flat),
        # A lip's opening above the body is a jug, below it an undercling.
        "jug": round_body * recess * wide * (1.0 - lower),
        "undercling": round_body * recess * lower,
        "pocket": round_body * recess * (1.0 - wide) * (1.0 - lower),
        # No recess: big and round is a sloper; smaller is most often a jug seen head-on.
        "sloper": round_body * (1.0 - recess) * large,
    }
    scores["jug"] += 0.5 * round_body * (1.0 - recess) * (1.0 - large)
    total = sum(scores.values())
    if total <= 0:
        return {t: 1.0 / len(CLASSICAL_TYPES) for t in CLASSICAL_TYPES}
    return {t: scores[t] / total for t in CLASSICAL_TYPES}
