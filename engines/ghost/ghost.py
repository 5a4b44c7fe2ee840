"""The whole ghost from a skeleton, a hold map and a profile: plan, key poses, timeline."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from engines.climb.floor import wall_holds
from engines.ghost.body import BodyModel, body_model
from engines.ghost.ik import DEFAULT_ITERATIONS, KeyPoses, default_device, solve_key_poses
from engines.ghost.planner import Plan, plan_following, plan_sequence
from engines.ghost.start import default_start, start_route_color
from engines.ghost.trajectory import ghost_timeline, key_times
from engines.ghost.verdict import GhostVerdict, judge
from engines.limbs import Limb
from engines.pose.timeline import FrameQuality, SkeletonTimeline
from schema.analysis import ClimbReading, Morphology
from schema.holds import HoldMap

logger = logging.getLogger(__name__)

#: The hold type hands never take (one of `engines.ghost.space.FOOT_ONLY_TYPES`).
FOOT_ONLY_TYPE = "foot_chip"


@dataclass(frozen=True)
class GhostMove:
    """One move of the ghost on the video's timeline: ``limb`` goes to ``to_hold`` from
    ``start_s`` to ``end_s`` (seconds, the video's clock)."""

    limb: Limb
    from_hold: str | None
    to_hold: str
    start_s: float
    end_s: float

    def to_dict(self) -> dict[str, str | float | None]:
        """JSON-ready form, as the result document's ``ghost_moves`` expect it."""
        return {
            "limb": self.limb.value,
            "from_hold": self.from_hold,
            "to_hold": self.to_hold,
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
        }


@dataclass
class GhostResult:
    """The ghost climber for one video.

    Attributes:
        timeline: the ghost's skeleton on the video's timestamps, drawn like the climber's.
        plan: the hold sequence.
        key_poses: the solved key poses, ``K = len(plan.states)``.
        key_times_s: ``(K,)`` when the ghost is in each key pose.
        moves: the plan's moves with their times.
        start: the start holds the plan began from.
        body: the body model the ghost was built for.
        verdict: whether the plan beats the climber's own hand sequence (`engines.ghost.verdict`);
            None without the climber's climb or when they made no hand move.
    """

    timeline: SkeletonTimeline
    plan: Plan
    key_poses: KeyPoses
    key_times_s: np.ndarray
    moves: list[GhostMove]
    start: dict[Limb, str | None]
    body: BodyModel
    verdict: GhostVerdict | None = None

    def __post_init__(self) -> None:
        count = len(self.plan.states)
        if len(self.key_poses) != count or np.shape(self.key_times_s) != (count,):
            raise ValueError("key poses and key times must match the plan's states")
        if len(self.moves) != count - 1:
            raise ValueError("a ghost has one timed move per plan move")

    def summary(self) -> dict[str, Any]:
        """JSON-ready description of the plan for the result document (the skeleton itself
        travels as `SkeletonTimeline.to_bytes`)."""
        return {
            "finish_hold": self.plan.finish_hold,
            "start": {limb.value: hold for limb, hold in self.start.items()},
            "key_times_s": [round(float(t), 4) for t in self.key_times_s],
            "moves": [
                {
                    "limb": move.limb.value,
                    "from_hold": move.from_hold,
                    "to_hold": move.to_hold,
                    "start_s": round(move.start_s, 4),
                    "end_s": round(move.end_s, 4),
                }
                for move in self.moves
            ],
            "effort": round(self.plan.cost, 3),
            "reach_source": self.body.reach_source,
            "verdict": self.verdict.to_dict() if self.verdict is not None else None,
        }


def compute_ghost(
    timeline: SkeletonTimeline,
    hold_map: HoldMap,
    morphology: Morphology | None = None,
    *,
    device: str | torch.device | None = None,
    beam_width: int = 24,
    max_moves: int = 60,
    iterations: int = DEFAULT_ITERATIONS,
    finish: str | None = None,
    route_color: str | None = None,
    climb: ClimbReading | None = None,
) -> GhostResult:
    """Plan, solve and animate the ghost climber for the climber's own body.

    Args:
        timeline: the climber's skeleton (its timestamps become the ghost's).
        hold_map: the validated holds, normalised to the video frame.
        morphology: the climber's profile, if any.
        device: torch device for the key-pose solver; CUDA when present if None.
        beam_width: planner beam width.
        max_moves: longest plan searched.
        iterations: solver steps.
        finish: id of the top hold; the highest hold when None.
        route_color: colour of the holds hands may use; when None, the colour both start holds
            of the hands share (a gym route), or any hold if they share none.
        climb: the climber's own climb (`engines.climb.climb_reading`). With it, the ghost
            starts on the climber's start holds when they leave the ground, its hands take only
            holds of the climber's route (holds they used, or their route's colour; feet may
            use any hold), it finishes on the highest hold they reached (unless ``finish``
            says otherwise), its moves are spread over their climb, not the whole video, its
            plan is judged against their hand sequence (`GhostResult.verdict`), and it never
            uses the holds the reading found lying on the floor (``climb.floor_holds``).

    Returns:
        The `GhostResult`.

    Raises:
        GhostInputError: the skeleton or hold map cannot carry a ghost.
        NoRouteError: no route to the top within the climber's reach.
    """
    window = (float(timeline.timestamps_s[0]), float(timeline.timestamps_s[-1]))
    if climb is not None:
        window = (climb.start_s, climb.end_s)
        # Holds lying on the floor are no part of the route: no start stance, foot or hand on
        # them (`engines.climb.floor`).
        hold_map = wall_holds(hold_map, climb.floor_holds)
        timeline_on_wall = _within(timeline, *window)
        body = body_model(timeline_on_wall, morphology)
        start = _climb_start(climb, default_start(timeline_on_wall, hold_map))
        route_color = route_color or start_route_color(start, hold_map)
        hold_map = _route_only_for_hands(hold_map, climb, route_color)
        finish = finish or climb.top_hold
    else:
        body = body_model(timeline, morphology)
        start = default_start(timeline, hold_map)
    route_color = route_color or start_route_color(start, hold_map)
    plan = plan_sequence(
        hold_map,
        body,
        start,
        beam_width=beam_width,
        max_moves=max_moves,
        finish=finish,
        route_color=route_color,
    )
    verdict = None
    if climb is not None:
        climber = [(Limb(p.limb), p.hold) for p in climb.hand_sequence]
        verdict = judge(
            plan,
            climber,
            lambda hands: plan_following(
                hold_map,
                body,
                start,
                hands,
                beam_width=beam_width,
                max_moves=max_moves,
                finish=plan.finish_hold,
                route_color=route_color,
            ),
        )
    poses = solve_key_poses(
        plan, body, hold_map, device=device or default_device(), iterations=iterations
    )
    times = key_times(plan, window[1] - window[0], start_s=window[0])
    # With the climber's climb known, the ghost is drawn only while they climb.
    stamps = timeline.timestamps_s
    if climb is not None:
        stamps = stamps[(stamps >= window[0] - 1e-6) & (stamps <= window[1] + 1e-6)]
    ghost = ghost_timeline(
        poses,
        times,
        stamps,
        timeline.frame_width,
        timeline.frame_height,
        timeline.source_fps,
    )
    moves = [
        GhostMove(m.limb, m.from_hold, m.to_hold, float(times[m.step - 1]), float(times[m.step]))
        for m in plan.moves
    ]
    logger.info(
        "ghost: %d moves to %s, cost %.2f, on %s, %s",
        len(moves),
        plan.finish_hold,
        plan.cost,
        poses.device,
        verdict.verdict if verdict is not None else "no climber sequence to compare",
    )
    return GhostResult(ghost, plan, poses, times, moves, start, body, verdict)


def _within(timeline: SkeletonTimeline, start_s: float, end_s: float) -> SkeletonTimeline:
    """The timeline with frames outside ``[start_s, end_s]`` marked as missing."""
    keep = (timeline.timestamps_s >= start_s - 1e-6) & (timeline.timestamps_s <= end_s + 1e-6)
    landmarks = timeline.landmarks.copy()
    landmarks[~keep] = np.nan
    quality = np.where(keep, timeline.quality, np.uint8(FrameQuality.MISSING)).astype(np.uint8)
    return replace(timeline, landmarks=landmarks, quality=quality)


def _climb_start(climb: ClimbReading, seen: dict[Limb, str | None]) -> dict[Limb, str | None]:
    """The climber's start holds as the contact track read them; a limb the track had on no
    hold at the start, or on a hold lying on the floor, keeps what the first frames of the climb
    show (or None)."""
    floor = set(climb.floor_holds)
    read = {
        limb: hold
        for limb, hold in climb.start_holds.items()
        if hold is not None and hold not in floor
    }
    return {limb: read.get(limb.value) or seen.get(limb) for limb in seen}


def _route_only_for_hands(
    hold_map: HoldMap, climb: ClimbReading, route_color: str | None
) -> HoldMap:
    """Holds off the climber's route become foot-only: the ghost climbs the climber's route
    with its hands (not a ceiling feature or a neighbouring route) and stands on anything."""
    on_route = set(climb.route_holds)
    holds = [
        hold
        if hold.id in on_route or (route_color and hold.color == route_color)
        else replace(hold, type=FOOT_ONLY_TYPE)
        for hold in hold_map.holds
    ]
    return replace(hold_map, holds=holds)
