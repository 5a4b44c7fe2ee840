"""Hold geometry for the synthetic walls, in centimetres on the wall plane.

Sizes follow the catalogues of common hold makers: a foot chip is a few centimetres across, a jug
a hand's width, a volume most of a metre. Each type also gets the visual cue a climber uses to
recognise it from a photo: the dark opening of a jug's lip, the holes of a pocket, the thin
profile of a crimp, the tall one of a pinch, the smooth dome of a sloper, the flat facets of a
volume.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: How often each type appears on a synthetic wall (volumes are placed separately).
TYPE_WEIGHTS: dict[str, float] = {
    "jug": 0.22,
    "crimp": 0.17,
    "sloper": 0.12,
    "pinch": 0.12,
    "pocket": 0.10,
    "foot_chip": 0.22,
    "undercling": 0.05,
}


@dataclass
class Cavity:
    """A dark recess inside a hold (a jug's opening, a pocket's hole), relative to its centre."""

    cx: float
    cy: float
    ax: float
    ay: float
    angle_deg: float
    darkness: float


@dataclass
class HoldShape:
    """Outline and relief of one hold.

    Attributes:
        type: one of `schema.holds.HOLD_TYPES`.
        outline: (N, 2) polygon in cm, relative to the hold's centre, y pointing down the wall.
        depth_cm: how far the hold stands off the wall; sets shading and the cast shadow.
        cavities: dark recesses drawn inside the outline.
        apex: for volumes, the (x, y) point where the facets meet; None for round holds.
    """

    type: str
    outline: np.ndarray
    depth_cm: float
    cavities: list[Cavity] = field(default_factory=list)
    apex: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.outline.ndim != 2 or self.outline.shape[1] != 2 or len(self.outline) < 3:
            raise ValueError(f"outline must be (N>=3, 2), got {self.outline.shape}")

    @property
    def radius_cm(self) -> float:
        """Radius of the circle around the centre that holds the whole outline."""
        return float(np.hypot(self.outline[:, 0], self.outline[:, 1]).max())


def _blob(
    rng: np.random.Generator, rx: float, ry: float, angle_deg: float, *, squareness: float = 2.0
) -> np.ndarray:
    """A superellipse with low-frequency wobble: the outline of a moulded resin hold."""
    theta = np.linspace(0.0, 2.0 * np.pi, 72, endpoint=False)
    wobble = np.ones_like(theta)
    for k in range(2, 6):
        wobble += rng.uniform(0.0, 0.09 / (k - 1)) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    c, s = np.cos(theta), np.sin(theta)
    p = 2.0 / squareness
    x = rx * np.sign(c) * np.abs(c) ** p * wobble
    y = ry * np.sign(s) * np.abs(s) ** p * wobble
    a = np.deg2rad(angle_deg)
    return np.stack([x * np.cos(a) - y * np.sin(a), x * np.sin(a) + y * np.cos(a)], axis=1)


def _lip(rng: np.random.Generator, rx: float, ry: float, *, top: bool) -> Cavity:
    """The shadowed opening behind a jug's lip (on top) or an undercling's (underneath)."""
    sign = -1.0 if top else 1.0
    return Cavity(
        cx=rng.uniform(-0.15, 0.15) * rx,
        cy=sign * rng.uniform(0.22, 0.38) * ry,
        ax=rng.uniform(0.45, 0.65) * rx,
        ay=rng.uniform(0.22, 0.32) * ry,
        angle_deg=rng.uniform(-10, 10),
        darkness=rng.uniform(0.22, 0.42),
    )


def make_shape(rng: np.random.Generator, hold_type: str) -> HoldShape:
    """Draw a random hold of ``hold_type``.

    Args:
        rng: the wall's random generator.
        hold_type: a key of `TYPE_WEIGHTS` or ``"volume"``.

    Returns:
        The hold's outline and relief in centimetres.
    """
    u = rng.uniform
    if hold_type in ("jug", "undercling"):
        rx, ry = u(7.0, 12.0), u(4.5, 7.5)
        outline = _blob(rng, rx, ry, u(-15, 15))
        return HoldShape(hold_type, outline, 0.6 * ry, [_lip(rng, rx, ry, top=hold_type == "jug")])
    if hold_type == "crimp":
        rx = u(5.0, 10.0)
        outline = _blob(rng, rx, u(1.1, 2.0), u(-20, 20), squareness=u(3.0, 4.5))
        return HoldShape(hold_type, outline, u(1.2, 2.2))
    if hold_type == "sloper":
        rx = u(8.0, 14.0)
        return HoldShape(hold_type, _blob(rng, rx, rx * u(0.7, 0.95), u(-30, 30)), 0.5 * rx)
    if hold_type == "pinch":
        ry = u(6.0, 11.0)
        outline = _blob(rng, u(2.3, 4.0), ry, u(-25, 25), squareness=u(2.0, 3.0))
        return HoldShape(hold_type, outline, u(3.0, 5.0))
    if hold_type == "pocket":
        rx, ry = u(5.0, 8.0), u(4.5, 7.0)
        holes = [
            Cavity(
                cx=u(-0.25, 0.25) * rx,
                cy=u(-0.25, 0.15) * ry,
                ax=u(0.2, 0.3) * rx,
                ay=u(0.18, 0.28) * ry,
                angle_deg=u(-30, 30),
                darkness=u(0.15, 0.3),
            )
        ]
        return HoldShape(hold_type, _blob(rng, rx, ry, u(-30, 30)), 0.55 * ry, holes)
    if hold_type == "foot_chip":
        r = u(1.6, 3.0)
        return HoldShape(hold_type, _blob(rng, r, r * u(0.7, 1.0), u(0, 180)), u(0.8, 1.6))
    if hold_type == "volume":
        return _volume(rng)
    raise ValueError(f"no synthetic shape for hold type {hold_type!r}")


def _volume(rng: np.random.Generator) -> HoldShape:
    """A plywood or resin volume: a flat-faced polygon bolted to the wall, 35-80 cm across."""
    n = int(rng.integers(3, 6))
    size = rng.uniform(18.0, 40.0)
    # Keep the corners spread out so the polygon is convex-ish, as real volumes are.
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False) + rng.uniform(-0.35, 0.35, n)
    angles += rng.uniform(0, 2 * np.pi)
    radii = size * rng.uniform(0.8, 1.15, n)
    outline = np.stack([radii * np.cos(angles), radii * np.sin(angles) * 0.85], axis=1)
    apex = (rng.uniform(-0.25, 0.25) * size, rng.uniform(-0.25, 0.25) * size)
    return HoldShape("volume", outline, size * rng.uniform(0.3, 0.5), apex=apex)
