"""Biomechanics engine: joint angles, centre of gravity, loads, forces and move figures."""

from engines.biomech.analysis import Biomechanics, analyse
from engines.biomech.body import BodyScale, body_scale, pixel_points, resolve_height
from engines.biomech.motion import MoveFigures
from engines.biomech.segments import (
    COG_WEIGHTS,
    JOINT_NAMES,
    centre_of_gravity,
    joint_angles,
)
from engines.biomech.statics import support_area, support_margin, vertical_loads, wall_pull

__all__ = [
    "COG_WEIGHTS",
    "JOINT_NAMES",
    "Biomechanics",
    "BodyScale",
    "MoveFigures",
    "analyse",
    "body_scale",
    "centre_of_gravity",
    "joint_angles",
    "pixel_points",
    "resolve_height",
    "support_area",
    "support_margin",
    "vertical_loads",
    "wall_pull",
]
