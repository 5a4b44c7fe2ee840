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
from engines.holds.errors import CloseUpPhotoError, NoHoldsFoundError, TooManyHoldsError
from engines.holds.geometry import mask_outline, rasterize, to_normalised
from engines.holds.model import BoxDetections, HoldModel
from engines.holds.outline import outline_in_box, simplify
from engines.holds.photo import check_photo
from engines.holds.segment import segment
from schema.holds import MAX_HOLDS, Hold, HoldMap

logger = logging.getLogger(__name__)

#: Long side of the image the detector works on; larger photos are scaled down to it.
WORKING_SIDE = 1024
#: Smallest hold, as its diameter over the photo's long side (a foot chip on a 4 m section).
MIN_HOLD = 0.006
#: A photo whose only holds (at most this many) each fill this share of it is a close-up.
CLOSE_UP_HOLDS, CLOSE_UP_AREA = 2, 0.08
#: A photo where the normal sizes find nothing, but the close-up passes find an object covering
#: a fifth of it with this score, is a close-up. Measured with the shipped weights: on
#: opencv-doc's 84 photos without a wall the best such score was 0.365 (aloeGT.png); of the 22
#: calibration and evaluation photos where the normal sizes find nothing (all volume or hold
#: close-ups), 11 score 0.389-0.723 and are told to step back, 11 score 0.13-0.374.
CLOSE_UP_PROBE_AREA, CLOSE_UP_PROBE_SCORE = 0.2, 0.38


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

    if model is not None:
        return _detect_with_model(image_bgr, work, smooth, model)
    found = segment(work, min_diameter=min_diameter)
    labels, background, rejected = found.labels, found.background, dict(found.rejected)

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
    holds, probabilities = _describe(smooth, labels, background)
    return _ordered(holds, probabilities, labels, (width, height), "classical", rejected)


def _ordered(
    holds: list[Hold],
    probabilities: np.ndarray,
    labels: np.ndarray,
    size: tuple[int, int],
    backend: str,
    rejected: dict[str, int],
) -> HoldDetection:
    """Number the holds ``h1``... from the top of the wall down, relabelling ``labels``."""
    n = len(holds)
    order = sorted(range(n), key=lambda i: (holds[i].y, holds[i].x))
    lookup = np.zeros(n + 1, np.int32)
    lookup[np.array(order, dtype=np.int64) + 1] = np.arange(1, n + 1, dtype=np.int32)
    ordered = [holds[i] for i in order]
    for k, hold in enumerate(ordered, start=1):
        hold.id = f"h{k}"
    return HoldDetection(
        hold_map=HoldMap(image_width=size[0], image_height=size[1], holds=ordered),
        labels=lookup[labels],
        type_probabilities=probabilities[order].reshape(n, len(CLASSICAL_TYPES)),
        type_names=CLASSICAL_TYPES,
        backend=backend,
        rejected=rejected,
    )


def _detect_with_model(
    image_bgr: np.ndarray, work: np.ndarray, smooth: np.ndarray, model: HoldModel
) -> HoldDetection:
    """Boxes from the learned detector, each refined to the hold's outline (`outline`)."""
    height, width = image_bgr.shape[:2]
    found = model.detect(image_bgr)
    rejected: dict[str, int] = {}
    if len(found.scores) > MAX_HOLDS:
        # A huge wall: keep the holds the model is surest of rather than refuse the photo.
        rejected["beyond_max_holds"] = len(found.scores) - MAX_HOLDS
        keep = np.argsort(-found.scores)[:MAX_HOLDS]
        found = type(found)(found.boxes[keep], found.scores[keep], found.volume[keep])
    n = len(found.scores)
    if n == 0:
        seen_small = model.detect_close_up(image_bgr)
        areas = np.prod(seen_small.boxes[:, 2:] - seen_small.boxes[:, :2], axis=1)
        large = seen_small.scores[areas >= CLOSE_UP_PROBE_AREA]
        if len(large) and float(large.max()) >= CLOSE_UP_PROBE_SCORE:
            raise CloseUpPhotoError(
                "This photo shows a hold or volume up close. Step back and photograph the whole "
                "wall section you climb, so every hand and foot hold is in the picture."
            )
        raise NoHoldsFoundError(
            "We couldn't find any climbing holds in this photo. Photograph the wall straight "
            "on, in good light, with the holds filling most of the frame."
        )
    box_areas = np.prod(found.boxes[:, 2:] - found.boxes[:, :2], axis=1)
    if n <= CLOSE_UP_HOLDS and box_areas.min() >= CLOSE_UP_AREA:
        raise CloseUpPhotoError(
            "This photo shows a hold up close. Step back and photograph the whole wall section "
            "you climb, so every hand and foot hold is in the picture."
        )
    wh, ww = work.shape[:2]
    boxes = found.boxes * np.array([ww, wh, ww, wh], np.float32)
    lab = cv2.cvtColor(smooth, cv2.COLOR_BGR2Lab)
    outlines = [outline_in_box(lab, box)[0] for box in boxes]
    labels = np.zeros((wh, ww), np.int32)
    # Large first, so a hold on a volume stays on top of it.
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    for i in np.argsort(-areas):
        mask = rasterize(outlines[i], (wh, ww))
        if not mask.any():  # a sliver box: mark its centre pixel at least
            cx = min(int((boxes[i, 0] + boxes[i, 2]) / 2), ww - 1)
            cy = min(int((boxes[i, 1] + boxes[i, 3]) / 2), wh - 1)
            mask[cy, cx] = True
        labels[mask] = i + 1
    # Regions painted over entirely by neighbours come back as their own outline's pixels.
    present = np.bincount(labels.ravel(), minlength=n + 1)[1:] > 0
    for i in np.flatnonzero(~present):
        cx = min(int((boxes[i, 0] + boxes[i, 2]) / 2), ww - 1)
        cy = min(int((boxes[i, 1] + boxes[i, 3]) / 2), wh - 1)
        labels[cy, cx] = i + 1
    background = estimate_background(smooth, exclude=labels > 0)
    holds, probabilities = _describe(smooth, labels, background, found, outlines)
    return _ordered(holds, probabilities, labels, (width, height), "model", rejected)


