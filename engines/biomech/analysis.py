"""Biomechanics of a climb: per-frame series, per-move figures and the seed's metrics row.

Everything is measured in the image plane in frame pixels (so the frame's aspect ratio cannot skew
angles or distances) and reported in centimetres through `engines.biomech.body.BodyScale`.

Hip-to-wall proxy: the camera faces the wall, so depth is not seen directly; a leg whose foot is on
the wall and whose hip stands off it appears shorter than it is. Each leg's depth span is
``sqrt(L**2 - l**2)`` summed over thigh and shank (``L`` the segment's robust length over the
video, ``l`` its on-screen length), averaged over the feet on holds. It reads 0 with the legs
parallel to the wall and measures the hips' depth relative to the ankles. It assumes the knee lies
between hip and wall in depth (a climber facing the wall), and that the camera sees the climber at
the scale the lengths ``L`` were read at — which the formula punishes hard: a leg seen 10 % short
reads as 44 % of its length off the wall. So the proxy reports only what it can stand behind
(NaN elsewhere, which also keeps the static model from inventing an outward pull):

* on-screen lengths within `FULL_LENGTH_RATIO` of ``L`` count as full length (jitter lifts ``L``);
* a leg is calibrated only *between* moments it was seen in the wall plane (both segments within
  `CALIBRATION_RATIO` of ``L``), at most `CALIBRATION_WINDOW_S` before and after, for at least
  `CALIBRATION_MIN_S` on each side. A climber never seen with the legs along the wall, a camera the
  climber moves away from or sees ever more obliquely (a phone filming a board from below:
  everything shrinks, tucked or stretched alike, and never gets back to full length), or an ``L``
  inflated by a burst of bad frames all leave the leg uncalibrated;
* a leg whose ``L`` disagrees with the rest of the body (thigh vs shank beyond
  `SEGMENT_RATIO_RANGE`, or either beyond `REFERENCE_RANGE` of its Drillis & Contini length) is
  not trusted at all;
* with both feet on holds, legs that disagree by more than `LEG_DISAGREEMENT_FRACTION` of stature
  (one pelvis, two depths) give no figure;
* figures beyond `HIP_WALL_MAX_FRACTION` of stature are not a posture an adult holds with hands
  and feet on holds (the arms would have to reach past their length): no figure.

One module of ~360 lines on purpose: the per-frame series, the per-move figures and the metrics
row read the same masked frames and body scale; apart, each would re-derive them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING, Final

import numpy as np

from engines.biomech.body import (
    LENGTH_PERCENTILE,
    STATURE_SEGMENTS,
    BodyScale,
    body_scale,
    pixel_points,
)
from engines.biomech.motion import MoveFigures, move_figures
from engines.biomech.segments import JOINT_NAMES, centre_of_gravity, joint_angles
from engines.biomech.series import smooth, window_frames
from engines.biomech.statics import (
    HAND_COLUMNS,
    TIE_CM,
    support_area,
    support_margin,
    vertical_loads,
    wall_pull,
)
from engines.errors import EngineInputError
from engines.pose.timeline import Landmark, SkeletonTimeline
from schema.analysis import MetricsSummary, Morphology

if TYPE_CHECKING:  # engines.contacts imports this package at run time: only types here.
    from engines.contacts import ContactTrack, Move

logger = logging.getLogger(__name__)

_L = Landmark
_ARMS = ((_L.LEFT_SHOULDER, _L.LEFT_ELBOW), (_L.RIGHT_SHOULDER, _L.RIGHT_ELBOW))

#: Hip-to-wall proxy (see the module docstring). On-screen segment lengths at least this fraction
#: of the segment's robust length count as full length, in the wall plane: the robust length sits
#: a few percent above the true one under landmark jitter, and ``sqrt(1 - r**2)`` would turn that
#: into centimetres of phantom depth (a 3 % shortfall is 24 % of the segment).
FULL_LENGTH_RATIO: Final = 0.98
#: A leg is seen in the wall plane when both its segments are at least this fraction of their
#: robust lengths (within ~16° of the wall; a camera drifting by less reads < 20 cm of depth) ...
CALIBRATION_RATIO: Final = 0.96
#: ... and its depth is trusted only between such frames, at most this many seconds before and
#: after ...
CALIBRATION_WINDOW_S: Final = 3.0
#: ... for at least this long on each side (a handful of glitched frames cannot calibrate it).
CALIBRATION_MIN_S: Final = 0.25
#: Thigh over shank robust lengths outside this range: one of them is mis-tracked (Drillis &
#: Contini: 0.245 vs 0.246 of stature).
SEGMENT_RATIO_RANGE: Final = (0.75, 1.33)
#: Robust segment length over its Drillis & Contini length (through the body scale) outside this
#: range: inflated by bad frames, or the leg was never seen at full length.
REFERENCE_RANGE: Final = (0.85, 1.2)
#: Two feet on holds whose legs put the hips this far apart in depth (fraction of stature, ~26 cm
#: at 175 cm) measure nothing consistent.
LEG_DISAGREEMENT_FRACTION: Final = 0.15
#: Largest plausible hip depth over the ankles with hands and feet on holds, fraction of stature
#: (~52 cm at 175 cm); beyond it the proxy, not the climber, is off.
HIP_WALL_MAX_FRACTION: Final = 0.3

_SEGMENT_FRACTION = {name: fraction for name, _, _, fraction in STATURE_SEGMENTS}
_LEG_SEGMENTS = (
    (("left_thigh", _L.LEFT_HIP, _L.LEFT_KNEE), ("left_shank", _L.LEFT_KNEE, _L.LEFT_ANKLE)),
    (("right_thigh", _L.RIGHT_HIP, _L.RIGHT_KNEE), ("right_shank", _L.RIGHT_KNEE, _L.RIGHT_ANKLE)),
)


@dataclass
class Biomechanics:
    """Biomechanics of one climb. Per-limb columns follow `engines.limbs.Limb`.

    Attributes:
        timestamps_s: ``(T,)``.
        angles_deg: ``(T, 8)`` joint angles, columns `JOINT_NAMES`; NaN without pose.
        cog: ``(T, 2)`` centre of gravity, normalised frame coordinates like the landmarks.
        contact: ``(T, 4)`` bool, limb on a hold (from the contact track).
        loads: ``(T, 4)`` share of body weight carried vertically by each limb; sums to 1 over
            the limbs in contact, 0 elsewhere.
        forces: ``(T, 4)`` contact force per limb in body weights, vertical load and wall pull
            combined: the tension every segment of an arm transmits (the static model treats a
            limb as a chain of two-force members), compression along a leg.
        elbow_moment: ``(T, 2)`` left/right hand force times the elbow's distance from the
            shoulder-to-hand line, BW·cm: what the elbow flexors hold when the arm is bent.
        unbalanced_cm: ``(T,)`` moment the contacts cannot balance, BW·cm (0 when the CoG is
            over the base of support; NaN without contacts): the barn-door moment.
        support_margin_cm: ``(T,)`` horizontal CoG margin inside the contacts' span (negative
            outside).
        support_area_cm2: ``(T,)`` base of support: area of the contact points' convex hull
            (0 with fewer than three limbs on holds).
        hip_wall_cm: ``(T,)`` hip-to-wall proxy (NaN without a foot on a hold, and wherever the
            proxy cannot be trusted: see the module docstring).
        span_cm: ``(T,)`` largest distance between two limbs on holds (NaN with fewer than 2).
        moves: per-move figures, in move order.
        scale: the body scale used.
        hold_count: distinct holds touched by any limb.
    """

    timestamps_s: np.ndarray
    angles_deg: np.ndarray
    cog: np.ndarray
    contact: np.ndarray
    loads: np.ndarray
    forces: np.ndarray
    elbow_moment: np.ndarray
    unbalanced_cm: np.ndarray
    support_margin_cm: np.ndarray
    support_area_cm2: np.ndarray
    hip_wall_cm: np.ndarray
    span_cm: np.ndarray
    scale: BodyScale
    hold_count: int
    moves: list[MoveFigures] = field(default_factory=list)

    def __post_init__(self) -> None:
        frames = self.timestamps_s.shape[0]
        shapes = {
            "angles_deg": (frames, len(JOINT_NAMES)),
            "cog": (frames, 2),
            "contact": (frames, 4),
            "loads": (frames, 4),
            "forces": (frames, 4),
            "elbow_moment": (frames, 2),
            "unbalanced_cm": (frames,),
            "support_margin_cm": (frames,),
            "support_area_cm2": (frames,),
            "hip_wall_cm": (frames,),
            "span_cm": (frames,),
        }
        for name, shape in shapes.items():
            if getattr(self, name).shape != shape:
                raise ValueError(f"{name} must have shape {shape}")
        if self.hold_count < 0:
            raise ValueError("hold_count cannot be negative")

    def angle(self, joint: str) -> np.ndarray:
        """``(T,)`` angle of one joint of `JOINT_NAMES` ("left_elbow", ...), degrees."""
        return self.angles_deg[:, JOINT_NAMES.index(joint)]

    @property
    def hand_force(self) -> np.ndarray:
        """``(T,)`` total force through both hands, body weights."""
        return self.forces[:, HAND_COLUMNS].sum(axis=1)

    def summary(self) -> MetricsSummary:
        """The seed's ``analysis_metrics`` row.

        ``max_reach_cm``: the widest stretch between two limbs on holds; ``avg_tension``: mean
        force through the hands, body weights, over frames with a hand on a hold;
        ``movement_efficiency``: total straight-line CoG travel over total CoG path across moves
        (0..1); ``hold_count``: distinct holds touched. None where the climb gives no figure.
        """
        spans = self.span_cm[np.isfinite(self.span_cm)]
        gripping = self.contact[:, HAND_COLUMNS].any(axis=1) & np.isfinite(self.cog).all(axis=1)
        measured = [m for m in self.moves if np.isfinite(m.efficiency)]
        path = sum(m.cog_path_cm for m in measured)
        return MetricsSummary(
            max_reach_cm=round(float(spans.max()), 1) if spans.size else None,
            avg_tension=round(float(self.hand_force[gripping].mean()), 3)
            if gripping.any()
            else None,
            movement_efficiency=round(sum(m.cog_chord_cm for m in measured) / path, 3)
            if path > 0
            else None,
            hold_count=self.hold_count,
        )


def analyse(
    timeline: SkeletonTimeline,
    track: ContactTrack,
    moves: Sequence[Move],
    morphology: Morphology,
) -> Biomechanics:
    """Compute the biomechanics of a climb.

    Args:
        timeline: the climber's skeleton.
        track: limb contacts from `engines.contacts.track_contacts` on the same timeline.
        moves: moves from `engines.contacts.find_moves`.
        morphology: the climber's body; a missing height falls back as `resolve_height` says.

    Returns:
        Per-frame series, per-move figures and the metrics summary.

    Raises:
        EngineInputError: no frame has a pose.
        ValueError: the track does not belong to the timeline.
    """
    if len(track) != len(timeline):
        raise ValueError("the contact track and the timeline have different frame counts")
    if not timeline.has_pose.any():
        raise EngineInputError("no climber was found in the video")
    scale = body_scale(timeline, morphology)
    window = window_frames(timeline.timestamps_s)
    px_per_cm = scale.px_per_cm
    points = pixel_points(timeline)
    frame = np.array([timeline.frame_width, timeline.frame_height], dtype=np.float64)
    contact = track.in_contact.copy()
    limb_px = track.points.astype(np.float64) * frame

    cog_px = centre_of_gravity(points)
    hip_wall = hip_wall_cm(points, contact, timeline.timestamps_s, scale)
    loads, unbalanced = vertical_loads(
        limb_px[..., 0], contact, cog_px[:, 0], tie=TIE_CM * px_per_cm
    )
    pull = wall_pull(-limb_px[..., 1] / px_per_cm, contact, loads, hip_wall)
    forces = np.hypot(loads, pull)
    elbow_moment = _elbow_moment(points, limb_px, forces) / px_per_cm

    # Spans and paths on smoothed points, so a one-frame landmark glitch cannot set a record.
    smooth_limbs_px = smooth(limb_px, window)
    figures = move_figures(
        moves,
        timestamps_s=timeline.timestamps_s,
        cog_cm=smooth(cog_px, window) / px_per_cm,
        points_cm=smooth_limbs_px / px_per_cm,
        contact=contact,
        hip_wall_cm=hip_wall,
        hand_force_bw=forces[:, HAND_COLUMNS].sum(axis=1),
        height_cm=scale.height_cm,
    )
    return Biomechanics(
        timestamps_s=timeline.timestamps_s,
        angles_deg=joint_angles(points),
        cog=cog_px / frame,
        contact=contact,
        loads=loads,
        forces=forces,
        elbow_moment=elbow_moment,
        unbalanced_cm=unbalanced / px_per_cm,
        support_margin_cm=support_margin(limb_px[..., 0], contact, cog_px[:, 0]) / px_per_cm,
        support_area_cm2=support_area(limb_px, contact) / px_per_cm**2,
        hip_wall_cm=hip_wall,
        span_cm=_span(smooth_limbs_px, contact) / px_per_cm,
        scale=scale,
        hold_count=len(track.touched_holds()),
        moves=figures,
    )


def hip_wall_cm(
    points: np.ndarray, contact: np.ndarray, timestamps_s: np.ndarray, scale: BodyScale
) -> np.ndarray:
    """``(T,)`` hip-to-wall proxy in cm, NaN where it cannot be trusted (see the module docstring).

    Args:
        points: ``(T, 33, 2)`` pixel landmarks, NaN without a pose.
        contact: ``(T, 4)`` bool, limb on a hold (columns follow `engines.limbs.Limb`).
        timestamps_s: ``(T,)``.
        scale: the climber's body scale.
    """
    legs = np.stack(
        [_leg_depth_cm(points, segments, timestamps_s, scale) for segments in _LEG_SEGMENTS], axis=1
    )
    usable = contact[:, 2:] & np.isfinite(legs)
    count = usable.sum(axis=1)
    proxy = np.where(usable, legs, 0.0).sum(axis=1) / np.maximum(count, 1)
    # One pelvis cannot stand at two depths: legs that disagree that much measure nothing.
    disagree = usable.all(axis=1) & (
        np.abs(legs[:, 0] - legs[:, 1]) > LEG_DISAGREEMENT_FRACTION * scale.height_cm
    )
    valid = (count > 0) & ~disagree & (proxy <= HIP_WALL_MAX_FRACTION * scale.height_cm)
    return np.where(valid, proxy, np.nan)


def _leg_depth_cm(
    points: np.ndarray,
    segments: tuple[tuple[str, int, int], ...],
    timestamps_s: np.ndarray,
    scale: BodyScale,
) -> np.ndarray:
    """``(T,)`` depth of one hip over its ankle, cm; NaN where the leg is not calibrated."""
    frames = points.shape[0]
    window = window_frames(timestamps_s)
    depth = np.zeros(frames)
    in_plane = np.ones(frames, dtype=bool)
    relative: list[float] = []
    for name, a, b in segments:
        # Lengths are smoothed first: jitter both lengthens and shortens a segment.
        seen = smooth(np.linalg.norm(points[:, a] - points[:, b], axis=1), window)
        reference = float(np.percentile(seen[np.isfinite(seen)], LENGTH_PERCENTILE))
        length_cm = reference / scale.px_per_cm
        relative.append(length_cm / (_SEGMENT_FRACTION[name] * scale.height_cm))
        ratio = np.clip(seen / (FULL_LENGTH_RATIO * reference), 0.0, 1.0)
        depth += length_cm * np.sqrt(1.0 - ratio**2)
        in_plane &= seen >= CALIBRATION_RATIO * reference
    thigh, shank = relative
    low, high = REFERENCE_RANGE
    if not (
        SEGMENT_RATIO_RANGE[0] <= thigh / shank <= SEGMENT_RATIO_RANGE[1]
        and low <= thigh <= high
        and low <= shank <= high
    ):
        return np.full(frames, np.nan)
    # Seconds of full-length frames within the calibration window before and after each frame:
    # the leg must have been seen at full length on both sides, so the camera cannot have drifted
    # in between (a climber moving away from it never gets back to full length).
    step = float(np.median(np.diff(timestamps_s))) if frames > 1 else 0.0
    seen_full = np.concatenate([[0], np.cumsum(in_plane)])
    now = np.arange(frames)
    lo = np.searchsorted(timestamps_s, timestamps_s - CALIBRATION_WINDOW_S, side="left")
    hi = np.searchsorted(timestamps_s, timestamps_s + CALIBRATION_WINDOW_S, side="right")
    before = (seen_full[now + 1] - seen_full[lo]) * step
    after = (seen_full[hi] - seen_full[now]) * step
    calibrated = (before >= CALIBRATION_MIN_S) & (after >= CALIBRATION_MIN_S)
    return np.where(calibrated, depth, np.nan)


def _elbow_moment(points: np.ndarray, hands_px: np.ndarray, forces: np.ndarray) -> np.ndarray:
    """``(T, 2)`` hand force times the elbow's offset from the shoulder-hand line, BW·px."""
    moments = []
    for column, (shoulder, elbow) in enumerate(_ARMS):
        line = hands_px[:, column] - points[:, shoulder]
        offset = points[:, elbow] - points[:, shoulder]
        length = np.linalg.norm(line, axis=1)
        cross = np.abs(line[:, 0] * offset[:, 1] - line[:, 1] * offset[:, 0])
        lever = cross / np.where(length > 0, length, np.nan)
        moments.append(forces[:, column] * lever)
    return np.stack(moments, axis=1)


def _span(limb_px: np.ndarray, contact: np.ndarray) -> np.ndarray:
    span = np.full(limb_px.shape[0], np.nan)
    for a, b in combinations(range(4), 2):
        both = contact[:, a] & contact[:, b]
        distance = np.linalg.norm(limb_px[:, a] - limb_px[:, b], axis=1)
        span = np.where(both & np.isfinite(distance), np.fmax(span, distance), span)
    return span
