"""Moves: a limb leaving one hold and settling on another.

A move starts at the first frame the limb is off its old hold and ends at the first frame on the
new one (both as dated by the hysteresis in `engines.contacts.track`). Letting go and coming back
to the same hold is no move (the advice engine calls it a re-grip); letting go without reaching
another hold (dropping off, topping out) is no move either.

What a coach would not count is filtered out before moves are made:

- **Flicker**: a stay on another hold shorter than `FLICKER_S` between two stays on the same hold
  (A → B → A) is a touch, not two moves; the two stays on A become one.
- **Re-labelling**: a limb that switches hold without leaving (two holds within touching distance)
  and without travelling `MIN_TRAVEL_STATURES` stayed where it was; the switch is no move.
- A limb that does travel straight onto a neighbouring hold (a slide) moves: the move is dated
  from when it left its resting place on the old hold to when it settled on the new one, so no
  move lasts zero time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

import numpy as np

from engines.biomech.body import body_height_px, pixel_points
from engines.contacts.track import LIMBS, ContactTrack
from engines.limbs import Limb
from engines.pose.timeline import SkeletonTimeline

#: A stay on another hold shorter than this, between two stays on the same hold, is a touch.
FLICKER_S: Final = 1.0
#: A limb that changes hold without leaving must travel this far (fraction of stature, ~9 cm)
#: for the change to be a move.
MIN_TRAVEL_STATURES: Final = 0.05
#: Where a sliding limb leaves / settles: within this fraction of the slide from its resting
#: place on each hold.
SETTLE_FRACTION: Final = 0.25


@dataclass(frozen=True)
class Attachment:
    """One uninterrupted stay of a limb on a hold: frames ``[start_frame, end_frame)``."""

    limb: Limb
    hold: str
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float

    def __post_init__(self) -> None:
        if self.end_frame <= self.start_frame:
            raise ValueError("an attachment lasts at least one frame")


@dataclass(frozen=True)
class Move:
    """A limb changing hold.

    Attributes:
        index: position in the move list, 0-based, ordered by start time.
        limb: the limb that moved.
        from_hold: the hold it left; None for a first placement (only with
            ``include_first_placements``).
        to_hold: the hold it reached.
        start_s: time of the first frame off ``from_hold``.
        end_s: time of the first frame on ``to_hold``.
        start_frame: frame index of ``start_s``.
        end_frame: frame index of ``end_s``.
    """

    index: int
    limb: Limb
    from_hold: str | None
    to_hold: str
    start_s: float
    end_s: float
    start_frame: int
    end_frame: int

    def __post_init__(self) -> None:
        if self.end_frame < self.start_frame or self.end_s < self.start_s:
            raise ValueError("a move cannot end before it starts")
        if not self.to_hold or self.to_hold == self.from_hold:
            raise ValueError("a move reaches a different hold")

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form for the advice document."""
        return {
            "index": self.index,
            "limb": self.limb.value,
            "from_hold": self.from_hold,
            "to_hold": self.to_hold,
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
        }


def attachments(track: ContactTrack) -> list[Attachment]:
    """Every stay of every limb on a hold, ordered by start frame then limb.

    Args:
        track: the contact track.

    Returns:
        The attachments.
    """
    frames = len(track)
    found: list[Attachment] = []
    if frames == 0:
        return found
    for column, limb in enumerate(LIMBS):
        holds = track.holds[:, column]
        starts = np.flatnonzero(np.r_[True, holds[1:] != holds[:-1]])
        ends = np.r_[starts[1:], frames]
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            if holds[start] >= 0:
                found.append(
                    Attachment(
                        limb=limb,
                        hold=track.hold_ids[holds[start]],
                        start_frame=start,
                        end_frame=end,
                        start_s=float(track.timestamps_s[start]),
                        end_s=float(track.timestamps_s[min(end, frames - 1)]),
                    )
                )
    found.sort(key=lambda a: (a.start_frame, LIMBS.index(a.limb)))
    return found


