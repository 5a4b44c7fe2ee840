"""Which limb is on which hold in each frame, with hysteresis.

Raw touching flickers: a hand sliding over a jug's edge or a landmark jittering by a few pixels
would attach and detach many times a second. So a limb attaches to a hold only after touching it
for `ATTACH_S`, and leaves it only after being off it for `DETACH_S`; the attachment is then dated
back to the first touching frame, and the release to the first frame off, so moves keep their
true timing. Frames without a pose take no part: they neither attach nor release.

A limb only touches a hold while it is slow (`MAX_SPEED_FRACTION`): a hand sweeping past a hold
on its way to the next one does not grab it, however long it takes to cross it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from engines.biomech.body import body_height_px, pixel_points
from engines.biomech.series import window_frames
from engines.contacts.geometry import hold_shapes, touched_hold
from engines.errors import EngineInputError
from engines.limbs import Limb
from engines.pose.timeline import SkeletonTimeline
from schema.holds import HoldMap

#: Column order of every per-limb array in the contacts and biomechanics engines.
LIMBS: Final = tuple(Limb)
#: Touch a hold this long before the limb counts as on it.
ATTACH_S: Final = 0.15
#: Be off a hold this long before the limb counts as having left it.
DETACH_S: Final = 0.25
#: How far outside a hold's outline a limb point still touches it, as a fraction of the
#: climber's on-screen stature (~5 cm at 175 cm): the palm centre sits beside a jug's edge.
TOLERANCE_FRACTION: Final = 0.03
#: Touching radius around holds without an outline (~10 cm at 175 cm: about a hand's length).
RADIUS_FRACTION: Final = 0.06
#: Fastest a limb point may move and still grip, statures per second (~70 cm/s at 175 cm); well
#: above landmark jitter, well below a hand travelling between holds.
MAX_SPEED_FRACTION: Final = 0.4
#: Half-width of the centred difference that measures that speed.
SPEED_HALF_WINDOW_S: Final = 0.05


@dataclass
class ContactTrack:
    """Per frame, the hold each limb is on.

    Attributes:
        timestamps_s: ``(T,)`` float64, as in the skeleton timeline.
        hold_ids: ``(H,)`` ids of the hold map, in its order.
        holds: ``(T, 4)`` int32 index into ``hold_ids`` per limb, -1 when off every hold;
            columns follow `LIMBS`.
        points: ``(T, 4, 2)`` float32 contact point of each limb, normalised ``(x, y)`` like the
            landmarks; NaN where the frame has no pose.
    """

    timestamps_s: np.ndarray
    hold_ids: tuple[str, ...]
    holds: np.ndarray
    points: np.ndarray

    def __post_init__(self) -> None:
        self.timestamps_s = np.asarray(self.timestamps_s, dtype=np.float64)
        self.holds = np.asarray(self.holds, dtype=np.int32)
        self.points = np.asarray(self.points, dtype=np.float32)
        frames = self.timestamps_s.shape[0]
        if self.holds.shape != (frames, len(LIMBS)):
            raise ValueError(f"holds must have shape ({frames}, {len(LIMBS)})")
        if self.points.shape != (frames, len(LIMBS), 2):
            raise ValueError(f"points must have shape ({frames}, {len(LIMBS)}, 2)")
        if self.holds.size and not (
            self.holds.min() >= -1 and self.holds.max() < len(self.hold_ids)
        ):
            raise ValueError("holds must index hold_ids or be -1")

    def __len__(self) -> int:
        return int(self.timestamps_s.shape[0])

    @property
    def in_contact(self) -> np.ndarray:
        """``(T, 4)`` bool: the limb is on a hold."""
        return self.holds >= 0

    def column(self, limb: Limb) -> int:
        return LIMBS.index(limb)

    def hold_id(self, frame: int, limb: Limb) -> str | None:
        index = int(self.holds[frame, self.column(limb)])
        return self.hold_ids[index] if index >= 0 else None

    def hold_ids_of(self, limb: Limb) -> np.ndarray:
        """``(T,)`` object array of the limb's hold id per frame, None when off every hold."""
        lookup = np.array([*self.hold_ids, None], dtype=object)
        return lookup[self.holds[:, self.column(limb)]]

    def touched_holds(self) -> tuple[str, ...]:
        """Ids of every hold some limb was on, in hold-map order."""
        return tuple(self.hold_ids[i] for i in np.unique(self.holds[self.holds >= 0]))


def contact_points(timeline: SkeletonTimeline) -> np.ndarray:
    """``(T, 4, 2)`` normalised contact point of each limb (mean of its contact landmarks)."""
    return np.stack(
        [timeline.landmarks[:, list(limb.contact_landmarks), :2].mean(axis=1) for limb in LIMBS],
        axis=1,
    )


def _frames(seconds: float, timestamps_s: np.ndarray) -> int:
    step = float(np.median(np.diff(timestamps_s))) if len(timestamps_s) > 1 else 1.0
    return max(1, round(seconds / step))


