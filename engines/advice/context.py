"""What every advice rule reads, computed once: the inputs plus shared masks and positions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from engines.advice.model import AdviceItem, Severity
from engines.biomech import Biomechanics
from engines.contacts import LIMBS, ContactTrack, Move
from engines.limbs import Limb
from engines.pose.timeline import FrameQuality, Landmark, SkeletonTimeline
from schema.analysis import Morphology
from schema.holds import HoldMap

__all__ = [
    "LIMBS",
    "MIN_SEEN_SHARE",
    "MIN_VISIBILITY",
    "PLAUSIBLE_HAND_FORCE_BW",
    "AdviceContext",
    "held_level",
    "runs",
]

#: Total force through the hands above which the static model's figure is not quoted: holding
#: more than 1.5 body weights on the hands without moving is not something a climber does (a
#: figure that high comes from a depth or lever the model got wrong, not from the climber).
PLAUSIBLE_HAND_FORCE_BW: Final = 1.5
#: Landmark visibility (the pose model's 0..1) below which a landmark's position is no
#: measurement: the model is guessing where an occluded or off-frame body part is.
MIN_VISIBILITY: Final = 0.5
#: Share of a finding's frames on which what it measures must be seen (a detected pose, its
#: landmarks visible) for the finding to be reported: a figure read mostly on guessed or
#: interpolated landmarks is no evidence. Below 1 so a blink of the tracker does not hide a fault.
MIN_SEEN_SHARE: Final = 0.8

_TORSO = (Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER, Landmark.LEFT_HIP, Landmark.RIGHT_HIP)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` frame ranges where ``mask`` ``(T,)`` is True, stop exclusive."""
    edges = np.diff(np.r_[0, mask.astype(np.int8), 0])
    starts, stops = np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()
    return list(zip(starts, stops, strict=True))


def held_level(values: np.ndarray, frames: int) -> float:
    """The highest level ``values`` ``(N,)`` stayed at or above for ``frames`` frames in a row:
    the worst figure that was held, not a one-frame spike. The minimum when shorter; NaN when
    empty. NaN values count as never reaching any level."""
    if values.size == 0:
        return math.nan
    filled = np.nan_to_num(values.astype(np.float64), nan=-np.inf)
    if values.size <= frames:
        level = float(filled.min())
    else:
        level = float(np.lib.stride_tricks.sliding_window_view(filled, frames).min(axis=1).max())
    return level if math.isfinite(level) else math.nan