def find_moves(
    track: ContactTrack, timeline: SkeletonTimeline, *, include_first_placements: bool = False
) -> list[Move]:
    """Turn the contact track into moves.

    Args:
        track: the contact track of ``timeline``.
        timeline: the skeleton the track was made from (first placements start at its first
            frame with a pose).
        include_first_placements: also report each limb's first hold, reached from nowhere
            (off the ground); off by default, because climbers count moves from the start holds.

    Returns:
        Moves ordered by start time (then limb), indexed from 0.

    Raises:
        ValueError: the track does not belong to the timeline.

    Flicker and re-labelling are no moves (see the module's notes).
    """
    if len(track) != len(timeline):
        raise ValueError("the contact track and the timeline have different frame counts")
    posed = np.flatnonzero(timeline.has_pose)
    first_posed = int(posed[0]) if posed.size else 0
    stature_px = body_height_px(pixel_points(timeline))[0] if posed.size else 1.0
    scale = np.array([timeline.frame_width, timeline.frame_height], dtype=np.float64)
    min_travel_px = MIN_TRAVEL_STATURES * stature_px
    pending: list[tuple[int, Limb, str | None, str, int, int]] = []
    every_stay = attachments(track)
    for limb in LIMBS:
        stays = _without_flicker([a for a in every_stay if a.limb == limb])
        points = track.points[:, LIMBS.index(limb)].astype(np.float64) * scale
        before: Attachment | None = None
        for stay in stays:
            if before is None:
                if include_first_placements:
                    start = min(first_posed, stay.start_frame)
                    pending.append((start, limb, None, stay.hold, start, stay.start_frame))
                before = stay
                continue
            if before.hold == stay.hold:
                before = stay
                continue
            start, end = before.end_frame, stay.start_frame
            if start == end:  # changed hold without leaving: a slide, or no move at all
                slide = _slide(points, before, stay, min_travel_px)
                if slide is None:
                    before = replace(
                        before, hold=stay.hold, end_frame=stay.end_frame, end_s=stay.end_s
                    )
                    continue
                start, end = slide
            pending.append((start, limb, before.hold, stay.hold, start, end))
            before = stay
    pending.sort(key=lambda p: (p[0], LIMBS.index(p[1])))
    times = track.timestamps_s
    return [
        Move(
            index=index,
            limb=limb,
            from_hold=from_hold,
            to_hold=to_hold,
            start_s=float(times[start]),
            end_s=float(times[end]),
            start_frame=start,
            end_frame=end,
        )
        for index, (_, limb, from_hold, to_hold, start, end) in enumerate(pending)
    ]


def _without_flicker(stays: list[Attachment]) -> list[Attachment]:
    """One limb's stays with touches of another hold between two stays on one hold removed."""
    kept: list[Attachment] = []
    for stay in stays:
        kept.append(stay)
        while len(kept) >= 3:
            first, touch, last = kept[-3:]
            if first.hold != last.hold or touch.hold == first.hold:
                break
            if touch.end_s - touch.start_s >= FLICKER_S:
                break
            kept[-3:] = [replace(first, end_frame=last.end_frame, end_s=last.end_s)]
    return kept


def _slide(
    points: np.ndarray, old: Attachment, new: Attachment, min_travel_px: float
) -> tuple[int, int] | None:
    """``(start_frame, end_frame)`` of a limb sliding from ``old`` straight onto ``new``, or None
    when it hardly moved (the track only re-labelled where it was)."""
    before, after = points[old.start_frame : old.end_frame], points[new.start_frame : new.end_frame]
    if not (np.isfinite(before).all(axis=1).any() and np.isfinite(after).all(axis=1).any()):
        return None
    rest_old, rest_new = np.nanmedian(before, axis=0), np.nanmedian(after, axis=0)
    travel = float(np.linalg.norm(rest_new - rest_old))
    if travel < min_travel_px:
        return None
    near = SETTLE_FRACTION * travel
    resting = np.flatnonzero(np.linalg.norm(before - rest_old, axis=1) <= near)
    settled = np.flatnonzero(np.linalg.norm(after - rest_new, axis=1) <= near)
    start = old.start_frame + int(resting[-1]) + 1 if resting.size else old.end_frame
    end = new.start_frame + int(settled[0]) if settled.size else new.start_frame
    return (start, end) if end > start else None
