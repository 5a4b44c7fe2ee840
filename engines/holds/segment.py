"""Classical hold segmentation: regions that differ from the wall in colour, tone or outline.

Three sources of candidate regions, from the cues of `engines.holds.cues`:

1. colour evidence (``residual``): no shadow or chalk explains the pixel; kept as is;
2. tone evidence (``darker``, ``lighter``): brighter or darker than the wall, as chalk and
   shadows also are; kept only when a crisp outline runs around most of it (chalk clouds and
   shadows fade out softly, a hold stands off the wall with a sharp edge);
3. edge enclosures: patches ringed by crisp edges, for holds of the wall's own colour.

Each region's outline is placed where its contrast falls to half (as a person tracing it would),
enclosed openings are filled, and regions are kept or rejected by size and shape.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

import cv2
import numpy as np

from engines.holds.cues import compute_cues, estimate_background
from engines.holds.masks import disc, fill_holes, hysteresis, outline_sharpness, solidity, trimmed
from engines.holds.refine import drop_t_nuts, split_inclusions, t_nut_diameter

logger = logging.getLogger(__name__)

#: Residual (share of local white) above which a pixel is surely not bare wall.
_RESIDUAL = 0.1
#: Shadow depth above which a pixel may belong to a hold darker than the wall.
_DARKER = 0.25
#: Chalk density above which a pixel may belong to a hold lighter than the wall: more than
#: the haze climbers leave around holds.
_LIGHTER = 0.3
#: Gradient (share of the wall's brightness per pixel) along a crisp outline.
_EDGE = 0.05
#: Share of an outline that must be crisp for a tone region or enclosure to count as a hold.
_OUTLINE_COVER = 0.6
#: Tone regions and enclosures below this share of their convex hull are not one hold.
_SOLIDITY = 0.7


@dataclass
class Segmentation:
    """Candidate hold regions of one photo at working resolution.

    Attributes:
        labels: (H, W) int32, 0 for wall, 1..N for each region.
        background: (H, W, 3) float32 BGR 0..1, the estimated bare-wall appearance.
        rejected: why regions were dropped -> how many.
    """

    labels: np.ndarray
    background: np.ndarray
    rejected: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        if self.labels.ndim != 2 or self.labels.dtype != np.int32:
            raise ValueError("labels must be (H, W) int32")
        if self.background.shape != (*self.labels.shape, 3):
            raise ValueError("background must be (H, W, 3) like labels")

    @property
    def count(self) -> int:
        return int(self.labels.max())


def segment(image_bgr: np.ndarray, *, min_diameter: float) -> Segmentation:
    """Classical segmentation of hold candidates.

    Args:
        image_bgr: (H, W, 3) uint8 photo at working resolution.
        min_diameter: smallest hold, as the diameter in pixels of a disc of the same area.
            Tone regions and enclosures must be twice as wide: T-nut holes are crisp, ringed
            and all over the wall.

    Returns:
        Candidate regions and the background estimate.
    """
    image = cv2.GaussianBlur(image_bgr.astype(np.float32) / 255.0, (0, 0), 1.0)
    # Two half-resolution looks find the obvious holds so they do not vote for the wall; the
    # second sees past the first's bias near big volumes.
    half = cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    guess = np.zeros(half.shape[:2], bool)
    for _ in range(2):
        bg = estimate_background(half, exclude=guess if guess.any() else None)
        found = (compute_cues(half, bg, edges=False).residual > 0.6 * _RESIDUAL).astype(np.uint8)
        # Filled: a volume bigger than the median window shows only as a ring at first.
        guess |= cv2.dilate(fill_holes(found), np.ones((5, 5), np.uint8)) > 0
    size = (image.shape[1], image.shape[0])
    full = cv2.resize(guess.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    background = estimate_background(image, exclude=full > 0)
    cues = compute_cues(image, background)

    sharp = hysteresis(cues.edges, _EDGE, 2 * _EDGE)
    outlined_min = np.pi * min_diameter**2
    mask = trimmed(cues.residual, 0.5 * _RESIDUAL, _RESIDUAL)
    # Tone regions are judged apart from colour regions (a coloured hold's shadow is a tone
    # region whose crisp edge is the hold's, not its own), and darker apart from lighter ones
    # (a pale volume's shadow is not part of it).
    for tone, level in ((cues.darker, _DARKER), (cues.lighter, _LIGHTER)):
        candidates = _apart_from(trimmed(tone, 0.6 * level, level), mask, disc(7))
        mask |= _outlined(candidates, sharp, outlined_min)
    mask |= _outlined(_enclosures(sharp), sharp, outlined_min)
    # Close first: a volume's facets can come from different cues, a crack apart.
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, disc(3))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, disc(3))
    labels, rejected = label_regions(mask, min_diameter)

    # Unsmoothed: T-nut holes are only a few pixels wide.
    raw = image_bgr.astype(np.float32).mean(axis=2) / 255.0
    darkness = 1.0 - raw / np.maximum(background.mean(axis=2), 1e-3)
    t_nut = t_nut_diameter(darkness, max_diameter=2.0 * min_diameter)
    labels, dropped = drop_t_nuts(labels, darkness, t_nut)
    rejected["T-nut hole"] += dropped
    labels = split_inclusions(image, labels, sharp, min_diameter)
    logger.debug("segmented %d regions; rejected %s", int(labels.max()), dict(rejected))
    return Segmentation(labels, background, rejected)


def label_regions(mask: np.ndarray, min_diameter: float) -> tuple[np.ndarray, Counter[str]]:
    """Label the regions of a hold mask that can be holds; count the others by reason.

    Args:
        mask: (H, W) uint8 0/1, hold pixels; enclosed holes are filled first.
        min_diameter: smallest hold, as the diameter of a disc of the same area.

    Returns:
        (H, W) int32 labels 1..N, and the rejected regions counted by reason.
    """
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fill_holes(mask), connectivity=8)
    rejected: Counter[str] = Counter()
    keep = np.zeros(n, np.int32)
    for i in range(1, n):
        _, _, w, h, area = stats[i]
        if np.sqrt(4 * area / np.pi) < min_diameter:
            rejected["smaller than a foot chip"] += 1
        elif area > 0.25 * mask.size:
            rejected["larger than a quarter of the photo"] += 1
        elif area < 0.12 * w * h:
            rejected["thin or sprawling (a seam, a smear)"] += 1
        else:
            keep[i] = keep.max() + 1
    return keep[labels].astype(np.int32), rejected


def _apart_from(candidates: np.ndarray, found: np.ndarray, reach: np.ndarray) -> np.ndarray:
    """The candidate regions (holes filled) that neither touch ``found`` nor only half-wrap it.

    Shadows and chalk halos hug the holds that cause them: a tone region next to a colour
    region is one of those (setters leave a gap between holds). Unless it wraps the colour
    region whole: a wall-coloured hold around its dark recess.
    """
    tone_n, tone = cv2.connectedComponents(fill_holes(candidates), connectivity=8)
    colour_n, colour = cv2.connectedComponents(found, connectivity=8)
    # Which tone region holds (nearly) all of each colour region.
    pairs = np.bincount(
        colour[found > 0] * tone_n + tone[found > 0], minlength=colour_n * tone_n
    ).reshape(colour_n, tone_n)
    wrapper = pairs[:, 1:].argmax(axis=1) + 1 if tone_n > 1 else np.zeros(colour_n, int)
    tone_area = np.bincount(tone.ravel(), minlength=tone_n)
    held = pairs[np.arange(colour_n), wrapper]
    # A recess is a small part of its hold; a dark hold with its shadow is most of the region.
    wrapped = (held >= 0.9 * pairs.sum(axis=1)) & (held <= 0.5 * tone_area[wrapper])
    wrapper = np.where(wrapped, wrapper, -1)
    # Tone regions next to a colour region they do not wrap are dropped.
    near = cv2.dilate(colour.astype(np.float32), reach).astype(np.int32)
    touch = (tone > 0) & (near > 0)
    keep = np.ones(tone_n, bool)
    bad = tone[touch] != wrapper[near[touch]]
    keep[np.unique(tone[touch][bad])] = False
    keep[0] = False
    return keep[tone].astype(np.uint8)


def _enclosures(sharp: np.ndarray) -> np.ndarray:
    """Every patch crisp edges enclose, joined across the edges between neighbouring patches.

    Grip texture splits a hold's inside into several patches; joining them rebuilds the hold.
    Patches larger than a big volume are panels between seams, not holds.
    """
    contours, hierarchy = cv2.findContours(sharp, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    patches = np.zeros_like(sharp)
    if hierarchy is None:
        return patches
    max_area = 0.08 * sharp.size
    holes = [
        c
        for c, (_, _, _, parent) in zip(contours, hierarchy[0], strict=True)
        if parent >= 0 and 4 <= cv2.contourArea(c) <= max_area
    ]
    cv2.drawContours(patches, holes, -1, (1,), thickness=cv2.FILLED)
    return cv2.dilate(patches, np.ones((3, 3), np.uint8))


def _outlined(candidates: np.ndarray, sharp: np.ndarray, min_area: float) -> np.ndarray:
    """The candidate regions that are compact, big enough and ringed by crisp edges."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(candidates, connectivity=4)
    out = np.zeros_like(candidates)
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        if area < min_area or area > 0.08 * candidates.size:
            continue
        x0, y0 = max(x - 2, 0), max(y - 2, 0)
        window = np.s_[y0 : y + h + 2, x0 : x + w + 2]
        region = (labels[window] == i).astype(np.uint8)
        if outline_sharpness(region, sharp[window]) < _OUTLINE_COVER:
            continue
        if solidity(region) < _SOLIDITY:
            continue
        out[window] |= region
    return out