@dataclass
class AdviceContext:
    """Inputs of the advice rules and what several of them derive.

    Attributes:
        in_move: ``(T,)`` bool, some limb is between holds (inside a move's frame range).
        hips_cm: ``(T, 2)`` hip-joint midpoint in cm, y up (x, y like the limb points).
        cog_cm: ``(T, 2)`` centre of gravity in cm, y up.
        limb_cm: ``(T, 4, 2)`` contact point of each limb in cm, y up.
        hold_cm: hold id → centre in cm, y up.
        hand_held: ``(T,)`` bool, some hand on a hold: the climber hangs on the wall.
        limb_seen: ``(T, 4)`` bool, the limb's contact landmarks are seen (see `seen`).
        body_seen: ``(T,)`` bool, shoulders and hips are seen: the centre of gravity and the
            hips are measured, not guessed.
    """

    timeline: SkeletonTimeline
    track: ContactTrack
    moves: Sequence[Move]
    biomech: Biomechanics
    hold_map: HoldMap
    morphology: Morphology
    in_move: np.ndarray = field(init=False)
    hips_cm: np.ndarray = field(init=False)
    cog_cm: np.ndarray = field(init=False)
    limb_cm: np.ndarray = field(init=False)
    hold_cm: dict[str, np.ndarray] = field(init=False)
    hand_held: np.ndarray = field(init=False)
    limb_seen: np.ndarray = field(init=False)
    body_seen: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        frames = len(self.timeline)
        if len(self.track) != frames or self.biomech.timestamps_s.shape != (frames,):
            raise ValueError("timeline, contact track and biomechanics differ in frame count")
        self.in_move = np.zeros(frames, dtype=bool)
        for move in self.moves:
            self.in_move[move.start_frame : move.end_frame] = True
        # cm with y up: flip the image's downward y so "higher" reads as larger.
        frame = np.array([self.timeline.frame_width, self.timeline.frame_height], np.float64)
        to_cm = frame / self.biomech.scale.px_per_cm * np.array([1.0, -1.0])
        hips = self.timeline.landmarks[:, [Landmark.LEFT_HIP, Landmark.RIGHT_HIP], :2]
        self.hips_cm = hips.mean(axis=1).astype(np.float64) * to_cm
        self.hips_cm[~self.timeline.has_pose] = np.nan
        self.cog_cm = self.biomech.cog * to_cm
        self.limb_cm = self.track.points.astype(np.float64) * to_cm
        self.hold_cm = {h.id: np.array([h.x, h.y]) * to_cm for h in self.hold_map.holds}
        self.hand_held = self.biomech.contact[:, :2].any(axis=1)
        self.limb_seen = np.stack([self.seen(*limb.contact_landmarks) for limb in LIMBS], axis=1)
        self.body_seen = self.seen(*_TORSO)

    @property
    def holds_read(self) -> bool:
        """Whether a hand was on a hold at some point: without that, the climber was never seen
        holding on, so contacts, moves and anything about hanging from the holds are unread."""
        return bool(self.hand_held.any())

    def seen(self, *landmarks: Landmark) -> np.ndarray:
        """``(T,)`` bool: frames whose pose was detected (not interpolated over a gap) with every
        one of ``landmarks`` at `MIN_VISIBILITY` or more."""
        visibility = self.timeline.landmarks[:, list(landmarks), 3]
        detected = self.timeline.quality == FrameQuality.DETECTED
        return detected & (np.nan_to_num(visibility) >= MIN_VISIBILITY).all(axis=1)

    def seen_share(
        self, start: int, stop: int, limbs: Sequence[Limb] = (), *, body: bool = False
    ) -> float:
        """Share of frames ``[start, stop)`` on which ``limbs`` (and the torso, with ``body``)
        are seen; 0 for no frame."""
        mask = self.limb_seen[start:stop][:, [LIMBS.index(limb) for limb in limbs]].all(axis=1)
        if body:
            mask = mask & self.body_seen[start:stop]
        return float(mask.mean()) if mask.size else 0.0

    @property
    def times(self) -> np.ndarray:
        return self.timeline.timestamps_s

    @property
    def height_cm(self) -> float:
        return self.biomech.scale.height_cm

    @property
    def arm_span_cm(self) -> float:
        return self.biomech.scale.arm_span_cm

    def seconds(self, start: int, stop: int) -> float:
        """Duration of frames ``[start, stop)``: up to the first frame after them."""
        times = self.times
        end = times[stop] if stop < len(times) else times[-1] + self.frame_s()
        return float(end - times[start])

    def frames(self, seconds: float) -> int:
        """Frames covering ``seconds`` at the timeline's frame rate, at least 1."""
        step = self.frame_s()
        return max(1, round(seconds / step)) if step > 0 else 1

    def time_range(self, start: int, stop: int) -> tuple[float, float]:
        return float(self.times[start]), float(self.times[start]) + self.seconds(start, stop)

    def move_at(self, frame: int) -> Move | None:
        """The move in progress at ``frame`` (the earliest started), if any."""
        for move in self.moves:
            if move.start_frame <= frame < move.end_frame:
                return move
        return None

    def holds_of(self, limbs: Sequence[Limb], start: int, stop: int) -> tuple[str, ...]:
        """Distinct holds ``limbs`` were on during frames ``[start, stop)``, in hold-map order."""
        columns = [LIMBS.index(limb) for limb in limbs]
        held = np.unique(self.track.holds[start:stop, columns])
        return tuple(self.track.hold_ids[i] for i in held if i >= 0)

    def hand_force(self, start: int, stop: int) -> dict[str, float]:
        """``{"hand_force_bw": mean}`` over frames ``[start, stop)``, or nothing when that figure
        is not finite or not plausible (`PLAUSIBLE_HAND_FORCE_BW`)."""
        values = self.biomech.hand_force[start:stop]
        values = values[np.isfinite(values)]
        if values.size == 0:
            return {}
        mean = float(values.mean())
        return {"hand_force_bw": mean} if mean <= PLAUSIBLE_HAND_FORCE_BW else {}

    def item(
        self,
        rule_id: str,
        *,
        severity: Severity,
        time_range: tuple[float, float],
        message_en: str,
        evidence: dict[str, float],
        move_index: int | None = None,
        limbs: Sequence[Limb] = (),
        holds: Sequence[str | None] = (),
        confidence: float = 1.0,
    ) -> AdviceItem:
        """An `AdviceItem` of ``rule_id`` with its message key and figures rounded for reading.

        ``confidence`` is this finding's own (e.g. the share of its frames measured); the rule's
        confidence multiplies it when the findings are merged.
        """
        return AdviceItem(
            rule_id=rule_id,
            move_index=move_index,
            start_s=time_range[0],
            end_s=time_range[1],
            limbs=tuple(limb.value for limb in limbs),
            holds=tuple(dict.fromkeys(h for h in holds if h is not None)),
            severity=severity,
            message_key=f"advice.{rule_id}",
            message_en=message_en,
            # A figure the climb could not provide (NaN) is left out rather than failing the
            # whole analysis over one piece of evidence.
            evidence={name: float(value) for name, value in evidence.items() if np.isfinite(value)},
            confidence=confidence,
        )

    def frame_s(self) -> float:
        """Seconds per frame (the median step between timestamps; 0 for one frame)."""
        times = self.times
        return float(np.median(np.diff(times))) if len(times) > 1 else 0.0
