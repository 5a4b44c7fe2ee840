"""Climb engine: which part of a climbing video is the climb (pure numpy, no Temporal/HTTP)."""

from engines.climb.floor import wall_holds
from engines.climb.route import climb_reading
from engines.climb.segment import ClimbSegment, NoClimbError, find_climb, on_wall_view

__all__ = [
    "ClimbSegment",
    "NoClimbError",
    "climb_reading",
    "find_climb",
    "on_wall_view",
    "wall_holds",
]
