"""Second looks at segmented regions: T-nut holes out, holds on volumes split off.

* Every wall is studded with T-nuts (bolt holes on a 15-20 cm grid), dark dots about 1 cm
  across, often in a metal rim; they are counted on the photo, their hole size measured, and
  dark-cored regions up to three holes wide are dropped. A foot chip is wider than that.
* A volume is a big region of one colour whose facets only change its brightness; a compact,
  crisply outlined patch of another colour inside it is a hold bolted onto it.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from engines.holds.masks import disc, fill_holes, outline_sharpness, relabel, solidity, trimmed

#: Fewest dark dots that make a T-nut grid.
_MIN_T_NUTS = 15
#: Regions up to this many T-nut hole diameters wide, with a dark core, are T-nuts.
_T_NUT_REGION = 3.0
#: A region must be this many smallest holds big to carry holds of its own (a volume).
_CARRIER_AREA = 100
#: Colour departure (share of brightness) inside a volume that marks another hold.
_OFF_COLOUR = 0.2


def t_nut_diameter(darkness: np.ndarray, *, max_diameter: float) -> float | None:
    """Typical diameter of the T-nut holes, when the photo shows enough of them.

    Args:
        darkness: (H, W) float32, share of the wall's light a pixel lacks.
        max_diameter: largest dark dot considered, in pixels.

    Returns:
        Median diameter of the small round dark dots, or None with fewer than 15 of them.
    """
    dark = (darkness > 0.5).astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    area = stats[1:, cv2.CC_STAT_AREA].astype(np.float64)
    diameter = np.sqrt(4.0 * area / np.pi)
    span = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT])
    dots = (area >= 2) & (diameter <= max_diameter) & (span <= 1.6 * diameter + 1)
    if dots.sum() < _MIN_T_NUTS:
        return None
    return float(np.median(diameter[dots]))


def drop_t_nuts(
    labels: np.ndarray, darkness: np.ndarray, t_nut: float | None
) -> tuple[np.ndarray, int]:
    """Remove the regions that are T-nuts: a dark hole, and at most `_T_NUT_REGION` holes wide.

    Args:
        labels: (H, W) int32 regions.
        darkness: (H, W) share of the wall's light each pixel lacks, unsmoothed.
        t_nut: typical T-nut hole diameter (`t_nut_diameter`), None when the photo shows no
            T-nut grid.

    Returns:
        The labels without T-nuts (renumbered) and how many were dropped.
    """
    if t_nut is None:
        return labels, 0
    areas = np.bincount(labels.ravel())
    cored = np.zeros(len(areas), bool)
    cored[np.unique(labels[darkness > 0.5])] = True
    # A T-nut with its metal rim is 1.5-2 holes wide; the smallest foot chip three.
    drop = cored & (areas <= np.pi / 4 * (_T_NUT_REGION * t_nut) ** 2)
    drop[0] = False
    if not drop.any():
        return labels, 0
    return relabel(np.where(drop[labels], 0, labels)), int(drop.sum())


def split_inclusions(
    image: np.ndarray, labels: np.ndarray, sharp: np.ndarray, min_diameter: float
) -> np.ndarray:
    """Give holds bolted onto a volume their own label.

    Args:
        image: (H, W, 3) float32 BGR photo.
        labels: (H, W) int32 regions.
        sharp: (H, W) uint8 crisp-edge map.
        min_diameter: smallest hold diameter in pixels.
    """
    out = labels.copy()
    min_area = np.pi * (min_diameter / 2) ** 2
    next_label = int(labels.max()) + 1
    areas = np.bincount(labels.ravel())
    for i, window in enumerate(ndimage.find_objects(labels), start=1):
        if window is None or areas[i] < _CARRIER_AREA * min_area:
            continue
        region = (labels[window] == i).astype(np.uint8)
        core = cv2.erode(region, disc(7)) > 0
        pixels = image[window]
        off = np.where(core, _off_colour(pixels, np.median(pixels[core], axis=0)), 0)
        parts = fill_holes(
            cv2.morphologyEx(trimmed(off, 0.6 * _OFF_COLOUR, _OFF_COLOUR), cv2.MORPH_OPEN, disc(3))
        )
        n, part_labels, stats, _ = cv2.connectedComponentsWithStats(parts, connectivity=8)
        local = out[window]
        for k in range(1, n):
            part = (part_labels == k).astype(np.uint8)
            if not min_area <= stats[k, cv2.CC_STAT_AREA] <= 0.5 * areas[i]:
                continue
            # Chalk and facet shading blotches are soft and ragged; a hold is crisp and compact.
            if solidity(part) < 0.7 or outline_sharpness(part, sharp[window]) < 0.5:
                continue
            # A hold sits on the volume, clear of its edge; a strip along the edge is shadow.
            if (cv2.dilate(part, disc(9)) & ~region.astype(bool)).any():
                continue
            local[part > 0] = next_label
            next_label += 1
    return relabel(out)


def _off_colour(pixels: np.ndarray, dominant: np.ndarray) -> np.ndarray:
    """How far each pixel is from ``dominant`` under any facet shading and chalk haze.

    A facet scales the colour (``g * dominant``), chalk adds white (``+ a * grey``); what no
    such mix explains is another colour. Measured against the brighter of the mix and a mid
    grey, since the colour of near-black pixels is noise.

    Returns:
        (H, W) float32 for (H, W, 3) pixels.
    """
    grey = np.full(3, 1.0 / np.sqrt(3.0), np.float32)
    basis = np.stack([dominant, grey], axis=1)  # (3, 2)
    # rcond: for a grey or black region the two directions coincide; fit along one.
    coef = pixels @ np.linalg.pinv(basis, rcond=0.15).T  # (H, W, 2): least-squares g, a
    coef[..., 0] = np.clip(coef[..., 0], 0.15, 3.0)
    # Negative white: a more saturated spot than the (partly chalked) dominant colour.
    limit = float(np.linalg.norm(dominant))
    coef[..., 1] = np.clip(coef[..., 1], -0.6 * limit, 0.8 * np.sqrt(3.0))
    mix = coef @ basis.T
    scale = np.maximum(np.linalg.norm(mix, axis=2), 0.35)
    return (np.linalg.norm(pixels - mix, axis=2) / scale).astype(np.float32)
