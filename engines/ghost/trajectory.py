"""The ghost on the video's own timeline: minimum-jerk motion between key poses.

Between two key poses the body follows the minimum-jerk profile ``10 s³ - 15 s⁴ + 6 s⁵``
(Flash & Hogan 1985): it starts and ends exactly on the key poses with zero velocity and
acceleration. The torso, head and hand/foot angles are interpolated as kinematic parameters, which
keeps every segment its true length mid-move. Each limb that is on a hold at both ends moves its
contact point along the minimum-jerk straight line between the two (Flash & Hogan's reaching
hand; for a limb that stays put the line is a point, so it never slides off its hold as the torso
swings), and its elbow or knee is re-solved per frame by two-link inverse kinematics on the same
side as the interpolated joint. A limb coming off or onto the wall from nothing follows its
interpolated joint angles.
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from engines.ghost.errors import GhostInputError
from engines.ghost.ik import KeyPoses, to_landmarks
from engines.ghost.kinematics import LEAN, LIMB_ANGLES, Kinematics
from engines.ghost.planner import LIMBS, Plan
from engines.pose.timeline import FrameQuality, SkeletonTimeline

logger = logging.getLogger(__name__)


def minimum_jerk(s: np.ndarray) -> np.ndarray:
    """Minimum-jerk blend of progress ``s`` in 0..1 (clipped): 0 → 0 and 1 → 1, flat at both."""
    s = np.clip(s, 0.0, 1.0)
    return s**3 * (10.0 - 15.0 * s + 6.0 * s**2)


def key_times(plan: Plan, timeline_duration_s: float, *, start_s: float = 0.0) -> np.ndarray:
    """When the ghost is in each key pose.

    Rule: the first key pose at ``start_s``, the last at ``start_s + timeline_duration_s``, and
    each move given time in proportion to ``1 + reach_fraction``: every move costs a re-balance
    of the body, and a limb travelling its full reach takes about twice as long as a short step.

    Args:
        plan: the planned moves.
        timeline_duration_s: length of the climb to spread them over.
        start_s: time of the first key pose.

    Returns:
        ``(K,)`` strictly increasing times in seconds.

    Raises:
        GhostInputError: a plan with moves and a climb of zero length.
    """
    if not plan.moves:
        return np.array([start_s], dtype=np.float64)
    if not timeline_duration_s > 0:
        raise GhostInputError("the video is too short to show the ghost's moves")
    weights = np.array([1.0 + move.reach_fraction for move in plan.moves])
    fractions = np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])
    return start_s + timeline_duration_s * fractions


def ghost_timeline(
    key_poses: KeyPoses,
    key_times_s: np.ndarray,
    timestamps_s: np.ndarray,
    frame_width: int,
    frame_height: int,
    source_fps: float,
) -> SkeletonTimeline:
    """The ghost's skeleton at each of the video's timestamps.

    Before the first key time the ghost holds the first key pose, after the last the last one.

    Args:
        key_poses: solved key poses.
        key_times_s: ``(K,)`` strictly increasing times of the key poses.
        timestamps_s: ``(T,)`` the video's frame times.
        frame_width: frame size in pixels, as in the climber's timeline.
        frame_height: frame height in pixels.
        source_fps: frame rate of the video.

    Returns:
        A `SkeletonTimeline` with every frame a complete pose (quality DETECTED).
    """
    times = np.asarray(key_times_s, dtype=np.float64)
    stamps = np.asarray(timestamps_s, dtype=np.float64)
    count = len(key_poses)
    if times.shape != (count,) or (count > 1 and not np.all(np.diff(times) > 0)):
        raise ValueError(f"key_times_s must be ({count},) and strictly increasing")
    if stamps.ndim != 1:
        raise ValueError("timestamps_s must have shape (T,)")
    body = key_poses.body
    if abs(frame_width / frame_height - body.aspect) > 0.01 * body.aspect:
        logger.warning(
            "ghost frame aspect %.3f differs from the body's %.3f",
            frame_width / frame_height,
            body.aspect,
        )

    params = key_poses.params.copy()
    params[:, LEAN:] = np.unwrap(params[:, LEAN:], axis=0)  # shortest way round every angle
    kin = Kinematics(body, torch.device("cpu"), torch.float64)
    with torch.no_grad():
        keys = torch.as_tensor(params)
        key_contacts = kin.forward(keys).contacts
        if count == 1:
            frames = keys.expand(len(stamps), -1)
        else:
            segment = np.clip(np.searchsorted(times, stamps, side="right") - 1, 0, count - 2)
            progress = (stamps - times[segment]) / (times[segment + 1] - times[segment])
            blend = torch.as_tensor(minimum_jerk(progress))[:, None]
            first, last = torch.as_tensor(segment), torch.as_tensor(segment + 1)
            frames = keys[first] + (keys[last] - keys[first]) * blend
            held = torch.as_tensor(_on_holds(key_poses, segment))
            contacts = (
                key_contacts[first] + (key_contacts[last] - key_contacts[first]) * blend[..., None]
            )
            frames = _keep_on_holds(kin, frames, contacts, held)
        points = kin.forward(frames).landmarks.numpy()
    return SkeletonTimeline(
        timestamps_s=stamps,
        landmarks=to_landmarks(points, body.aspect),
        quality=np.full(len(stamps), FrameQuality.DETECTED, dtype=np.uint8),
        frame_width=frame_width,
        frame_height=frame_height,
        source_fps=source_fps,
    )


def _on_holds(key_poses: KeyPoses, segment: np.ndarray) -> np.ndarray:
    """``(T, 4)`` limbs on a hold at both ends of each frame's segment."""
    states = key_poses.states
    both = np.array(
        [
            [
                states[k].get(limb) is not None and states[k + 1].get(limb) is not None
                for limb in LIMBS
            ]
            for k in range(len(states) - 1)
        ]
    )
    return both[segment]


def _keep_on_holds(
    kin: Kinematics, frames: torch.Tensor, contacts: torch.Tensor, held: torch.Tensor
) -> torch.Tensor:
    pose = kin.forward(frames)
    angles = pose.angles
    rel_end = angles[..., 2] - angles[..., 1]
    solved = kin.reach(pose.roots, contacts, rel_end, pose.mids - pose.roots)
    angles = torch.where(held[..., None], solved, angles)
    out = frames.clone()
    out[:, LIMB_ANGLES] = angles.reshape(len(frames), 12)
    return out
