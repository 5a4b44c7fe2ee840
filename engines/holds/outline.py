"""A hold's outline inside the box the learned detector found, and compact polygons.

The detector gives boxes; the phone draws outlines and contact detection asks "is this hand on
that hold", so each box is refined to the hold's own pixels: inside the box, pixels far (in Lab
colour) from the wall around the box are the hold. Where that fails (a hold the colour of its
wall, a box crowded by neighbours) the outline is the ellipse inscribed in the box, which is
what a climber would draw by hand. Outlines are simplified to at most `MAX_POINTS` vertices.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Most vertices a hold outline keeps: enough for a phone to draw and for contact tests.
MAX_POINTS = 10
#: A refined mask must cover at least this share of its box, else the ellipse is used.
_MIN_COVER = 0.25
_MAX_COVER = 0.97
_ELLIPSE_POINTS = 8


def ellipse_in_box(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """(8, 2) vertices of the ellipse inscribed in a box (pixels)."""
    angles = np.linspace(0.0, 2 * np.pi, _ELLIPSE_POINTS, endpoint=False)
    cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    return np.stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)], axis=1)


def simplify(contour: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """Douglas-Peucker with a tolerance grown until at most ``max_points`` vertices remain."""
    points = contour.reshape(-1, 1, 2).astype(np.float32)
    if len(points) <= max_points:
        return points.reshape(-1, 2).astype(np.float64)
    perimeter = cv2.arcLength(points, True)
    tolerance = max(perimeter * 0.005, 0.5)
    simplified: np.ndarray = points
    for _ in range(20):
        simplified = cv2.approxPolyDP(points, tolerance, True)
        if len(simplified) <= max_points:
            break
        tolerance *= 1.4
    return simplified.reshape(-1, 2).astype(np.float64)


def hold_mask(lab: np.ndarray, box: np.ndarray) -> np.ndarray | None:
    """The hold's pixels inside ``box`` (pixels of ``lab``), or None when they can't be told apart.

    Args:
        lab: (H, W, 3) float32 CIELAB image.
        box: (4,) x0, y0, x1, y1 in pixels.

    Returns:
        (H_box, W_box) bool mask aligned with the integer box window, or None.
    """
    h, w = lab.shape[:2]
    x0, y0 = max(int(np.floor(box[0])), 0), max(int(np.floor(box[1])), 0)
    x1, y1 = min(int(np.ceil(box[2])), w), min(int(np.ceil(box[3])), h)
    bw, bh = x1 - x0, y1 - y0
    if bw < 4 or bh < 4:
        return None
    # The wall: a ring around the box, a quarter of its size wide.
    m = max(2, int(0.25 * max(bw, bh)))
    ra, rb = max(y0 - m, 0), min(y1 + m, h)
    ca, cb = max(x0 - m, 0), min(x1 + m, w)
    ring_window = lab[ra:rb, ca:cb]
    ring = np.ones(ring_window.shape[:2], bool)
    ring[y0 - ra : y1 - ra, x0 - ca : x1 - ca] = False
    if ring.sum() < 8:
        return None
    wall = np.median(ring_window[ring], axis=0)
    distance = np.linalg.norm(lab[y0:y1, x0:x1] - wall, axis=2)
    ring_distance = np.linalg.norm(ring_window[ring] - wall, axis=1)
    # The hold differs from the wall more than the wall's own variation does.
    floor = max(float(np.percentile(ring_distance, 75)) * 1.5, 6.0)
    scaled = np.clip(distance / max(float(distance.max()), 1e-3) * 255, 0, 255).astype(np.uint8)
    otsu, _ = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    cut = max(floor, otsu / 255 * float(distance.max()))
    mask = (distance > cut).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return None
    # The component nearest the box centre, weighted by size: the hold, not a neighbour's edge.
    centre = np.array([bw / 2, bh / 2])
    dist = np.linalg.norm(centroids[1:] - centre, axis=1) / max(bw, bh)
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA] * np.exp(-4 * dist)))
    blob = (labels == best).astype(np.uint8)
    contours, _ = cv2.findContours(blob, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros_like(blob)
    cv2.drawContours(filled, contours, -1, (1,), thickness=-1)
    cover = filled.sum() / (bw * bh)
    if not _MIN_COVER <= cover <= _MAX_COVER:
        return None
    return filled.astype(bool)


def outline_in_box(lab: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, bool]:
    """Outline (N <= `MAX_POINTS`, 2) in pixels of the hold in ``box``; True when refined."""
    mask = hold_mask(lab, box)
    if mask is None:
        return ellipse_in_box(*(float(v) for v in box)), False
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    contour = max(contours, key=cv2.contourArea).reshape(-1, 2).astype(np.float64)
    origin = np.array([max(int(np.floor(box[0])), 0), max(int(np.floor(box[1])), 0)], np.float64)
    return simplify(contour + origin), True
