"""When the climber is on the wall: from leaving the ground to stepping off, dropping or the end.

A phone video of a climb holds more than the climb: the climber walks in (often close past the
camera), stands on the mat reaching for the start holds, climbs, steps off and walks out. Only
the climb may feed contacts, moves, metrics, advice, the body scale and the ghost; the rest stays
in the skeleton (the phone still draws it) but is masked out of the analysis (`on_wall_view`).

How the climb is found, camera fixed and facing the wall, image y pointing down:

1. **People near the camera.** A torso much longer on screen than the video's median (by
   `NEAR_CAMERA_RATIO`) is someone close to the lens — the climber walking past, a spotter —
   not a climber on a wall metres away. Those frames take no part in anything below.
2. **The floor.** Each frame's lowest foot point (ankle, heel or toes, whichever is lowest on
   screen) is where that foot meets its support. The floor is the lowest level at which a foot
   stands still for `FLOOR_DWELL_S` — unless the foot is on a mapped hold there, in which case the
   video starts on the wall and no floor is in view.
3. **Off the ground.** Both feet are off the ground when even the lowest foot is higher than the
   floor by `GROUND_MARGIN_STATURES` (~10 cm: standing on tiptoe keeps the toes down).
4. **The climb** is the longest off-ground stretch, bridging touches of the floor shorter than
   `FLOOR_TOUCH_S` and ignoring hops shorter than `MIN_HOP_S`; it ends at the last frame a hand
   was still on a hold before the feet came back down (the drop or the down-climb's last step
   is not climbing). With no floor in view, the climb spans every frame with a pose.
5. **Holds on the floor.** The frames before the climb with a foot on the floor give the ground
   line; holds lying below it are not the route (`engines.climb.floor`, `wall_holds`).

One module of ~340 lines on purpose: the steps above feed each other in this order, and the
thresholds they share are read side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final, Literal

import numpy as np

from engines.biomech.body import endpoint, pixel_points
from engines.climb.floor import floor_holds, ground_line
from engines.contacts.geometry import hold_shapes, touched_hold
from engines.contacts.track import RADIUS_FRACTION, TOLERANCE_FRACTION
from engines.errors import EngineInputError
from engines.limbs import Limb
from engines.pose.timeline import FrameQuality, Landmark, SkeletonTimeline
from schema.holds import HoldMap

_L = Landmark
#: Trunk length (shoulder line to hip line) as a fraction of stature (Drillis & Contini).
TRUNK_FRACTION: Final = 0.818 - 0.530
#: A torso this much longer on screen than the video's median belongs to someone near the lens.
NEAR_CAMERA_RATIO: Final = 1.25
#: A foot standing still on the floor this long (in all) marks the floor's level.
FLOOR_DWELL_S: Final = 0.5
#: Feet whose lowest point moves slower than this (statures per second) stand still.
STILL_STATURES_PER_S: Final = 0.25
#: How much higher than the floor the lowest foot must be for both feet to be off it (~10 cm).
GROUND_MARGIN_STATURES: Final = 0.06
#: Shorter touches of the floor inside a climb (a dab, a landmark's glitch) do not end it.
FLOOR_TOUCH_S: Final = 0.4
#: Shorter stretches off the ground are hops, not climbs.
MIN_HOP_S: Final = 0.5
#: A climb shorter than this cannot be analysed move by move.
MIN_CLIMB_S: Final = 1.5

_FEET: Final = (
    (_L.LEFT_ANKLE, _L.LEFT_HEEL, _L.LEFT_FOOT_INDEX),
    (_L.RIGHT_ANKLE, _L.RIGHT_HEEL, _L.RIGHT_FOOT_INDEX),
)

StartReason = Literal["left_ground", "video_start"]
EndReason = Literal["ground", "video_end"]


class NoClimbError(EngineInputError):
    """The video shows too little climbing to analyse."""


@dataclass(frozen=True)
class ClimbSegment:
    """The climb inside the video: frames ``[start_frame, end_frame)``.

    Attributes:
        start_frame: first frame of the climb.
        end_frame: one past its last frame.
        start_s: time of ``start_frame``.
        end_s: time of the climb's last frame.
        start: ``"left_ground"`` (seen leaving the floor) or ``"video_start"`` (no floor in view:
            the video starts on the wall).
        end: ``"ground"`` (back on the floor: stepped off, dropped or down-climbed) or
            ``"video_end"`` (still on the wall, or out of view, when the video ends).
        floor_y: the floor's level, normalised frame y; None when no floor is in view.
        near_camera: ``(T,)`` bool, frames whose person stood near the lens.
        ground_y: where the climber stood before the climb, normalised frame y
            (`engines.climb.floor.ground_line`); None without standing frames.
        floor_holds: ids of the holds lying on the floor below it, left out of the analysis
            (`engines.climb.floor`).
    """

    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    start: StartReason
    end: EndReason
    floor_y: float | None
    near_camera: np.ndarray
    ground_y: float | None = None
    floor_holds: tuple[str, ...] = ()

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def mask(self, frames: int) -> np.ndarray:
        """``(frames,)`` bool: frames that belong to the climb (near-camera frames excluded)."""
        inside = np.zeros(frames, dtype=bool)
        inside[self.start_frame : self.end_frame] = True
        return inside & ~self.near_camera

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form for the result document."""
        return {
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "start": self.start,
            "end": self.end,
        }


