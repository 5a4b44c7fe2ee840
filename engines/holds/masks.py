"""Binary-mask helpers shared by the segmenters: hysteresis, rim trimming, hole filling."""

from __future__ import annotations

import cv2
import numpy as np


def disc(size: int) -> np.ndarray:
    """Elliptic structuring element ``size`` pixels wide."""
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))


def hysteresis(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Pixels above ``low`` connected to a pixel above ``high``, as uint8 0/1."""
    weak = (values > low).astype(np.uint8)
    n, labels = cv2.connectedComponents(weak, connectivity=8)
    seeded = np.zeros(n, bool)
    seeded[labels[values > high]] = True
    seeded[0] = False
    return seeded[labels].astype(np.uint8)


def trimmed(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Hysteresis regions of ``values``, each with its blurred rim cut at half its contrast.

    A fixed low threshold fattens high-contrast holds by the lens blur; cutting each region's
    rim at half of its own typical value puts the outline half-way through the blur, as a
    person tracing it would. Faint pixels enclosed by the rest stay (a hold's dark opening);
    faint fringes go, with the soft shadow a big hold or volume casts next to it.
    """
    regions = hysteresis(values, low, high)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(regions, connectivity=8)
    out = np.zeros_like(regions)
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        region = labels[y : y + h, x : x + w] == i
        if area < 30:  # too small to have a rim worth cutting
            out[y : y + h, x : x + w] |= region.astype(np.uint8)
            continue
        local = values[y : y + h, x : x + w]
        cut = max(low, 0.5 * float(np.percentile(local[region], 60)))
        keep = region & (fill_holes((region & (local > cut)).astype(np.uint8)) > 0)
        out[y : y + h, x : x + w] |= keep.astype(np.uint8)
    return out


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """Fill enclosed holes (a pocket's hole, a jug's dark opening) so a hold is one region."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros_like(mask)
    cv2.drawContours(filled, contours, -1, (1,), thickness=cv2.FILLED)
    return filled


def solidity(region: np.ndarray) -> float:
    """Area of a uint8 0/1 region over the area of its convex hull (1 for convex shapes)."""
    contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return 0.0
    hull = cv2.contourArea(cv2.convexHull(np.concatenate(contours)))
    return float(region.sum() / hull) if hull > 0 else 1.0


def outline_sharpness(region: np.ndarray, sharp: np.ndarray) -> float:
    """Share of a region's boundary band (same-size uint8 crops) lying on crisp edges."""
    kernel = np.ones((3, 3), np.uint8)
    band = cv2.dilate(region, kernel) - cv2.erode(region, kernel)
    return float(sharp[band > 0].mean()) if band.any() else 0.0


def relabel(labels: np.ndarray) -> np.ndarray:
    """Consecutive labels 1..N, keeping the order of the old labels."""
    present = np.unique(labels)
    present = present[present > 0]
    lookup = np.zeros(int(labels.max()) + 1, np.int32)
    lookup[present] = np.arange(1, len(present) + 1, dtype=np.int32)
    return lookup[labels]
