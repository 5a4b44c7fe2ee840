"""Per-pixel evidence of holds against the bare wall.

The wall is the one thing that covers most of a wall photo, so its appearance under the photo's
light (paint, light falloff, panel tints) is estimated as a smooth robust background. Against it,
a pixel is weighed three ways:

* ``residual``: how far it is from the best explanation as bare wall, i.e. the background
  darkened by a cast shadow or a rubber smear, lit a little brighter, or hazed white by
  chalk. Coloured holds, black holds on light walls and white holds on dark ones are far from
  all of these.
* ``darker`` and ``lighter``: how much shadow, or chalk, that explanation needed. Holds close
  to the wall's colour hide here, together with real shadows and chalk; only their crisp
  outline (``edges``) tells them apart.
* ``edge_strength``: the sharpest colour gradient, relative to the wall's brightness.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: Deepest cast shadow (or shoe-rubber smear) a wall shows: the share of light it takes away.
MAX_SHADOW = 0.5
#: Brightest a bare wall gets over its smooth background (wood grain, a lighter panel, a
#: spotlight's hot spot), as a share of extra light.
MAX_GLOW = 0.25
#: Thickest chalk haze on a wall: the share of the wall it covers in white.
MAX_CHALK = 0.6


def estimate_background(image: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
    """Bare-wall appearance under the photo's lighting: a robust, smooth per-channel estimate.

    Args:
        image: (H, W, 3) float32 BGR 0..1.
        exclude: (H, W) bool, pixels known not to be wall; they do not vote.

    Returns:
        (H, W, 3) float32.
    """
    h, w = image.shape[:2]
    step = max(1, round(max(h, w) / 160))
    size = (max(w // step, 1), max(h // step, 1))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    if exclude is None:
        # The wall's colour is the photo's median colour (holds cover a minority of it); its
        # brightness is the median over ~1/8 of the photo, which follows the light. Colour is
        # not taken locally: inside a volume wider than the window it would be the volume's.
        k = 2 * (max(small.shape[:2]) // 16) + 1
        brightness = small.mean(axis=2)
        u8 = np.clip(brightness * 255, 0, 255).astype(np.uint8)
        local = cv2.medianBlur(u8, k).astype(np.float32) / 255
        colour = np.median(small.reshape(-1, 3), axis=0)
        small_bg = colour[None, None, :] * (local / max(float(colour.mean()), 1e-3))[..., None]
    else:
        keep = cv2.resize((~exclude).astype(np.float32), size, interpolation=cv2.INTER_AREA)
        keep = (keep > 0.99).astype(np.float32)
        small_bg = np.zeros_like(small)
        weight = np.zeros(keep.shape, np.float32)
        # Normalised convolution at two widths: the narrow one follows chalk clouds and light
        # gradients, the wide one fills in under volumes where no wall shows nearby.
        for sigma in (max(small.shape[:2]) / 40, max(small.shape[:2]) / 10):
            wk = cv2.GaussianBlur(keep, (0, 0), sigma)
            vk = cv2.GaussianBlur(small * keep[..., None], (0, 0), sigma)
            use = (weight < 0.05) & (wk > 0.05)
            small_bg[use] = vk[use] / wk[use, None]
            weight = np.maximum(weight, wk * use)
        missing = weight < 0.05
        if missing.any():
            source = small[~missing] if (~missing).any() else small.reshape(-1, 3)
            small_bg[missing] = np.median(source, axis=0)
    return cv2.resize(small_bg, (w, h), interpolation=cv2.INTER_LINEAR)


@dataclass
class Cues:
    """Per-pixel evidence of holds, each (H, W) float32.

    Attributes:
        residual: distance from the best bare-wall explanation, as a share of the local white.
        darker: the share of the wall's light a pixel lacks (shadow depth), 0..1.
        lighter: how much white it would take to haze the wall that bright (chalk density), 0..
        edges: sharpest colour gradient per pixel as a share of the wall's brightness.
    """

    residual: np.ndarray
    darker: np.ndarray
    lighter: np.ndarray
    edges: np.ndarray

    def __post_init__(self) -> None:
        shape = self.residual.shape
        if not shape == self.darker.shape == self.lighter.shape == self.edges.shape:
            raise ValueError("all cues must have the photo's (H, W) shape")


def compute_cues(image: np.ndarray, background: np.ndarray, *, edges: bool = True) -> Cues:
    """Hold evidence of every pixel against the estimated wall.

    A bare-wall pixel is the background either darkened by a shadow or lit a little brighter
    (``b * (1 - s)``, -`MAX_GLOW` <= s <= `MAX_SHADOW`) or hazed by chalk
    (``b + a * (white - b)``, 0 <= a <= `MAX_CHALK`).

    Args:
        image: (H, W, 3) float32 BGR 0..1, lightly smoothed.
        background: same shape, the bare-wall estimate.
        edges: also compute edge strength (zeros otherwise).
    """
    # Channel planes: elementwise maths on 2-D arrays is much faster than reducing (H, W, 3).
    p = cv2.split(image.astype(np.float32))
    b = cv2.split(background.astype(np.float32))
    brightness = (b[0] + b[1] + b[2]) / 3.0
    # Local white: the brightest thing in the photo, under the local share of the light; at
    # least near full scale, since a photo of a dark wall may hold nothing white but chalk.
    light = brightness / max(float(np.median(brightness)), 1e-3)
    peak = max(float(np.percentile(np.maximum(np.maximum(p[0], p[1]), p[2]), 99.5)), 0.85)
    white = np.clip(peak * light, brightness + 0.08, 1.2)

    d = [p[c] - b[c] for c in range(3)]
    shade = -(d[0] * b[0] + d[1] * b[1] + d[2] * b[2]) / (b[0] ** 2 + b[1] ** 2 + b[2] ** 2 + 1e-6)
    s = np.clip(shade, -MAX_GLOW, MAX_SHADOW)
    shadow_residual = _norm(*(d[c] + b[c] * s for c in range(3)))
    t = [white - b[c] for c in range(3)]
    chalk = (d[0] * t[0] + d[1] * t[1] + d[2] * t[2]) / (t[0] ** 2 + t[1] ** 2 + t[2] ** 2 + 1e-6)
    a = np.clip(chalk, 0.0, MAX_CHALK)
    chalk_residual = _norm(*(d[c] - a * t[c] for c in range(3)))
    residual = np.minimum(shadow_residual, chalk_residual) / white

    strength = np.zeros_like(brightness)
    if edges:
        for plane in p:
            gx = cv2.Sobel(plane, cv2.CV_32F, 1, 0, ksize=3)
            gy = cv2.Sobel(plane, cv2.CV_32F, 0, 1, ksize=3)
            np.maximum(strength, cv2.magnitude(gx, gy), out=strength)
        # Relative to the wall, so its own texture scores alike on dark and light walls.
        strength /= 8.0 * np.maximum(brightness, 0.08)
    return Cues(
        residual.astype(np.float32),
        np.clip(shade, 0.0, 1.0).astype(np.float32),
        np.maximum(chalk, 0.0).astype(np.float32),
        strength,
    )


def _norm(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    return np.sqrt(x * x + y * y + z * z)