def find_climb(timeline: SkeletonTimeline, hold_map: HoldMap) -> ClimbSegment:
    """Find the climb in a climbing video.

    Args:
        timeline: the skeleton of the whole video.
        hold_map: the wall's holds, normalised to the video frame.

    Returns:
        The climb.

    Raises:
        NoClimbError: nobody is seen, or nobody leaves the ground for `MIN_CLIMB_S`.
    """
    frames = len(timeline)
    times = timeline.timestamps_s
    pixels = pixel_points(timeline)
    trunk = np.linalg.norm(
        endpoint(pixels, (_L.LEFT_SHOULDER, _L.RIGHT_SHOULDER))
        - endpoint(pixels, (_L.LEFT_HIP, _L.RIGHT_HIP)),
        axis=1,
    )
    posed = timeline.has_pose & np.isfinite(trunk) & (trunk > 0)
    if not posed.any():
        raise NoClimbError(
            "We could not see anybody in this video. Film the whole climb with the climber in view."
        )
    typical_trunk = float(np.median(trunk[posed]))
    near = posed & (trunk > NEAR_CAMERA_RATIO * typical_trunk)
    usable = posed & ~near
    stature_px = typical_trunk / TRUNK_FRACTION

    lowest = np.max([pixels[:, list(foot), 1].max(axis=1) for foot in _FEET], axis=0)
    usable &= np.isfinite(lowest)
    floor = _floor_level(timeline, hold_map, pixels, lowest, usable, stature_px)
    if floor is None:
        return _whole_video(timeline, usable, near)

    off = usable & (lowest < floor - GROUND_MARGIN_STATURES * stature_px)
    on_floor = usable & ~off
    state = _fill_gaps(np.where(off, 1, np.where(on_floor, 0, -1)))
    runs = _runs(state == 1, times, bridge_s=FLOOR_TOUCH_S, min_s=MIN_HOP_S)
    if not runs:
        raise NoClimbError(
            "We could not see a climb in this video: the climber never leaves the ground. "
            "Film the whole climb, from the start holds to the top, with the feet in view."
        )
    start, stop = max(runs, key=lambda run: times[run[1] - 1] - times[run[0]])
    end_reason: EndReason = "ground" if stop < frames and (state[stop:] == 0).any() else "video_end"
    if end_reason == "ground":
        stop = _last_hand_on_hold(timeline, hold_map, pixels, start, stop, stature_px)
    standing = on_floor & (np.arange(frames) < start)
    ground = ground_line(lowest, standing)
    ground_y = None if ground is None else ground / timeline.frame_height
    segment = ClimbSegment(
        start_frame=start,
        end_frame=stop,
        start_s=float(times[start]),
        end_s=float(times[stop - 1]),
        start="left_ground",
        end=end_reason,
        floor_y=floor / timeline.frame_height,
        near_camera=near,
        ground_y=ground_y,
        floor_holds=floor_holds(hold_map, ground_y, stature_px / timeline.frame_height),
    )
    _check_length(segment)
    return segment


def on_wall_view(timeline: SkeletonTimeline, segment: ClimbSegment) -> SkeletonTimeline:
    """The timeline with every frame outside the climb (or near the camera) marked as missing.

    Same frames and timestamps, so frame indices and times still match the video; engines that
    skip frames without a pose (contacts, biomechanics, body scale, advice, the ghost's start)
    then see only the climb.
    """
    keep = segment.mask(len(timeline))
    landmarks = timeline.landmarks.copy()
    landmarks[~keep] = np.nan
    quality = np.where(keep, timeline.quality, np.uint8(FrameQuality.MISSING)).astype(np.uint8)
    return replace(timeline, landmarks=landmarks, quality=quality)


