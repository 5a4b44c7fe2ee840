"""Outlines <-> pixel masks, exactly: a hold's area is the same whichever way it is stored.

Pixel centres sit at integer coordinates, so pixel ``(i, j)`` covers ``[i - 0.5, i + 0.5]``
across and the image spans ``[-0.5, W - 0.5]``; normalised coordinates map that span to 0..1.
A polygon covers the pixels at least half inside it; the outline of a mask runs along the outer
edges of its pixels, so that rasterising it gives the mask back.
"""

from __future__ import annotations

import cv2
import numpy as np

_SUPERSAMPLE = 4


def to_normalised(points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(N, 2) pixel coordinates -> 0..1 of the image ``size`` = (width, height)."""
    return np.clip((np.asarray(points, np.float64) + 0.5) / size, 0.0, 1.0)


def from_normalised(points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(N, 2) normalised coordinates -> pixel coordinates of the image ``size``."""
    return np.asarray(points, np.float64).reshape(-1, 2) * size - 0.5


def rasterize(polygon: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Pixels at least half inside ``polygon``.

    Args:
        polygon: (N, 2) vertices in pixels, x then y.
        shape: (H, W) of the image.

    Returns:
        (H, W) bool mask.
    """
    mask = np.zeros(shape, bool)
    if len(polygon) < 3:
        return mask
    s = _SUPERSAMPLE
    x0, y0 = np.maximum(np.floor(polygon.min(axis=0)).astype(int) - 1, 0)
    x1, y1 = np.ceil(polygon.max(axis=0)).astype(int) + 2
    x1, y1 = min(x1, shape[1]), min(y1, shape[0])
    if x1 <= x0 or y1 <= y0:
        return mask
    fine = np.zeros(((y1 - y0) * s, (x1 - x0) * s), np.uint8)
    points = (polygon - (x0, y0) + 0.5) * s - 0.5
    cv2.fillPoly(fine, [np.round(points * 16).astype(np.int32)], (255,), cv2.LINE_8, 4)
    cover = cv2.resize(fine, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    mask[y0:y1, x0:x1] = cover >= 128
    return mask


def mask_outline(mask: np.ndarray, *, tolerance: float = 0.25) -> np.ndarray:
    """Outline of the largest blob of ``mask``, along its pixels' outer edges.

    Args:
        mask: (H, W) bool.
        tolerance: how far, in pixels, the simplified outline may stray from the exact one.

    Returns:
        (N, 2) float vertices in pixels (empty for an empty mask); `rasterize` gives the blob
        back.
    """
    if not mask.any():
        return np.zeros((0, 2))
    s = _SUPERSAMPLE
    # Supersampled, the contour through the boundary sub-pixels runs 1/8 pixel inside the true
    # edge: well within the half-pixel coverage rule.
    padded = np.pad(mask, 1).astype(np.uint8)
    fine = np.repeat(np.repeat(padded, s, axis=0), s, axis=1)
    contours, _ = cv2.findContours(fine, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    contour = max(contours, key=cv2.contourArea)
    simplified = cv2.approxPolyDP(contour, tolerance * s, True)
    if len(simplified) < 3:
        simplified = contour
    return (simplified[:, 0, :].astype(np.float64) + 0.5) / s - 0.5 - 1.0
