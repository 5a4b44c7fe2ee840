"""Synthetic wall photos with ground truth, to measure hold detection where no labelled photos exist."""

from engines.holds.synth.wall import SyntheticWall, generate_wall

__all__ = ["SyntheticWall", "generate_wall"]
