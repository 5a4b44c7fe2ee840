"""Synthetic wall photos with ground truth: hold detection is measured where no labelled photos
exist."""

from engines.holds.synth.wall import SyntheticWall, generate_wall

__all__ = ["SyntheticWall", "generate_wall"]
