"""Synthetic walls shared by the hold tests, rendered once per test session."""

from __future__ import annotations

from functools import cache

from engines.holds.synth import SyntheticWall, generate_wall

#: Seeds of the small fixed set the detection floor is checked on (not the seeds the
#: detector's thresholds were looked at on).
FLOOR_SEEDS = (1000, 1001, 1002, 1003)


@cache
def wall(seed: int) -> SyntheticWall:
    return generate_wall(seed)
