"""Painting a synthetic wall plane: panels, T-nuts, chalk and rubber marks, shaded holds.

Everything is drawn on a float32 BGR plane (0..1) in wall coordinates at a fixed pixels-per-cm;
the camera (perspective, light, sensor) is applied afterwards by `engines.holds.synth.wall`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engines.holds.synth.shapes import HoldShape

_CHALK = np.array([0.93, 0.93, 0.92], dtype=np.float32)
_RUBBER = np.array([0.10, 0.10, 0.11], dtype=np.float32)
_SHIFT = 4  # sub-pixel bits for cv2 polygon drawing


def value_noise(
    rng: np.random.Generator, shape: tuple[int, int], cell: float, *, octaves: int = 3
) -> np.ndarray:
    """Smooth random field with zero mean and unit spread; ``cell`` is its coarsest size in px."""
    h, w = shape
    out = np.zeros((h, w), np.float32)
    amplitude = 1.0
    for _ in range(octaves):
        grid = rng.standard_normal((max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)))
        out += amplitude * cv2.resize(
            grid.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC
        )
        cell, amplitude = max(cell / 2.0, 1.0), amplitude * 0.5
    return (out - out.mean()) / (out.std() + 1e-6)


def _fixed(points: np.ndarray) -> np.ndarray:
    return np.round(points * (1 << _SHIFT)).astype(np.int32)


def fill_polygon(canvas: np.ndarray, polygon: np.ndarray, value: float) -> None:
    """Anti-aliased filled polygon with sub-pixel vertices."""
    cv2.fillPoly(canvas, [_fixed(polygon)], (value,), cv2.LINE_AA, _SHIFT)


def paint_wall(
    rng: np.random.Generator,
    shape: tuple[int, int],
    base: tuple[float, float, float],
    *,
    px_per_cm: float,
    plywood: bool,
) -> np.ndarray:
    """A bare wall: painted or plywood panels with seams, T-nut holes, chalk and rubber marks.

    Returns:
        (H, W, 3) float32 BGR plane.
    """
    h, w = shape
    texture = 0.025 * value_noise(rng, shape, 2.0 * px_per_cm, octaves=4)
    if plywood:
        # Wood grain: noise stretched along the panel, visible on unpainted plywood.
        grain = cv2.resize(
            rng.standard_normal((h // 3 + 2, max(2, w // 60))).astype(np.float32),
            (w, h),
            interpolation=cv2.INTER_CUBIC,
        )
        texture += 0.04 * cv2.GaussianBlur(grain, (0, 0), 1.5)
    wall = np.asarray(base, np.float32)[None, None, :] * (1.0 + texture[..., None])

    # 2440 x 1220 mm panels, each from another sheet or paint pass, with a dark seam between.
    panel = 122.0 * px_per_cm
    ox, oy = rng.uniform(0, panel, 2)
    seams = np.zeros((h, w), np.float32)
    for x0 in np.arange(ox - panel, w, panel):
        for y0 in np.arange(oy - 2 * panel, h, 2 * panel):
            xs, ys = int(max(x0, 0)), int(max(y0, 0))
            wall[ys : int(y0 + 2 * panel), xs : int(x0 + panel)] *= rng.uniform(0.96, 1.04)
        cv2.line(seams, (int(x0), 0), (int(x0), h), (1.0,), 1, cv2.LINE_AA)
    for y0 in np.arange(oy - 2 * panel, h, 2 * panel):
        cv2.line(seams, (0, int(y0)), (w, int(y0)), (1.0,), 1, cv2.LINE_AA)
    wall *= (1.0 - rng.uniform(0.15, 0.4) * seams)[..., None]
    _t_nuts(rng, wall, px_per_cm)
    _smudges(rng, wall, px_per_cm)
    return wall.astype(np.float32)


def _t_nuts(rng: np.random.Generator, wall: np.ndarray, px_per_cm: float) -> None:
    """Bolt holes on a staggered 20 cm grid: small dark circles in a metal rim."""
    h, w = wall.shape[:2]
    step = 20.0 * px_per_cm
    ox, oy = rng.uniform(0, step, 2)
    rim = np.array([0.55, 0.56, 0.58]) * rng.uniform(0.7, 1.1)
    for row, y in enumerate(np.arange(oy, h, step / 2)):
        for x in np.arange(ox + (step / 2) * (row % 2), w, step):
            centre = _fixed(np.array([x, y]) + rng.normal(0, 0.3 * px_per_cm, 2))
            radius = int(0.75 * px_per_cm * (1 << _SHIFT))
            hole = max(int(0.5 * px_per_cm * (1 << _SHIFT)), 1 << _SHIFT)
            cv2.circle(wall, tuple(centre), radius, rim.tolist(), -1, cv2.LINE_AA, _SHIFT)
            dark = (wall[int(y) % h, int(x) % w] * 0.15).tolist()
            cv2.circle(wall, tuple(centre), hole, dark, -1, cv2.LINE_AA, _SHIFT)


def _smudges(rng: np.random.Generator, wall: np.ndarray, px_per_cm: float) -> None:
    """Chalk clouds and shoe-rubber smears, soft-edged, anywhere on the wall."""
    h, w = wall.shape[:2]
    for colour, count, size_cm, alpha in (
        (_CHALK, int(rng.integers(6, 22)), (4.0, 25.0), (0.05, 0.3)),
        (_RUBBER, int(rng.integers(4, 16)), (1.5, 8.0), (0.08, 0.35)),
    ):
        layer = np.zeros((h, w), np.float32)
        for _ in range(count):
            centre = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
            length = max(1, int(rng.uniform(*size_cm) * px_per_cm))
            axes = (length, max(1, int(length * rng.uniform(0.3, 1.0))))
            opacity = (float(rng.uniform(*alpha)),)
            cv2.ellipse(layer, centre, axes, rng.uniform(0, 180), 0, 360, opacity, -1)
        layer = np.asarray(cv2.GaussianBlur(layer, (0, 0), 1.2 * px_per_cm), np.float32)
        layer *= np.clip(0.6 + 0.5 * value_noise(rng, (h, w), 3.0 * px_per_cm), 0.0, 1.0)
        wall *= 1.0 - layer[..., None]
        wall += layer[..., None] * colour


def chalk_halo(
    rng: np.random.Generator, plane: np.ndarray, centre: np.ndarray, radius: float
) -> None:
    """The chalk cloud climbers leave on the wall around a much-used hold."""
    h, w = plane.shape[:2]
    pad = int(3 * radius)
    x0, y0 = max(int(centre[0]) - pad, 0), max(int(centre[1]) - pad, 0)
    x1, y1 = min(int(centre[0]) + pad, w), min(int(centre[1]) + pad, h)
    if x1 <= x0 or y1 <= y0:
        return
    layer = np.zeros((y1 - y0, x1 - x0), np.float32)
    shift = rng.normal(0, 0.3 * radius, 2)
    axes = (int(radius * rng.uniform(1.0, 1.6)), int(radius * rng.uniform(0.8, 1.4)))
    cv2.ellipse(
        layer,
        (int(centre[0] - x0 + shift[0]), int(centre[1] - y0 + shift[1])),
        axes,
        rng.uniform(0, 180),
        0,
        360,
        (float(rng.uniform(0.1, 0.35)),),
        -1,
    )
    layer = np.asarray(cv2.GaussianBlur(layer, (0, 0), 0.35 * radius + 1), np.float32)
    noise = value_noise(rng, (y1 - y0, x1 - x0), 0.5 * radius + 2)
    layer *= np.clip(0.6 + 0.5 * noise, 0.0, 1.0)
    crop = plane[y0:y1, x0:x1]
    crop *= 1.0 - layer[..., None]
    crop += layer[..., None] * _CHALK


@dataclass
class Light:
    """Direction the gym lights come from: mostly from the front, somewhat from above."""

    direction: np.ndarray  # unit (x, y, z); y points down the wall, z out of it
    ambient: float
    shadow: float  # darkening under a hold, 0..1

    @classmethod
    def random(cls, rng: np.random.Generator) -> Light:
        d = np.array([rng.uniform(-0.35, 0.35), rng.uniform(-0.75, -0.25), rng.uniform(0.6, 1.0)])
        return cls(d / np.linalg.norm(d), rng.uniform(0.3, 0.5), rng.uniform(0.2, 0.45))


def draw_hold(
    rng: np.random.Generator,
    plane: np.ndarray,
    shape: HoldShape,
    centre: np.ndarray,
    *,
    px_per_cm: float,
    colour: tuple[float, float, float],
    light: Light,
    chalk: float,
) -> np.ndarray:
    """Cast the hold's shadow, then paint it shaded, textured and chalked onto ``plane``.

    Returns:
        (N, 2) outline in plane pixels.
    """
    outline = shape.outline * px_per_cm + centre
    depth = shape.depth_cm * px_per_cm
    sun = light.direction
    offset = -sun[:2] / sun[2] * depth * 0.8
    pad = int(np.abs(offset).max() + 3 * (0.25 * depth + 1) + 4)
    x0, y0 = np.floor(outline.min(axis=0)).astype(int) - pad
    x1, y1 = np.ceil(outline.max(axis=0)).astype(int) + pad
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, plane.shape[1]), min(y1, plane.shape[0])
    crop = plane[y0:y1, x0:x1]
    local = outline - (x0, y0)

    mask = np.zeros(crop.shape[:2], np.float32)
    fill_polygon(mask, local, 1.0)
    shift = np.array([[1.0, 0.0, offset[0]], [0.0, 1.0, offset[1]]], np.float32)
    shifted = cv2.warpAffine(mask, shift, (mask.shape[1], mask.shape[0]))
    shadow = cv2.GaussianBlur(shifted, (0, 0), 0.25 * depth + 1.0)
    crop *= (1.0 - light.shadow * shadow)[..., None]

    shade = _shading(shape, mask, local, centre - (x0, y0), depth, light, px_per_cm)
    size = (mask.shape[0], mask.shape[1])
    grain = value_noise(rng, size, 0.4 * px_per_cm, octaves=2)
    albedo = np.asarray(colour, np.float32) * (1.0 + 0.04 * grain)[..., None]
    painted = albedo * shade[..., None]
    if chalk > 0:
        # Chalk collects where hands go: the top of the hold.
        ys = np.arange(mask.shape[0], dtype=np.float32)[:, None] - (centre[1] - y0)
        top = np.clip(0.6 - ys / (2.0 * shape.radius_cm * px_per_cm), 0.0, 1.0)
        cloud = value_noise(rng, size, 1.5 * px_per_cm, octaves=2)
        cloud = np.clip(0.5 + 0.5 * cloud, 0.0, 1.0)
        alpha = (chalk * top * cloud)[..., None]
        painted = painted * (1 - alpha) + _CHALK * alpha
    if shape.type != "volume" and rng.random() < 0.6:
        screw = _fixed(centre - (x0, y0) + rng.normal(0, 0.3 * px_per_cm, 2))
        radius = max(int(0.45 * px_per_cm * (1 << _SHIFT)), 1 << _SHIFT)
        cv2.circle(painted, tuple(screw), radius, (0.08, 0.08, 0.08), -1, cv2.LINE_AA, _SHIFT)
    crop *= 1.0 - mask[..., None]
    crop += painted * mask[..., None]
    return outline


def _shading(
    shape: HoldShape,
    mask: np.ndarray,
    local: np.ndarray,
    origin: np.ndarray,
    depth: float,
    light: Light,
    px_per_cm: float,
) -> np.ndarray:
    """Lambertian shading relative to the flat wall, with cavities darkened."""
    sun = light.direction
    flat = light.ambient + (1 - light.ambient) * sun[2]
    if shape.apex is not None:
        shade = np.ones_like(mask)
        apex = np.array(shape.apex) * px_per_cm + origin
        for i in range(len(local)):
            a, b = local[i], local[(i + 1) % len(local)]
            normal = np.cross(np.append(b - a, 0.0), np.append(apex - a, depth))
            normal *= np.sign(normal[2]) / np.linalg.norm(normal)
            value = (light.ambient + (1 - light.ambient) * max(float(normal @ sun), 0.0)) / flat
            fill_polygon(shade, np.stack([a, b, apex]), value)
        return shade
    inside = (mask > 0.5).astype(np.uint8)
    dist = cv2.distanceTransform(inside, cv2.DIST_L2, 5)
    t = np.clip(dist / max(float(dist.max()), 1.0), 0.0, 1.0)
    height = depth * np.sqrt(1.0 - (1.0 - t) ** 2)
    height = cv2.GaussianBlur(height, (0, 0), 1.0)
    gy, gx = np.gradient(height)
    norm = np.sqrt(gx**2 + gy**2 + 1.0)
    lambert = np.clip((-gx * sun[0] - gy * sun[1] + sun[2]) / norm, 0.0, 1.0)
    shade = (light.ambient + (1 - light.ambient) * lambert) / flat
    for cavity in shape.cavities:
        hole = np.zeros_like(mask)
        cx, cy = _fixed(origin + np.array([cavity.cx, cavity.cy]) * px_per_cm)
        ax, ay = _fixed(np.array([cavity.ax, cavity.ay]) * px_per_cm)
        cv2.ellipse(
            hole,
            (int(cx), int(cy)),
            (int(ax), int(ay)),
            cavity.angle_deg,
            0,
            360,
            (1.0,),
            -1,
            cv2.LINE_AA,
            _SHIFT,
        )
        hole = cv2.GaussianBlur(hole, (0, 0), 0.3 * px_per_cm + 0.5) * mask
        shade *= 1.0 - (1.0 - cavity.darkness) * hole
    return shade.astype(np.float32)
