"""The climber's body, measured from their own skeleton: segment lengths and reach limits.

All lengths are in *work units*: normalised frame coordinates with x multiplied by the frame's
aspect ratio, so one unit is the frame height on both axes and distances are isotropic.

Anthropometric ratios (Winter, *Biomechanics and Motor Control of Human Movement*, 4th ed.,
segment lengths as fractions of stature H) fill what the skeleton cannot show and turn the
profile's arm span into a length:

================  =====  ==============================================================
segment           x H    used for
================  =====  ==============================================================
upper arm         0.186  stature estimate; fallback length
forearm           0.146  stature estimate; fallback length
hand (to tip)     0.108  arm span; fingertip beyond the landmarks MediaPipe places
thigh             0.245  stature estimate; fallback length
shank             0.246  stature estimate; fallback length
trunk             0.288  shoulder height 0.818 - hip height 0.530; stature estimate
shoulder width    0.174  fallback only (distance between shoulder joint centres)
hip width         0.191  fallback only
================  =====  ==============================================================

The profile's height alone says nothing new in frame units (the frame has no metric scale of its
own); together with the arm span it gives the ape index, which sets the arm length relative to the
skeleton's stature: ``arm = 0.44 H + (ape - 1) H / 2`` (the extra span splits over both arms).

One module of ~320 lines on purpose: the measured lengths, the anthropometric fill-ins and the
human-range bounds make one body; split, a reader could not check one against the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from engines.ghost import landmarks as lm
from engines.ghost.errors import GhostInputError
from engines.pose.timeline import FrameQuality, SkeletonTimeline
from schema.analysis import Morphology

logger = logging.getLogger(__name__)

RATIO_UPPER_ARM = 0.186
RATIO_FOREARM = 0.146
RATIO_HAND = 0.108
RATIO_THIGH = 0.245
RATIO_SHANK = 0.246
RATIO_TRUNK = 0.288
RATIO_SHOULDER_WIDTH = 0.174
RATIO_HIP_WIDTH = 0.191
#: Planner reach is this fraction of the fully straight limb: the ghost never locks a joint.
REACH_MARGIN = 0.95
#: Landmarks below this visibility do not count towards a measurement.
MIN_VISIBILITY = 0.5
_LIMBS = frozenset({"upper_arm", "forearm", "thigh", "shin"})
#: Each limb segment stays within this band around its anthropometric share of the measured
#: stature: a forearm pointing at the camera all climb must not give the ghost a child's arm
#: (arms read 0.44 of leg length on a real video; people are near 0.68).
HUMAN_RANGE = (0.9, 1.1)
#: Ape indices outside this band are typos in a profile, not bodies.
APE_INDEX_RANGE = (0.85, 1.2)


@dataclass
class BodyModel:
    """Segment lengths and reach limits of one climber, in work units (frame heights).

    Attributes:
        aspect: frame width over height of the video the body was measured on.
        upper_arm, forearm, thigh, shin: joint-centre distances, the same on both sides.
        torso: shoulder midpoint to hip midpoint.
        shoulder_width, hip_width: between the two joint centres.
        head: shoulder midpoint (neck) to nose.
        hand_offsets: ``(2, 3, 2)`` left/right x (pinky, index, thumb) offsets from the wrist in
            the hand frame (axis: wrist → midpoint of index and pinky; second axis its left
            perpendicular in image coordinates).
        foot_offsets: ``(2, 2, 2)`` left/right x (heel, foot index) offsets from the ankle in the
            foot frame (axis: ankle → foot index).
        face_offsets: ``(11, 2)`` landmarks 0..10 relative to the nose in the head frame (axis:
            neck → nose).
        rest_end_angles: ``(4,)`` per limb (Limb order) the usual angle of the hand/foot axis
            relative to the forearm/shin, radians.
        rest_head_angle: usual angle of neck → nose relative to the torso's up axis, radians.
        stature: estimated standing height.
        arm_span: fingertip to fingertip with arms spread.
        max_hand_reach: shoulder joint → hand contact point the planner allows.
        max_foot_reach: hip joint → foot contact point the planner allows.
        reach_source: ``"profile"`` when the ape index came from the climber's profile,
            ``"skeleton"`` when every length is the skeleton's own.
        units_per_cm: frame heights per centimetre when the profile gives the height.
        frames_used: frames the torso was measured on.
    """

    aspect: float
    upper_arm: float
    forearm: float
    thigh: float
    shin: float
    torso: float
    shoulder_width: float
    hip_width: float
    head: float
    hand_offsets: np.ndarray
    foot_offsets: np.ndarray
    face_offsets: np.ndarray
    rest_end_angles: np.ndarray
    rest_head_angle: float
    stature: float
    arm_span: float
    max_hand_reach: float
    max_foot_reach: float
    reach_source: str = "skeleton"
    units_per_cm: float | None = None
    frames_used: int = 0

    def __post_init__(self) -> None:
        self.hand_offsets = np.asarray(self.hand_offsets, dtype=np.float64)
        self.foot_offsets = np.asarray(self.foot_offsets, dtype=np.float64)
        self.face_offsets = np.asarray(self.face_offsets, dtype=np.float64)
        self.rest_end_angles = np.asarray(self.rest_end_angles, dtype=np.float64)
        shapes = {
            "hand_offsets": (self.hand_offsets, (2, 3, 2)),
            "foot_offsets": (self.foot_offsets, (2, 2, 2)),
            "face_offsets": (self.face_offsets, (11, 2)),
            "rest_end_angles": (self.rest_end_angles, (4,)),
        }
        for name, (array, shape) in shapes.items():
            if array.shape != shape or not np.all(np.isfinite(array)):
                raise ValueError(f"{name} must be finite with shape {shape}, got {array.shape}")
        lengths = (
            self.upper_arm,
            self.forearm,
            self.thigh,
            self.shin,
            self.torso,
            self.shoulder_width,
            self.hip_width,
            self.head,
            self.stature,
            self.arm_span,
            self.max_hand_reach,
            self.max_foot_reach,
            self.aspect,
        )
        if not all(np.isfinite(v) and v > 0 for v in lengths):
            raise ValueError("body lengths and aspect must be positive and finite")
        if self.reach_source not in ("profile", "skeleton"):
            raise ValueError("reach_source must be 'profile' or 'skeleton'")

    @property
    def limb_reach(self) -> np.ndarray:
        """``(4,)`` planner reach per limb in Limb order (hands, then feet)."""
        hand, foot = self.max_hand_reach, self.max_foot_reach
        return np.array([hand, hand, foot, foot])

    @property
    def contact_offsets(self) -> np.ndarray:
        """``(4, 2)`` per limb, the contact point (`Limb.contact_landmarks` mean) in the end frame.

        Hands: mean of wrist (origin), pinky and index; feet: mean of ankle and foot index.
        """
        hands = self.hand_offsets[:, :2].sum(axis=1) / 3.0
        feet = self.foot_offsets[:, 1] / 2.0
        return np.concatenate([hands, feet])


def body_model(
    timeline: SkeletonTimeline,
    morphology: Morphology | None = None,
    *,
    limb_quantile: float = 0.85,
) -> BodyModel:
    """Measure the climber's body from their skeleton, with reach limits from their profile.

    Each length is the median (arm and leg segments: ``limb_quantile``) over frames where the
    model found both ends with visibility of at least 0.5 (left and right pooled); frames the
    pose engine only interpolated are used only when no detected frame shows the torso.

    Args:
        timeline: the climber's skeleton.
        morphology: the profile; ``height_cm`` together with ``arm_span_cm`` sets the arm length
            (see the module notes), ``height_cm`` alone only gives `BodyModel.units_per_cm`.
        limb_quantile: quantile of the arm and leg segment lengths. A limb turned towards the
            camera looks short, never long, so a high quantile is closer to the true length
            than the median while still ignoring outliers; each limb segment is then held
            within `HUMAN_RANGE` of its share of the stature.

    Returns:
        The climber's `BodyModel`.

    Raises:
        GhostInputError: no frame shows both shoulders and both hips.
    """
    morphology = morphology or Morphology()
    points = lm.work_points(timeline.landmarks, timeline.aspect)
    visible = timeline.landmarks[..., 3] >= MIN_VISIBILITY
    usable = timeline.quality == FrameQuality.DETECTED
    if not np.any(usable & _all_visible(visible, lm.TORSO_POINTS)):
        usable = timeline.has_pose
    visible &= usable[:, None] & np.all(np.isfinite(points), axis=-1)
    torso_frames = _all_visible(visible, lm.TORSO_POINTS)
    if not np.any(torso_frames):
        raise GhostInputError(
            "the ghost needs the climber's whole body in view: no frame shows both shoulders "
            "and both hips clearly"
        )

    if not 0.0 < limb_quantile < 1.0:
        raise ValueError("limb_quantile must lie strictly between 0 and 1")
    measured = {
        name: _segment(points, visible, pairs, limb_quantile if name in _LIMBS else 0.5)
        for name, pairs in lm.SEGMENTS.items()
    }
    shoulders = points[:, lm.SHOULDERS].mean(axis=1)
    hips = points[:, lm.HIPS].mean(axis=1)
    measured["torso"] = _median(np.linalg.norm(shoulders - hips, axis=-1)[torso_frames])
    head_frames = torso_frames & visible[:, lm.NOSE]
    measured["head"] = _median(np.linalg.norm(points[:, lm.NOSE] - shoulders, axis=-1)[head_frames])

    ratios = {
        "upper_arm": RATIO_UPPER_ARM,
        "forearm": RATIO_FOREARM,
        "thigh": RATIO_THIGH,
        "shin": RATIO_SHANK,
        "torso": RATIO_TRUNK,
    }
    estimates = [measured[k] / r for k, r in ratios.items() if np.isfinite(measured[k])]
    stature = float(np.median(estimates))
    low, high = HUMAN_RANGE
    for name in _LIMBS:
        expected = ratios[name] * stature
        if np.isfinite(measured[name]) and not low <= measured[name] / expected <= high:
            logger.info(
                "ghost body: %s measured %.2f of its usual share, held to %.2f-%.2f",
                name,
                measured[name] / expected,
                low,
                high,
            )
            measured[name] = float(np.clip(measured[name], low * expected, high * expected))
    fallback = {**ratios, "shoulder_width": RATIO_SHOULDER_WIDTH, "hip_width": RATIO_HIP_WIDTH}
    fallback["head"] = 0.10
    for name, ratio in fallback.items():
        if not np.isfinite(measured[name]):
            logger.info("ghost body: %s not measurable, using %.3f x stature", name, ratio)
            measured[name] = ratio * stature

    frames = lm.measure_frames(points, visible, torso_frames, stature)
    upper_arm, forearm = measured["upper_arm"], measured["forearm"]
    hand_tip = RATIO_HAND * stature
    reach_source = "skeleton"
    ape = _ape_index(morphology)
    if ape is not None:
        wanted = (RATIO_UPPER_ARM + RATIO_FOREARM + RATIO_HAND + (ape - 1.0) / 2.0) * stature
        scale = float(np.clip(wanted / (upper_arm + forearm + hand_tip), 0.85, 1.2))
        upper_arm, forearm, hand_tip = upper_arm * scale, forearm * scale, hand_tip * scale
        reach_source = "profile"
    arm_span = measured["shoulder_width"] + 2.0 * (upper_arm + forearm + hand_tip)

    contact = np.concatenate([frames.hand_offsets[:, :2].sum(1) / 3, frames.foot_offsets[:, 1] / 2])
    hand_contact = float(np.linalg.norm(contact[:2], axis=-1).mean())
    foot_contact = float(np.linalg.norm(contact[2:], axis=-1).mean())
    height_cm = morphology.height_cm
    return BodyModel(
        aspect=timeline.aspect,
        upper_arm=upper_arm,
        forearm=forearm,
        thigh=measured["thigh"],
        shin=measured["shin"],
        torso=measured["torso"],
        shoulder_width=measured["shoulder_width"],
        hip_width=measured["hip_width"],
        head=measured["head"],
        hand_offsets=frames.hand_offsets,
        foot_offsets=frames.foot_offsets,
        face_offsets=frames.face_offsets,
        rest_end_angles=frames.rest_end_angles,
        rest_head_angle=frames.rest_head_angle,
        stature=stature,
        arm_span=arm_span,
        max_hand_reach=REACH_MARGIN * (upper_arm + forearm + hand_contact),
        max_foot_reach=REACH_MARGIN * (measured["thigh"] + measured["shin"] + foot_contact),
        reach_source=reach_source,
        units_per_cm=stature / height_cm if height_cm and height_cm > 0 else None,
        frames_used=int(torso_frames.sum()),
    )


def _ape_index(morphology: Morphology) -> float | None:
    height, span = morphology.height_cm, morphology.arm_span_cm
    if not height or not span or height <= 0 or span <= 0:
        return None
    ape = span / height
    low, high = APE_INDEX_RANGE
    if not low <= ape <= high:
        logger.warning("ghost body: ape index %.2f outside %.2f..%.2f, clamped", ape, low, high)
    return float(np.clip(ape, low, high))


def _all_visible(visible: np.ndarray, indices: tuple[int, ...]) -> np.ndarray:
    return np.all(visible[:, list(indices)], axis=1)


def _median(values: np.ndarray) -> float:
    values = values[np.isfinite(values) & (values > 0)]
    return float(np.median(values)) if values.size else float("nan")


def _segment(
    points: np.ndarray, visible: np.ndarray, pairs: tuple[tuple[int, int], ...], quantile: float
) -> float:
    """Length quantile over both sides of a segment, NaN when no frame shows it."""
    lengths = np.concatenate(
        [
            np.linalg.norm(points[:, a] - points[:, b], axis=-1)[visible[:, a] & visible[:, b]]
            for a, b in pairs
        ]
    )
    lengths = lengths[np.isfinite(lengths) & (lengths > 0)]
    return float(np.quantile(lengths, quantile)) if lengths.size else float("nan")