def _compact(points: np.ndarray) -> list[tuple[float, float]]:
    """Normalised outline vertices rounded to 1e-3: a pixel of a 1000 px photo, finer than a
    phone draws, and it keeps a 200-hold map under 60 KB of JSON."""
    return [(round(float(x), 3), round(float(y), 3)) for x, y in points]


def _describe(
    image: np.ndarray,
    labels: np.ndarray,
    background: np.ndarray,
    learned: BoxDetections | None = None,
    outlines: list[np.ndarray] | None = None,
) -> tuple[list[Hold], np.ndarray]:
    """A `Hold` (id left blank) and `CLASSICAL_TYPES` probabilities for each labelled region.

    With ``learned`` (the model's detections, one per region, and their ``outlines`` in pixels)
    the model decides hold or volume and gives the box; the type of a hold is the classical
    shape reading, scaled by the detection score (the model was never shown hold types).
    """
    h, w = labels.shape
    slices = ndimage.find_objects(labels)
    areas = np.bincount(labels.ravel())[1:]
    typical = float(np.median(np.sqrt(4.0 * areas / np.pi)))
    brightness = image.mean(axis=2)
    wall_light = background.mean(axis=2)
    reference = float(np.median(wall_light))
    holds: list[Hold] = []
    colors = np.zeros((len(slices), 3), np.float32)
    probabilities = np.zeros((len(slices), len(CLASSICAL_TYPES)), np.float32)
    volume = CLASSICAL_TYPES.index("volume")
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
        reading = type_probabilities(shape_features(mask, brightness[window], typical))
        probabilities[i] = [reading[t] for t in CLASSICAL_TYPES]
        origin = np.array([window[1].start, window[0].start], np.float64)
        outline = mask_outline(mask) + origin if outlines is None else outlines[i]
        # Outer pixel edges: pixel i spans [i / w, (i + 1) / w] normalised.
        bbox = (window[1].start / w, window[0].start / h, window[1].stop / w, window[0].stop / h)
        if learned is not None:
            score = float(learned.scores[i])
            probabilities[i, volume] = 0.0
            rest = float(probabilities[i].sum())
            if rest < 1e-6:  # the shape reads as a volume, the model says hold: type unknown
                probabilities[i] = 1.0 / (len(CLASSICAL_TYPES) - 1)
                probabilities[i, volume] = 0.0
                rest = 1.0
            probabilities[i] *= score / rest
            if learned.volume[i]:
                probabilities[i] = 0.0
                probabilities[i, volume] = score
            bx0, by0, bx1, by1 = (float(v) for v in learned.boxes[i])
            bbox = (bx0, by0, bx1, by1)
        best = int(np.argmax(probabilities[i]))
        centre = to_normalised(np.array([[cx, cy]]), (w, h))[0]
        holds.append(
            Hold(
                id="",
                x=round(float(centre[0]), 4),
                y=round(float(centre[1]), 4),
                type=CLASSICAL_TYPES[best],
                polygon=_compact(to_normalised(simplify(outline), (w, h))),
                color=color_name(colors[i]),
                confidence=round(float(np.clip(probabilities[i, best], 0.0, 1.0)), 3),
                bbox=(
                    round(bbox[0], 4),
                    round(bbox[1], 4),
                    round(bbox[2], 4),
                    round(bbox[3], 4),
                ),
            )
        )
    routes = group_routes(
        colors, [hold.color for hold in holds], volumes=[hold.type == "volume" for hold in holds]
    )
    for hold, route in zip(holds, routes, strict=True):
        hold.route = route
    return holds, probabilities
