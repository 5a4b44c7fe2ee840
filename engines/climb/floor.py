"""Holds on the floor are not the route: volumes and holds lying on the mat at the wall's foot.

A hold detector sees every hold-shaped thing in the photo, including spare volumes and holds
lying on the mat. They are not part of the route: a climber never stands on them on the way up,
and a ghost or a contact that used them would be wrong. The climber's validated map keeps them
(it is theirs); the analysis leaves them out (`wall_holds`).

**The ground line.** With the camera still during a clip, the soles of a climber standing on the
mat before the climb mark where the floor is on screen near the wall: each frame's lowest foot
point (ankle, heel or toes, whichever is lowest on screen, so a foot already lifted onto a start
hold does not count) over the frames before the climb with a foot on the floor. A high
percentile (`GROUND_PERCENTILE`) of those is the ground line: robust to a glitching landmark,
and on the low side of the soles, so it errs towards keeping holds.

**Floor holds.** Every hold of the route is on the wall, and the wall's foot is farther from the
camera than the feet standing in front of it, so it shows above their soles on screen (a phone
films from above the floor). A hold whose centre lies below the ground line is therefore on the
floor, nearer the camera than where the climber stood. The margin (`FLOOR_MARGIN_STATURES`,
~3.5 cm at 175 cm) asks for the centre to be clearly below: it absorbs the jitter of the foot
landmarks and of the detector's centre, so a foot chip at the very bottom of the wall, right
behind the heels, stays usable. Real start feet sit higher still (their centre is above the
wall's foot), so they are never near it. Without standing frames (a video that starts on the
wall, or begins as the climber leaves the ground) there is no ground line and nothing is left
out.

Not caught: a volume lying on the mat *behind* where the climber stood (between their feet and
the wall) shows above the ground line, like a real foothold, and stays.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import Final

import numpy as np

from schema.holds import HoldMap

#: Percentile of the standing feet's lowest point taken as the ground line (image y grows down).
GROUND_PERCENTILE: Final = 90.0
#: How far below the ground line a hold's centre must lie to be on the floor, in statures.
FLOOR_MARGIN_STATURES: Final = 0.02


def ground_line(lowest_y: np.ndarray, standing: np.ndarray) -> float | None:
    """The ground line from the standing frames' lowest foot points, or None without any.

    Args:
        lowest_y: ``(T,)`` each frame's lowest foot point, image y (any unit; NaN allowed).
        standing: ``(T,)`` bool, frames before the climb with a foot on the floor.

    Returns:
        The ground line's y in the unit of ``lowest_y``; None without a standing frame.
    """
    values = lowest_y[standing & np.isfinite(lowest_y)]
    if values.size == 0:
        return None
    return float(np.percentile(values, GROUND_PERCENTILE))


def floor_holds(hold_map: HoldMap, ground_y: float | None, stature: float) -> tuple[str, ...]:
    """Ids of the holds lying on the floor, in map order.

    Args:
        hold_map: the holds, normalised to the video frame.
        ground_y: the ground line, normalised frame y; None: no ground line, nothing is on it.
        stature: the climber's stature on screen, in frame heights.

    Returns:
        The ids of holds whose centre is more than `FLOOR_MARGIN_STATURES` below the line.
    """
    if ground_y is None:
        return ()
    below = ground_y + FLOOR_MARGIN_STATURES * stature
    return tuple(hold.id for hold in hold_map.holds if hold.y > below)


def wall_holds(hold_map: HoldMap, floor: Collection[str]) -> HoldMap:
    """``hold_map`` without the holds named in ``floor``: the holds an analysis may use."""
    if not floor:
        return hold_map
    left_out = set(floor)
    return replace(hold_map, holds=[hold for hold in hold_map.holds if hold.id not in left_out])
