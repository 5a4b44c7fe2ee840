"""`detect_holds`: wall photo -> `HoldMap`, with the classical segmenter or a TorchScript model.

The photo is scaled to a working size, segmented into hold regions, and each region becomes a
`Hold`: outline, box and centre (normalised to the photo), colour name, type with confidence and
route. Ids run ``h1``, ``h2``, ... from the top of the wall down.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy import ndimage

from engines.holds.classify import CLASSICAL_TYPES, shape_features, type_probabilities
from engines.holds.colors import body_color, color_name, group_routes
from engines.holds.cues import estimate_background
from engines.holds.errors import NoHoldsFoundError, TooManyHoldsError
from engines.holds.geometry import mask_outline, to_normalised
from engines.holds.model import HoldModel
from engines.holds.photo import check_photo
from engines.holds.segment import label_regions, segment
from schema.holds import MAX_HOLDS, Hold, HoldMap

logger = logging.getLogger(__name__)

#: Long side of the image the detector works on; larger photos are scaled down to it.
WORKING_SIDE = 1024
#: Smallest hold, as its diameter over the photo's long side (a foot chip on a 4 m section).
MIN_HOLD = 0.006


@dataclass
class HoldDetection:
    """Holds found on one photo, with what the detector saw.

    Attributes:
        hold_map: the holds, ids ``h1``... from top to bottom.
        labels: (h, w) int32 regions at working resolution: ``k`` is ``hold_map.holds[k - 1]``,
            0 is wall.
        type_probabilities: (N, K) probability of each of ``type_names`` per hold.
        type_names: the K types the backend tells apart.
        backend: ``"classical"`` or ``"model"``.
        rejected: regions dropped before classification, by reason.
    """

    hold_map: HoldMap
    labels: np.ndarray
    type_probabilities: np.ndarray
    type_names: tuple[str, ...]
    backend: str
    rejected: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.hold_map.holds)
        if self.labels.ndim != 2 or self.labels.dtype != np.int32 or int(self.labels.max()) != n:
            raise ValueError("labels must be (h, w) int32 with one label per hold")
        if self.type_probabilities.shape != (n, len(self.type_names)):
            raise ValueError("type_probabilities must be (N holds, K types)")
        if self.backend not in ("classical", "model"):
            raise ValueError(f"unknown backend {self.backend!r}")


def detect_holds(
    image_bgr: np.ndarray,
    *,
    model: HoldModel | None = None,
    working_side: int = WORKING_SIDE,
    min_hold: float = MIN_HOLD,
) -> HoldDetection:
    """Find, outline, classify and group the holds on a wall photo.

    Args:
        image_bgr: (H, W, 3) uint8 BGR photo, as `decode_photo` returns.
        model: a learned segmenter from `load_hold_model`; the classical segmenter when None.
        working_side: long side, in pixels, the photo is scaled down to before detection.
        min_hold: smallest hold diameter as a share of the long side.

    Returns:
        The hold map and diagnostics.

    Raises:
        InvalidPhotoError: not a usable photo.
        NoHoldsFoundError: nothing in the photo looks like a hold.
        TooManyHoldsError: more than `schema.holds.MAX_HOLDS` hold-like shapes.
    """
    check_photo(image_bgr)
    height, width = image_bgr.shape[:2]
    scale = min(1.0, working_side / max(height, width))
    work = image_bgr
    if scale < 1.0:
        size = (max(round(width * scale), 1), max(round(height * scale), 1))
        work = cv2.resize(image_bgr, size, interpolation=cv2.INTER_AREA)
    min_diameter = min_hold * max(work.shape[:2])
    smooth = cv2.GaussianBlur(work.astype(np.float32) / 255.0, (0, 0), 1.0)

    model_types: np.ndarray | None = None
    if model is None:
        found = segment(work, min_diameter=min_diameter)
        labels, background, rejected = found.labels, found.background, dict(found.rejected)
        type_names = CLASSICAL_TYPES
    else:
        output = model.predict(work)
        labels, rejected_counts = label_regions((output.hold > 0.5).astype(np.uint8), min_diameter)
        background = estimate_background(smooth, exclude=labels > 0)
        rejected, type_names, model_types = dict(rejected_counts), model.types, output.types

    n = int(labels.max())
    if n == 0:
        raise NoHoldsFoundError(
            "We couldn't find any climbing holds in this photo. Photograph the wall straight "
            "on, in good light, with the holds filling most of the frame."
        )
    if n > MAX_HOLDS:
        raise TooManyHoldsError(
            f"This photo shows {n} hold-like shapes, more than the {MAX_HOLDS} one route map "
            "can hold. Photograph a smaller section of the wall."
        )
    holds, probabilities = _describe(smooth, labels, background, type_names, model_types)
    order = sorted(range(n), key=lambda i: (holds[i].y, holds[i].x))
    lookup = np.zeros(n + 1, np.int32)
    lookup[np.array(order) + 1] = np.arange(1, n + 1, dtype=np.int32)
    ordered = [holds[i] for i in order]
    for k, hold in enumerate(ordered, start=1):
        hold.id = f"h{k}"
    return HoldDetection(
        hold_map=HoldMap(image_width=width, image_height=height, holds=ordered),
        labels=lookup[labels],
        type_probabilities=probabilities[order],
        type_names=tuple(type_names),
        backend="classical" if model is None else "model",
        rejected=rejected,
    )


def _describe(
    image: np.ndarray,
    labels: np.ndarray,
    background: np.ndarray,
    type_names: tuple[str, ...],
    model_types: np.ndarray | None,
) -> tuple[list[Hold], np.ndarray]:
    """A `Hold` (id left blank) and type probabilities for each labelled region."""
    h, w = labels.shape
    slices = ndimage.find_objects(labels)
    areas = np.bincount(labels.ravel())[1:]
    typical = float(np.median(np.sqrt(4.0 * areas / np.pi)))
    brightness = image.mean(axis=2)
    wall_light = background.mean(axis=2)
    reference = float(np.median(wall_light))
    holds: list[Hold] = []
    colors = np.zeros((len(slices), 3), np.float32)
    probabilities = np.zeros((len(slices), len(type_names)), np.float32)
    for i, window in enumerate(slices):
        assert window is not None  # labels are consecutive
        mask = labels[window] == i + 1
        ys, xs = np.nonzero(mask)
        cy, cx = ys.mean() + window[0].start, xs.mean() + window[1].start
        inner = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        pixels = image[window][inner if inner.sum() >= 4 else mask]
        # Correct for the uneven light so a white hold in a dim corner is still white.
        light = reference / max(float(wall_light[int(cy), int(cx)]), 1e-3)
        colors[i] = np.clip(body_color(pixels) * light, 0.0, 1.0)
        if model_types is None:
            feats = shape_features(mask, brightness[window], typical)
            probs = type_probabilities(feats)
            probabilities[i] = [probs[t] for t in type_names]
        else:
            probabilities[i] = model_types[window][mask].mean(axis=0)
        best = int(np.argmax(probabilities[i]))
        origin = np.array([window[1].start, window[0].start], np.float64)
        polygon = to_normalised(mask_outline(mask) + origin, (w, h))
        centre = to_normalised(np.array([[cx, cy]]), (w, h))[0]
        holds.append(
            Hold(
                id="",
                x=float(centre[0]),
                y=float(centre[1]),
                type=type_names[best],
                polygon=[(float(px), float(py)) for px, py in polygon],
                color=color_name(colors[i]),
                confidence=float(np.clip(probabilities[i, best], 0.0, 1.0)),
                bbox=(
                    # Outer pixel edges: pixel i spans [i / w, (i + 1) / w] normalised.
                    float(window[1].start / w),
                    float(window[0].start / h),
                    float(window[1].stop / w),
                    float(window[0].stop / h),
                ),
            )
        )
    routes = group_routes(
        colors, [hold.color for hold in holds], volumes=[hold.type == "volume" for hold in holds]
    )
    for hold, route in zip(holds, routes, strict=True):
        hold.route = route
    return holds, probabilities
