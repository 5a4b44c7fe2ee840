"""The climber's size on screen: pixel coordinates and the pixels-per-centimetre scale.

Landmarks arrive normalised to the frame (x by its width, y by its height), so every distance and
angle is measured on ``(x * frame_width, y * frame_height)`` pixels, where both axes share a unit.
Pixels become centimetres through the climber's stature: the skeleton's own body height in pixels
is estimated from segment lengths, and divided by the height the climber gave (or a documented
estimate when they gave none).

Segment lengths as fractions of stature follow Drillis & Contini (1966), as tabulated in
D. A. Winter, *Biomechanics and Motor Control of Human Movement* (4th ed., 2009), fig. 4.1.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

import numpy as np

from engines.biomech.series import smooth, window_frames
from engines.errors import EngineInputError
from engines.pose.timeline import Landmark, SkeletonTimeline
from schema.analysis import Morphology

logger = logging.getLogger(__name__)

#: Used when the climber gave neither height nor arm span: roughly the mean adult stature of a
#: mixed-sex population (men ~176 cm, women ~163 cm), so errors stay within about ±8 %.
DEFAULT_HEIGHT_CM: Final = 170.0
#: Arm span over height ("ape index"); 1.0 is the population mean and what we assume when only one
#: of the two is known.
DEFAULT_APE_INDEX: Final = 1.0
#: Foreshortening only ever shortens a segment on screen, so its true length is read from a high
#: percentile over the video rather than the median (which a climber leaning off the wall for most
#: of the climb would bias low); not the maximum, so a few mis-detected frames cannot inflate it.
LENGTH_PERCENTILE: Final = 95.0
#: Which of the per-segment stature estimates to keep: the upper quartile, for the same reason
#: (a limb that points at the wall all video reads short), yet not the largest, so one segment
#: longer than the population fraction in this climber does not decide alone.
ESTIMATE_PERCENTILE: Final = 75.0

_L = Landmark
#: Segments used to measure stature on screen: (name, proximal landmarks, distal landmarks,
#: Drillis & Contini fraction of stature). An endpoint given by two landmarks is their midpoint.
STATURE_SEGMENTS: Final[tuple[tuple[str, tuple[int, ...], tuple[int, ...], float], ...]] = (
    ("trunk", (_L.LEFT_SHOULDER, _L.RIGHT_SHOULDER), (_L.LEFT_HIP, _L.RIGHT_HIP), 0.818 - 0.530),
    ("left_upper_arm", (_L.LEFT_SHOULDER,), (_L.LEFT_ELBOW,), 0.186),
    ("right_upper_arm", (_L.RIGHT_SHOULDER,), (_L.RIGHT_ELBOW,), 0.186),
    ("left_forearm", (_L.LEFT_ELBOW,), (_L.LEFT_WRIST,), 0.146),
    ("right_forearm", (_L.RIGHT_ELBOW,), (_L.RIGHT_WRIST,), 0.146),
    ("left_thigh", (_L.LEFT_HIP,), (_L.LEFT_KNEE,), 0.530 - 0.285),
    ("right_thigh", (_L.RIGHT_HIP,), (_L.RIGHT_KNEE,), 0.530 - 0.285),
    ("left_shank", (_L.LEFT_KNEE,), (_L.LEFT_ANKLE,), 0.285 - 0.039),
    ("right_shank", (_L.RIGHT_KNEE,), (_L.RIGHT_ANKLE,), 0.285 - 0.039),
)


@dataclass(frozen=True)
class BodyScale:
    """How big the climber is, in centimetres and on screen.

    Attributes:
        height_cm: stature used for the scale.
        height_source: ``"morphology"`` (the climber's height), ``"arm_span"`` (derived from
            their arm span) or ``"default"`` (`DEFAULT_HEIGHT_CM`).
        arm_span_cm: the climber's arm span, or the height times `DEFAULT_APE_INDEX`.
        body_height_px: the skeleton's stature in frame pixels.
        segment_px: robust on-screen length in pixels of each `STATURE_SEGMENTS` entry.
    """

    height_cm: float
    height_source: str
    arm_span_cm: float
    body_height_px: float
    segment_px: dict[str, float]

    def __post_init__(self) -> None:
        if not (self.height_cm > 0 and self.body_height_px > 0 and self.arm_span_cm > 0):
            raise ValueError("body scale must be positive")

    @property
    def px_per_cm(self) -> float:
        return self.body_height_px / self.height_cm


def pixel_points(timeline: SkeletonTimeline) -> np.ndarray:
    """``(T, 33, 2)`` float64 landmark positions in frame pixels (NaN where there is no pose)."""
    scale = np.array([timeline.frame_width, timeline.frame_height], dtype=np.float64)
    points = timeline.landmarks[:, :, :2].astype(np.float64) * scale
    points[~timeline.has_pose] = np.nan
    return points


def endpoint(points: np.ndarray, landmarks: tuple[int, ...]) -> np.ndarray:
    """``(T, 2)``: the mean of ``landmarks`` in ``points`` ``(T, 33, 2)``."""
    return points[:, list(landmarks)].mean(axis=1)


def segment_lengths(points: np.ndarray) -> dict[str, np.ndarray]:
    """Per frame on-screen length ``(T,)`` of each `STATURE_SEGMENTS` entry, in pixels."""
    return {
        name: np.linalg.norm(endpoint(points, distal) - endpoint(points, proximal), axis=1)
        for name, proximal, distal, _ in STATURE_SEGMENTS
    }


def body_height_px(points: np.ndarray, *, window: int = 1) -> tuple[float, dict[str, float]]:
    """Stature of the skeleton in pixels, and the robust length of each segment it came from.

    Each segment's robust length (`LENGTH_PERCENTILE` over frames with a pose) divided by its
    stature fraction is one estimate of stature; their `ESTIMATE_PERCENTILE` is returned, so
    segments that stay foreshortened all video (or one badly tracked limb) do not decide it.

    Lengths are smoothed over ``window`` frames first: jitter both lengthens and shortens a
    segment, and a high percentile of jittery lengths would read the climber too tall.

    Args:
        points: ``(T, 33, 2)`` pixel landmarks, NaN where there is no pose.
        window: moving-average window in frames (`engines.biomech.series.window_frames`).

    Returns:
        ``(stature_px, {segment name: robust length px})``.

    Raises:
        EngineInputError: no frame has a pose.
    """
    lengths = {name: smooth(series, window) for name, series in segment_lengths(points).items()}
    robust: dict[str, float] = {}
    estimates: list[float] = []
    for name, _, _, fraction in STATURE_SEGMENTS:
        values = lengths[name][np.isfinite(lengths[name])]
        if values.size == 0:
            raise EngineInputError("no climber was found in the video")
        robust[name] = float(np.percentile(values, LENGTH_PERCENTILE))
        estimates.append(robust[name] / fraction)
    stature = float(np.percentile(estimates, ESTIMATE_PERCENTILE))
    if stature <= 0:
        raise EngineInputError("the climber's skeleton has no size in the video")
    return stature, robust


def resolve_height(morphology: Morphology) -> tuple[float, str, float]:
    """``(height_cm, source, arm_span_cm)`` from what the climber told us.

    The ape index links the two when only one is known; with neither, `DEFAULT_HEIGHT_CM`.
    """
    height, span = morphology.height_cm, morphology.arm_span_cm
    if (height is not None and height <= 0) or (span is not None and span <= 0):
        raise EngineInputError("height and arm span must be positive")
    if height is not None:
        return float(height), "morphology", float(span or height * DEFAULT_APE_INDEX)
    if span is not None:
        return float(span / DEFAULT_APE_INDEX), "arm_span", float(span)
    logger.info("no height given; scaling with the default %.0f cm", DEFAULT_HEIGHT_CM)
    return DEFAULT_HEIGHT_CM, "default", DEFAULT_HEIGHT_CM * DEFAULT_APE_INDEX


def body_scale(timeline: SkeletonTimeline, morphology: Morphology) -> BodyScale:
    """Measure the climber on screen and tie pixels to centimetres.

    Args:
        timeline: the climber's skeleton.
        morphology: what the climber told us about their body; any field may be None.

    Returns:
        The scale; `BodyScale.px_per_cm` converts frame pixels to centimetres.
    """
    height_cm, source, span_cm = resolve_height(morphology)
    stature_px, robust = body_height_px(
        pixel_points(timeline), window=window_frames(timeline.timestamps_s)
    )
    return BodyScale(height_cm, source, span_cm, stature_px, robust)
