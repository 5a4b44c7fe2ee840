"""Ghost climber: the least-effort way up the wall for the climber's own body.

`compute_ghost` runs the whole chain; its parts are public for the benchmark and for reuse:
`body_model` measures the climber, `default_start` finds the start holds, `plan_sequence` plans the
hold sequence, `solve_key_poses` solves every key pose at once (CPU or CUDA), and `key_times` with
`ghost_timeline` put the ghost on the video's timeline in the skeleton's own format, and
`judge` says whether the plan beats the climber's own hand sequence (priced by `plan_following`).
"""

from engines.ghost.body import BodyModel, body_model
from engines.ghost.errors import GhostInputError, NoRouteError
from engines.ghost.ghost import GhostMove, GhostResult, compute_ghost
from engines.ghost.ik import KeyPoses, default_device, solve_key_poses
from engines.ghost.planner import Move, Plan, plan_following, plan_sequence
from engines.ghost.start import default_start, start_route_color
from engines.ghost.trajectory import ghost_timeline, key_times, minimum_jerk
from engines.ghost.verdict import GhostVerdict, judge

__all__ = [
    "BodyModel",
    "GhostInputError",
    "GhostMove",
    "GhostResult",
    "GhostVerdict",
    "KeyPoses",
    "Move",
    "NoRouteError",
    "Plan",
    "body_model",
    "compute_ghost",
    "default_device",
    "default_start",
    "ghost_timeline",
    "judge",
    "key_times",
    "minimum_jerk",
    "plan_following",
    "plan_sequence",
    "solve_key_poses",
    "start_route_color",
]