def _hysteresis(touching: np.ndarray, attach: int, detach: int) -> np.ndarray:
    """Debounce one limb's raw touched-hold sequence ``(N,)`` into attachments ``(N,)``.

    Walks runs of equal raw values, not frames: a few hundred runs even for long videos.
    """
    count = touching.shape[0]
    attached = np.full(count, -1, dtype=np.int32)
    if count == 0:
        return attached
    starts = np.flatnonzero(np.r_[True, touching[1:] != touching[:-1]])
    lengths = np.diff(np.r_[starts, count])
    current, since, away, away_from = -1, 0, 0, 0
    for value, start, length in zip(touching[starts].tolist(), starts, lengths, strict=True):
        if current >= 0 and value == current:
            away = 0
            continue
        if value >= 0 and length >= attach:
            if current >= 0:
                attached[since : away_from if away else start] = current
            current, since, away = value, start, 0
            continue
        if current >= 0:
            away_from = start if away == 0 else away_from
            away += length
            if away >= detach:
                attached[since:away_from] = current
                current, away = -1, 0
    if current >= 0:
        # An unconfirmed release at the very end is no release.
        attached[since:] = current
    return attached


def track_contacts(
    timeline: SkeletonTimeline,
    hold_map: HoldMap,
    *,
    attach_s: float = ATTACH_S,
    detach_s: float = DETACH_S,
    tolerance_fraction: float = TOLERANCE_FRACTION,
    radius_fraction: float = RADIUS_FRACTION,
    max_speed_fraction: float = MAX_SPEED_FRACTION,
) -> ContactTrack:
    """Follow each limb from hold to hold.

    Args:
        timeline: the climber's skeleton.
        hold_map: validated holds, normalised to the wall photo, assumed to share the video's
            framing (see `engines.contacts.geometry`).
        attach_s: touching time before a limb counts as on a hold.
        detach_s: time off a hold before a limb counts as having left it.
        tolerance_fraction: touching distance outside a hold outline, fraction of stature.
        radius_fraction: touching radius of holds without outline, fraction of stature.
        max_speed_fraction: fastest a touching limb may move, statures per second.

    Returns:
        The contact track, one row per timeline frame.

    Raises:
        EngineInputError: the hold map is empty or no frame has a pose.
    """
    if not hold_map.holds:
        raise EngineInputError("the hold map is empty: mark at least one hold")
    pixels = pixel_points(timeline)
    stature_px, _ = body_height_px(pixels, window=window_frames(timeline.timestamps_s))
    tolerance_px, radius_px = tolerance_fraction * stature_px, radius_fraction * stature_px
    shapes = hold_shapes(
        hold_map,
        frame_width=timeline.frame_width,
        frame_height=timeline.frame_height,
        tolerance_px=tolerance_px,
        radius_px=radius_px,
    )
    points = contact_points(timeline)
    points[~timeline.has_pose] = np.nan
    scale = np.array([timeline.frame_width, timeline.frame_height], dtype=np.float64)
    posed = np.flatnonzero(timeline.has_pose)
    posed_px = points[posed].astype(np.float64) * scale
    raw = touched_hold(
        posed_px.reshape(-1, 2), shapes, tolerance_px=tolerance_px, radius_px=radius_px
    ).reshape(len(posed), len(LIMBS))
    half = _frames(SPEED_HALF_WINDOW_S, timeline.timestamps_s)
    speed = _speed(posed_px, timeline.timestamps_s[posed], half)
    raw[speed > max_speed_fraction * stature_px] = -1

    attach = _frames(attach_s, timeline.timestamps_s)
    detach = _frames(detach_s, timeline.timestamps_s)
    holds = np.full((len(timeline), len(LIMBS)), -1, dtype=np.int32)
    for column in range(len(LIMBS)):
        holds[posed, column] = _hysteresis(raw[:, column], attach, detach)
    # A frame without pose keeps a limb's hold only if the limb is on it on both sides of the gap.
    has_pose = timeline.has_pose
    before = np.maximum.accumulate(np.where(has_pose, np.arange(len(timeline)), -1))
    after = _next_posed(has_pose)
    gap = np.flatnonzero(~has_pose & (before >= 0) & (after < len(timeline)))
    left, right = holds[before[gap]], holds[after[gap]]
    holds[gap] = np.where(left == right, left, -1)
    return ContactTrack(timeline.timestamps_s, shapes.ids, holds, points)


def _speed(points: np.ndarray, timestamps_s: np.ndarray, half: int) -> np.ndarray:
    """``(N, L)`` speed of point series ``(N, L, 2)`` by centred differences over ±``half``."""
    count = len(timestamps_s)
    if count < 2:
        return np.zeros(points.shape[:2])
    ahead = np.minimum(np.arange(count) + half, count - 1)
    behind = np.maximum(np.arange(count) - half, 0)
    distance = np.linalg.norm(points[ahead] - points[behind], axis=2)
    return distance / (timestamps_s[ahead] - timestamps_s[behind])[:, None]


def _next_posed(has_pose: np.ndarray) -> np.ndarray:
    """``(T,)`` index of the next frame with a pose at or after each frame (T when none)."""
    frames = len(has_pose)
    marks = np.where(has_pose, np.arange(frames), frames)
    return np.minimum.accumulate(marks[::-1])[::-1]
