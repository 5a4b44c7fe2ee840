"""Moves: a limb leaving one hold and settling on another.

A move starts at the first frame the limb is off its old hold and ends at the first frame on the
new one (both as dated by the hysteresis in `engines.contacts.track`). Letting go and coming back
to the same hold is no move (the advice engine calls it a re-grip); letting go without reaching
another hold (dropping off, topping out) is no move either.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engines.contacts.track import LIMBS, ContactTrack
from engines.limbs import Limb
from engines.pose.timeline import SkeletonTimeline


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
    """
    if len(track) != len(timeline):
        raise ValueError("the contact track and the timeline have different frame counts")
    posed = np.flatnonzero(timeline.has_pose)
    first_posed = int(posed[0]) if posed.size else 0
    previous: dict[Limb, Attachment] = {}
    pending: list[tuple[int, Limb, str | None, str, int, int]] = []
    for stay in attachments(track):
        before = previous.get(stay.limb)
        previous[stay.limb] = stay
        if before is None:
            if include_first_placements:
                start = min(first_posed, stay.start_frame)
                pending.append((start, stay.limb, None, stay.hold, start, stay.start_frame))
            continue
        if before.hold == stay.hold:
            continue
        start = before.end_frame
        pending.append((start, stay.limb, before.hold, stay.hold, start, stay.start_frame))
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
