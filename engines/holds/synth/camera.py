"""Gym lighting and a phone camera for the synthetic walls.

Lighting is uneven on real walls (a row of spots, daylight from one side), the phone is rarely
square to the wall, and its photo carries vignetting, a white-balance cast, some defocus, sensor
noise and JPEG artefacts. Each is drawn at random per wall.
"""

from __future__ import annotations

import cv2
import numpy as np

from engines.holds.synth.render import value_noise


def random_homography(
    rng: np.random.Generator, width: int, height: int, margin: float
) -> np.ndarray:
    """A tilted, slightly rotated camera: maps wall-plane pixels to photo pixels.

    The plane is the photo enlarged by ``margin`` on each side; the camera looks at its centre,
    usually from below (the top of the wall appears narrower), never seeing past the plane.

    Returns:
        (3, 3) homography, plane -> photo.
    """
    mx, my = margin * width, margin * height
    src = np.array(
        [[mx, my], [mx + width, my], [mx + width, my + height], [mx, my + height]], np.float64
    )
    keystone = rng.uniform(-0.02, 0.12) * width / 2
    src[0, 0] -= keystone
    src[1, 0] += keystone
    src += rng.uniform(-0.35, 0.35, src.shape) * np.array([mx, my]) * 0.5
    angle = np.deg2rad(rng.uniform(-4.0, 4.0))
    centre = src.mean(axis=0)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    src = (src - centre) @ rot.T + centre
    dst = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float64)
    return cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32))


def light_wall(rng: np.random.Generator, plane: np.ndarray) -> None:
    """Multiply the plane by an uneven light: a gradient across the wall and a few spotlights."""
    h, w = plane.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    xs, ys = xs / w - 0.5, ys / h - 0.5
    angle = rng.uniform(0, 2 * np.pi)
    field = rng.uniform(0.8, 1.05) + rng.uniform(0.1, 0.35) * (
        np.cos(angle) * xs + np.sin(angle) * ys
    )
    for _ in range(int(rng.integers(0, 4))):
        cx, cy = rng.uniform(-0.5, 0.5, 2)
        sigma = rng.uniform(0.15, 0.45)
        field += rng.uniform(0.08, 0.3) * np.exp(
            -((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * sigma**2)
        )
    plane *= np.clip(field, 0.45, 1.4)[..., None]


def photograph(
    rng: np.random.Generator, plane: np.ndarray, homography: np.ndarray, size: tuple[int, int]
) -> np.ndarray:
    """What the phone records of the lit plane.

    Returns:
        (H, W, 3) uint8 BGR photo.
    """
    width, height = size
    photo = np.asarray(
        cv2.warpPerspective(plane, homography, (width, height), flags=cv2.INTER_LINEAR),
        np.float32,
    )
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    r2 = ((xs / width - 0.5) ** 2 + (ys / height - 0.5) ** 2) / 0.5
    photo *= (1.0 - rng.uniform(0.0, 0.35) * r2)[..., None]
    photo *= (rng.uniform(0.92, 1.08, 3) * rng.uniform(0.85, 1.15)).astype(np.float32)
    sigma = rng.uniform(0.0, 1.1)
    if sigma > 0.3:
        photo = np.asarray(cv2.GaussianBlur(photo, (0, 0), sigma), np.float32)
    # Shot noise grows with brightness; read noise does not; chroma noise is blotchy.
    read = rng.uniform(0.004, 0.02)
    noise = rng.standard_normal(photo.shape).astype(np.float32)
    photo += noise * np.sqrt(read**2 + 0.0004 * np.clip(photo, 0, 1))
    photo += 0.01 * value_noise(rng, (height, width), 3.0)[..., None] * rng.uniform(0, 1, 3)
    photo8 = np.clip(photo * 255.0 + 0.5, 0, 255).astype(np.uint8)
    quality = int(rng.integers(55, 93))
    ok, jpeg = cv2.imencode(".jpg", photo8, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("OpenCV could not encode the synthetic photo")
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