def _floor_level(
    timeline: SkeletonTimeline,
    hold_map: HoldMap,
    pixels: np.ndarray,
    lowest: np.ndarray,
    usable: np.ndarray,
    stature_px: float,
) -> float | None:
    """The floor's y in pixels, or None when the lowest place feet rest is a hold."""
    index = np.flatnonzero(usable)
    if index.size < 2:
        return None
    times = timeline.timestamps_s[index]
    values = lowest[index]
    step = float(np.median(np.diff(times)))
    speed = np.abs(np.gradient(values, times))
    still = speed < STILL_STATURES_PER_S * stature_px
    dwell = max(2, round(FLOOR_DWELL_S / step))
    candidates = np.sort(values[still])[::-1]  # lowest on screen first
    band = GROUND_MARGIN_STATURES * stature_px / 2
    level = None
    for first in range(len(candidates) - dwell + 1):
        if candidates[first] - candidates[first + dwell - 1] <= band:
            level = float(np.median(candidates[first : first + dwell]))
            break
    if level is None:
        return None
    # Is that resting place a foothold? Then the video starts on the wall.
    resting = index[still & (np.abs(values - level) <= band)]
    feet = np.stack(
        [
            endpoint(pixels[resting], tuple(Limb.LEFT_FOOT.contact_landmarks)),
            endpoint(pixels[resting], tuple(Limb.RIGHT_FOOT.contact_landmarks)),
        ],
        axis=1,
    )
    lower_foot = feet[np.arange(len(resting)), np.argmax(feet[:, :, 1], axis=1)]
    if hold_map.holds:
        on_hold = _touching(hold_map, timeline, lower_foot, stature_px) >= 0
        if on_hold.mean() > 0.5:
            return None
    return level


def _touching(
    hold_map: HoldMap, timeline: SkeletonTimeline, points: np.ndarray, stature_px: float
) -> np.ndarray:
    # Touching means what it means to the contacts engine.
    tolerance, radius = TOLERANCE_FRACTION * stature_px, RADIUS_FRACTION * stature_px
    shapes = hold_shapes(
        hold_map,
        frame_width=timeline.frame_width,
        frame_height=timeline.frame_height,
        tolerance_px=tolerance,
        radius_px=radius,
    )
    return touched_hold(points, shapes, tolerance_px=tolerance, radius_px=radius)


def _last_hand_on_hold(
    timeline: SkeletonTimeline,
    hold_map: HoldMap,
    pixels: np.ndarray,
    start: int,
    stop: int,
    stature_px: float,
) -> int:
    """One past the last frame in ``[start, stop)`` with a hand on a hold (``stop`` if none)."""
    if not hold_map.holds:
        return stop
    hands = np.stack(
        [
            endpoint(pixels[start:stop], tuple(limb.contact_landmarks))
            for limb in (Limb.LEFT_HAND, Limb.RIGHT_HAND)
        ],
        axis=1,
    )
    touching = _touching(hold_map, timeline, hands.reshape(-1, 2), stature_px).reshape(-1, 2)
    gripping = np.flatnonzero((touching >= 0).any(axis=1))
    return start + int(gripping[-1]) + 1 if gripping.size else stop


def _whole_video(timeline: SkeletonTimeline, usable: np.ndarray, near: np.ndarray) -> ClimbSegment:
    index = np.flatnonzero(usable)
    if index.size == 0:
        raise NoClimbError(
            "We could not see the climber on the wall: only people close to the camera are "
            "in view. Film from a few metres back with the whole wall in the picture."
        )
    start, stop = int(index[0]), int(index[-1]) + 1
    times = timeline.timestamps_s
    segment = ClimbSegment(
        start_frame=start,
        end_frame=stop,
        start_s=float(times[start]),
        end_s=float(times[stop - 1]),
        start="video_start",
        end="video_end",
        floor_y=None,
        near_camera=near,
    )
    _check_length(segment)
    return segment


def _check_length(segment: ClimbSegment) -> None:
    if segment.duration_s < MIN_CLIMB_S:
        raise NoClimbError(
            f"This video shows only {segment.duration_s:.1f} s of climbing; we need at least "
            f"{MIN_CLIMB_S:.1f} s to follow moves. Film the whole climb, from leaving the ground "
            "to the top."
        )


def _fill_gaps(state: np.ndarray) -> np.ndarray:
    """Frames of unknown state (-1) take the state of the frame before (or after, at the start)."""
    filled = state.copy()
    known = np.flatnonzero(filled >= 0)
    if known.size == 0:
        return filled
    previous = np.maximum.accumulate(np.where(filled >= 0, np.arange(len(filled)), -1))
    filled = np.where(previous >= 0, filled[np.maximum(previous, 0)], filled[known[0]])
    return filled


def _runs(
    flags: np.ndarray, times: np.ndarray, *, bridge_s: float, min_s: float
) -> list[tuple[int, int]]:
    """``[start, stop)`` runs of True, joining runs split by False gaps under ``bridge_s`` and
    keeping those lasting at least ``min_s``."""
    edges = np.diff(np.r_[0, flags.astype(np.int8), 0])
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    joined: list[list[int]] = []
    for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
        if joined and times[start] - times[joined[-1][1] - 1] <= bridge_s:
            joined[-1][1] = stop
        else:
            joined.append([start, stop])
    return [(a, b) for a, b in joined if times[b - 1] - times[a] >= min_s]
