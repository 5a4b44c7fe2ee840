"""Biomechanics of a climb: per-frame series, per-move figures and the seed's metrics row.

Everything is measured in the image plane in frame pixels (so the frame's aspect ratio cannot skew
angles or distances) and reported in centimetres through `engines.biomech.body.BodyScale`.

Hip-to-wall proxy: the camera faces the wall, so depth is not seen directly; a leg whose foot is on
the wall and whose hip stands off it appears shorter than it is. Each leg's depth span is
``sqrt(L**2 - l**2)`` summed over thigh and shank (``L`` the segment's robust length over the
video, ``l`` its on-screen length), averaged over the feet on holds. It reads 0 with the legs
parallel to the wall and assumes each leg is seen near-parallel to it at some point of the video
(the start, in almost every climbing video); it measures the hips' depth relative to the ankles.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np

from engines.biomech.body import LENGTH_PERCENTILE, BodyScale, body_scale, pixel_points
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
_LEGS = (
    (_L.LEFT_HIP, _L.LEFT_KNEE, _L.LEFT_ANKLE),
    (_L.RIGHT_HIP, _L.RIGHT_KNEE, _L.RIGHT_ANKLE),
)
_ARMS = ((_L.LEFT_SHOULDER, _L.LEFT_ELBOW), (_L.RIGHT_SHOULDER, _L.RIGHT_ELBOW))


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
        hip_wall_cm: ``(T,)`` hip-to-wall proxy (NaN without a foot on a hold).
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
    hip_wall = _hip_wall_cm(points, contact, scale.px_per_cm, window)
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


def _hip_wall_cm(
    points: np.ndarray, contact: np.ndarray, px_per_cm: float, window: int
) -> np.ndarray:
    # Lengths are smoothed first: sqrt(L² - l²) turns every pixel of jitter below L into
    # centimetres of phantom depth.
    depths = []
    for hip, knee, ankle in _LEGS:
        depth = np.zeros(points.shape[0])
        for a, b in ((hip, knee), (knee, ankle)):
            seen = smooth(np.linalg.norm(points[:, a] - points[:, b], axis=1), window)
            true = np.percentile(seen[np.isfinite(seen)], LENGTH_PERCENTILE)
            depth += np.sqrt(np.clip(true**2 - seen**2, 0.0, None))
        depths.append(depth / px_per_cm)
    feet = contact[:, 2:]
    stacked = np.stack(depths, axis=1)
    count = feet.sum(axis=1)
    total = np.where(feet, stacked, 0.0).sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


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
