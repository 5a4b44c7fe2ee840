"""Hold colour names and route groups.

A hold's colour is read from its body: the pixels away from the shaded rim, without the dark
recess and without the chalked highlights. It is named from hue, saturation and lightness with
the names route setters use, and holds are grouped into routes by clustering their colours, so
two routes of the same name but clearly different shades stay apart.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

#: Names `color_name` can return.
COLOR_NAMES: tuple[str, ...] = (
    "red",
    "orange",
    "yellow",
    "green",
    "blue",
    "purple",
    "pink",
    "beige",
    "white",
    "grey",
    "black",
)
#: Holds closer than this (CIE76 on light-corrected colour) can be on the same route.
ROUTE_DISTANCE = 28.0

# Hue wheel (degrees, HSV) -> name for saturated colours.
_HUES: tuple[tuple[float, str], ...] = (
    (15.0, "red"),
    (42.0, "orange"),
    (72.0, "yellow"),
    (170.0, "green"),
    (255.0, "blue"),
    (300.0, "purple"),
    (342.0, "pink"),
    (360.0, "red"),
)


def body_color(pixels: np.ndarray) -> np.ndarray:
    """Representative BGR (0..1) of a hold from its inner pixels.

    Args:
        pixels: (N, 3) float32 BGR of the hold's inside.

    Returns:
        (3,) float32: the mean of the middle brightness band, free of the dark recess, the
        shaded underside and chalked highlights.
    """
    if len(pixels) == 0:
        raise ValueError("a hold needs at least one pixel")
    brightness = pixels.mean(axis=1)
    low, high = np.percentile(brightness, [30, 80])
    band = pixels[(brightness >= low) & (brightness <= high)]
    return (band if len(band) else pixels).mean(axis=0).astype(np.float32)


def color_name(bgr: np.ndarray) -> str:
    """Name of a BGR (0..1) colour seen under roughly white light."""
    pixel = np.clip(np.asarray(bgr, np.float32), 0.0, 1.0).reshape(1, 1, 3)
    hue, sat, val = cv2.cvtColor(pixel, cv2.COLOR_BGR2HSV)[0, 0]
    if val < 0.22 or (val < 0.35 and sat < 0.45):
        return "black"
    if sat < 0.16:
        return "white" if val > 0.75 else "grey"
    if sat < 0.42 and 12.0 <= hue < 55.0:
        return "beige" if val > 0.55 else "grey"
    if sat < 0.24:
        return "white" if val > 0.8 else "grey"
    for upper, name in _HUES:
        if hue < upper:
            if name == "red" and sat < 0.55 and val > 0.6:
                return "pink"
            return name
    return "red"


def group_routes(colors: np.ndarray, names: list[str], *, volumes: list[bool]) -> list[str]:
    """Route label per hold: holds of one colour form a route.

    Args:
        colors: (N, 3) float32 BGR body colours, corrected for the photo's uneven light.
        names: colour name per hold.
        volumes: whether each hold is a volume; volumes belong to no route.

    Returns:
        Route label per hold: the colour name, with ``-2``, ``-3``... when clearly different
        shades share a name (two greens, say); "" for volumes.
    """
    if not len(colors) == len(names) == len(volumes):
        raise ValueError("colors, names and volumes must have one entry per hold")
    routes = [""] * len(names)
    lab = cv2.cvtColor(colors.reshape(-1, 1, 3).astype(np.float32), cv2.COLOR_BGR2LAB)
    lab = lab.reshape(-1, 3)
    for name in sorted(set(names)):
        members = [i for i, n in enumerate(names) if n == name and not volumes[i]]
        if len(members) < 2:
            clusters = np.ones(len(members), int)
        else:
            tree = linkage(lab[members], method="average")
            clusters = fcluster(tree, t=ROUTE_DISTANCE, criterion="distance")
        # The biggest shade keeps the plain name.
        order = sorted(set(clusters), key=lambda c: -int((clusters == c).sum()))
        suffix = {c: "" if k == 0 else f"-{k + 1}" for k, c in enumerate(order)}
        for j, i in enumerate(members):
            routes[i] = name + suffix[clusters[j]]
    return routes
