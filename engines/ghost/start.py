"""Where the climber starts: the hold under each limb in the first frames of the video."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from engines.ghost import landmarks as lm
from engines.ghost.body import MIN_VISIBILITY
from engines.ghost.errors import GhostInputError
from engines.ghost.geometry import hold_positions
from engines.ghost.planner import FOOT_ONLY_TYPES, LIMBS
from engines.ghost.space import TWO_FEET_TYPES
from engines.limbs import Limb
from engines.pose.timeline import FrameQuality, SkeletonTimeline
from schema.holds import HoldMap

#: Default capture radius as a fraction of the climber's torso length (about 15 cm on an adult).
RADIUS_TORSOS = 0.3


def default_start(
    timeline: SkeletonTimeline,
    hold_map: HoldMap,
    *,
    frames: int = 10,
    radius: float | None = None,
) -> dict[Limb, str | None]:
    """The hold each limb is on at the start of the climb, or None (e.g. feet on the ground).

    Each limb's contact point (mean of `Limb.contact_landmarks`) is the median over the first
    ``frames`` detected frames in which it is visible; it takes the nearest hold whose outline
    comes within ``radius`` of it (hands skip foot-only holds). Two feet never start on one
    hold unless it is a volume (`engines.ghost.space.TWO_FEET_TYPES`): the foot nearer to it
    keeps it and the other takes its next hold within ``radius``, or none. The planner lets feet
    share a hold only for a match, so a start with both feet on one chip would force its first
    move; more often it is two feet seen close together over one detected hold.

    Args:
        timeline: the climber's skeleton.
        hold_map: the wall's holds, normalised to the video frame.
        frames: how many of the first good frames to look at.
        radius: capture distance in work units (frame heights); 0.3 torso lengths when None.

    Returns:
        Hold id or None for every limb.

    Raises:
        GhostInputError: no frame of the video has a pose.
    """
    points = lm.work_points(timeline.landmarks, timeline.aspect)
    good = np.flatnonzero(timeline.quality == FrameQuality.DETECTED)
    if good.size == 0:
        good = np.flatnonzero(timeline.has_pose)
    if good.size == 0:
        raise GhostInputError("the ghost needs to see the climber: no frame has a pose")
    first = good[:frames]
    window, seen = points[first], timeline.landmarks[first, :, 3] >= MIN_VISIBILITY
    if radius is None:
        torso = np.linalg.norm(
            window[:, lm.SHOULDERS].mean(1) - window[:, lm.HIPS].mean(1), axis=-1
        )
        radius = RADIUS_TORSOS * float(np.nanmedian(torso))

    where = hold_positions(hold_map, timeline.aspect)
    ids = [hold.id for hold in hold_map.holds]
    centres = np.stack([where[i] for i in ids]) if ids else np.zeros((0, 2))
    extent = np.array(
        [_extent(hold.polygon, where[hold.id], timeline.aspect) for hold in hold_map.holds]
    )
    hand_ok = np.array([hold.type not in FOOT_ONLY_TYPES for hold in hold_map.holds], dtype=bool)
    roomy = {hold.id for hold in hold_map.holds if hold.type in TWO_FEET_TYPES}

    start: dict[Limb, str | None] = {}
    gaps: dict[Limb, np.ndarray] = {}
    for limb in LIMBS:
        index = [int(i) for i in limb.contact_landmarks]
        visible = np.all(seen[:, index], axis=1)
        contact = window[visible][:, index].mean(axis=1)
        start[limb] = None
        if not contact.size or not centres.size:
            continue
        point = np.nanmedian(contact, axis=0)
        gap = np.maximum(np.linalg.norm(centres - point, axis=1) - extent, 0.0)
        gap[~hand_ok if limb.is_hand else np.zeros_like(hand_ok)] = np.inf
        gaps[limb] = gap
        start[limb] = _nearest(gap, ids, radius)
    feet = (Limb.LEFT_FOOT, Limb.RIGHT_FOOT)
    shared = start[feet[0]]
    if shared is not None and shared == start[feet[1]] and shared not in roomy:
        at = ids.index(shared)
        # The foot farther from the hold moves on; on a tie the right foot does.
        _, moves = sorted(feet, key=lambda limb: (gaps[limb][at], LIMBS.index(limb)))
        gaps[moves][at] = np.inf
        start[moves] = _nearest(gaps[moves], ids, radius)
    return start


def _nearest(gap: np.ndarray, ids: list[str], radius: float) -> str | None:
    """The hold with the smallest gap (ties by id) if it is within ``radius``, else None."""
    best = min(range(len(ids)), key=lambda i: (gap[i], ids[i]))
    return ids[best] if gap[best] <= radius else None


def _extent(polygon: list[tuple[float, float]], centre: np.ndarray, aspect: float) -> float:
    """Farthest outline point from the hold's centre, work units (0 without an outline)."""
    if not polygon:
        return 0.0
    outline = np.array(polygon, dtype=np.float64) * np.array([aspect, 1.0])
    return float(np.max(np.linalg.norm(outline - centre, axis=1)))


def start_route_color(start: Mapping[Limb, str | None], hold_map: HoldMap) -> str | None:
    """The colour both start hands' holds share (a gym route's colour), None when they differ,
    a hand is off the wall or the holds carry no colour."""
    colors = {hold.id: hold.color for hold in hold_map.holds}
    hands = {colors.get(start.get(limb) or "", "") for limb in (Limb.LEFT_HAND, Limb.RIGHT_HAND)}
    color = hands.pop() if len(hands) == 1 else ""
    return color or None
