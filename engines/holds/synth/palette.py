"""Colours of gym walls and holds for the synthetic walls (BGR, 0..1, as a camera records them).

The hold colours are the usual route-setting colours; the neutral ones (white, grey, black,
beige) end up close to some wall colours on purpose, as wooden holds on plywood or black holds on
a charcoal wall do in real gyms.
"""

from __future__ import annotations

from typing import Final

import cv2
import numpy as np

BGR = tuple[float, float, float]

WALL_COLORS: Final[dict[str, BGR]] = {
    "plywood": (0.47, 0.64, 0.78),
    "light_grey": (0.68, 0.68, 0.66),
    "grey": (0.50, 0.50, 0.49),
    "dark_grey": (0.27, 0.27, 0.28),
    "white": (0.85, 0.86, 0.85),
    "blue_grey": (0.56, 0.48, 0.40),
}

HOLD_COLORS: Final[dict[str, BGR]] = {
    "red": (0.14, 0.12, 0.78),
    "orange": (0.08, 0.42, 0.95),
    "yellow": (0.10, 0.82, 0.95),
    "green": (0.22, 0.60, 0.16),
    "blue": (0.78, 0.40, 0.10),
    "purple": (0.52, 0.18, 0.45),
    "pink": (0.70, 0.45, 0.96),
    "black": (0.10, 0.10, 0.11),
    "white": (0.90, 0.91, 0.90),
    "grey": (0.55, 0.55, 0.54),
    "beige": (0.58, 0.74, 0.86),
}

#: Volumes are most often bare plywood, painted grey or black, or a route colour.
VOLUME_COLORS: Final[tuple[str, ...]] = ("beige", "grey", "black", "white", "blue", "green")


def lab(bgr: BGR) -> np.ndarray:
    """CIELAB of one BGR colour (L 0..100)."""
    pixel = np.array([[bgr]], dtype=np.float32)
    return cv2.cvtColor(pixel, cv2.COLOR_BGR2LAB)[0, 0].astype(np.float64)


def delta_e(first: BGR, second: BGR) -> float:
    """CIE76 colour difference: about 2.3 is just noticeable, above 20 is obvious."""
    return float(np.linalg.norm(lab(first) - lab(second)))


def jitter(rng: np.random.Generator, bgr: BGR, *, amount: float) -> BGR:
    """The same nominal colour from another batch or maker: a small random shift per channel."""
    shifted = np.clip(np.asarray(bgr) * rng.uniform(1 - amount, 1 + amount, 3), 0.02, 0.98)
    return (float(shifted[0]), float(shifted[1]), float(shifted[2]))
