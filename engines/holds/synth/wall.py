"""`generate_wall`: a synthetic photo of a set wall, with the ground truth of every hold.

A wall section 2-4 m wide is painted in wall coordinates (`render`), lit unevenly and photographed
through a tilted phone camera (`camera`). Routes are groups of holds of one colour; some walls
carry a route whose colour is close to the wall's (beige on plywood, black on charcoal, grey on
light grey), and volumes may carry holds of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from engines.holds.geometry import rasterize, to_normalised
from engines.holds.synth import palette
from engines.holds.synth.camera import light_wall, photograph, random_homography
from engines.holds.synth.render import Light, chalk_halo, draw_hold, paint_wall
from engines.holds.synth.shapes import TYPE_WEIGHTS, make_shape
from schema.holds import Hold

_MARGIN = 0.15  # wall painted around the frame, so the tilted camera never sees past it
_GAP_CM = 2.0  # route setters leave at least this much between holds
_MIN_CONTRAST = 8.0  # a colour closer than this (CIE76) to the wall is not set on it


@dataclass
class SyntheticWall:
    """A synthetic wall photo and its ground truth.

    Attributes:
        image: (H, W, 3) uint8 BGR photo.
        holds: ground-truth holds (ids ``g1``, ``g2``, ...), polygons and bboxes normalised to the
            image, ``color`` the palette name, ``route`` the colour group ("" for bare volumes).
        labels: (H, W) int32 instance map: 0 is wall, ``i + 1`` is ``holds[i]`` (a hold bolted
            on a volume covers that part of the volume).
        contrast: (N,) CIE76 difference between each hold's colour and the wall's under the same
            light; below about 20 a hold is hard to tell from the wall by colour alone.
        wall_color: key of `palette.WALL_COLORS`.
        px_per_cm: scale of the wall plane before the perspective.
        seed: the seed that generated it.
    """

    image: np.ndarray
    holds: list[Hold]
    labels: np.ndarray
    contrast: np.ndarray
    wall_color: str
    px_per_cm: float
    seed: int

    def __post_init__(self) -> None:
        if self.image.ndim != 3 or self.image.shape[2] != 3 or self.image.dtype != np.uint8:
            raise ValueError(f"image must be (H, W, 3) uint8, got {self.image.shape}")
        if self.labels.shape != self.image.shape[:2]:
            raise ValueError("labels must match the image size")
        if self.contrast.shape != (len(self.holds),):
            raise ValueError("one contrast per hold")


def generate_wall(
    seed: int, *, width: int = 1024, height: int = 768, bare: bool = False
) -> SyntheticWall:
    """Render a random set wall; the same seed gives the same photo and ground truth.

    Args:
        seed: random seed.
        width: photo width in pixels.
        height: photo height in pixels.
        bare: only the wall (panels, T-nuts, chalk and rubber marks, light), no holds: what a
            detector must not find anything on.

    Returns:
        The photo with its ground-truth holds.
    """
    if min(width, height) < 64:
        raise ValueError("synthetic walls need at least 64 x 64 pixels")
    builder = _WallBuilder(np.random.default_rng(seed), width, height)
    return builder.build(seed, bare=bare)


@dataclass
class _Truth:
    outline: np.ndarray  # (N, 2) photo pixels
    type: str
    color: str
    route: str
    contrast: float


@dataclass
class _WallBuilder:
    rng: np.random.Generator
    width: int
    height: int
    truth: list[_Truth] = field(default_factory=list)

    def __post_init__(self) -> None:
        rng = self.rng
        self.px_per_cm = self.width / rng.uniform(200.0, 400.0)
        self.homography = random_homography(rng, self.width, self.height, _MARGIN)
        self.to_plane = np.linalg.inv(self.homography)
        self.wall_name = str(rng.choice(list(palette.WALL_COLORS)))
        self.wall_bgr = palette.jitter(rng, palette.WALL_COLORS[self.wall_name], amount=0.05)
        shape = (int(self.height * (1 + 2 * _MARGIN)), int(self.width * (1 + 2 * _MARGIN)))
        self.plane = paint_wall(
            rng,
            shape,
            self.wall_bgr,
            px_per_cm=self.px_per_cm,
            plywood=self.wall_name == "plywood",
        )
        self.light = Light.random(rng)
        # Occupied plane pixels, each outline widened by the setters' gap.
        self.taken_holds = np.zeros(shape, np.uint8)
        self.taken_volumes = np.zeros(shape, np.uint8)

    def build(self, seed: int, *, bare: bool) -> SyntheticWall:
        rng = self.rng
        colours = [] if bare else self._route_colours()
        volume_colours = [
            n
            for n in palette.VOLUME_COLORS
            if palette.delta_e(palette.HOLD_COLORS[n], self.wall_bgr) >= _MIN_CONTRAST
        ]
        for _ in range(0 if bare else int(rng.choice([0, 1, 1, 2, 3]))):
            name = str(rng.choice(volume_colours))
            volume = self.place("volume", name, "", on=None)
            for _ in range(int(rng.integers(0, 3)) if volume is not None else 0):
                route = str(rng.choice(colours))
                self.place(
                    str(rng.choice(["jug", "crimp", "pinch", "foot_chip"])), route, route, on=volume
                )
        kinds = list(TYPE_WEIGHTS)
        weights = np.array(list(TYPE_WEIGHTS.values()))
        for name in colours:
            for kind in rng.choice(kinds, size=int(rng.integers(6, 15)), p=weights / weights.sum()):
                self.place(str(kind), name, name, on=None)
        light_wall(rng, self.plane)
        image = photograph(rng, self.plane, self.homography, (self.width, self.height))
        return self._ground_truth(image, seed)

    def _route_colours(self) -> list[str]:
        """2-5 route colours the wall shows well, plus sometimes one close to the wall colour."""
        rng = self.rng
        contrast = {n: palette.delta_e(c, self.wall_bgr) for n, c in palette.HOLD_COLORS.items()}
        visible = [n for n, d in contrast.items() if d >= _MIN_CONTRAST]
        clear = [n for n in visible if contrast[n] >= 30.0]
        chosen = list(rng.choice(clear, size=int(rng.integers(2, 6)), replace=False))
        close = [n for n in visible if n not in chosen and contrast[n] < 30.0]
        if close and rng.random() < 0.6:
            chosen.append(str(rng.choice(close)))
        return [str(n) for n in chosen]

    def place(
        self, kind: str, colour: str, route: str, *, on: np.ndarray | None
    ) -> np.ndarray | None:
        """Put one hold on the wall where it fits; returns its plane outline, None if it did not."""
        rng = self.rng
        shape = make_shape(rng, kind)
        for _ in range(30):
            if on is None:
                xy = rng.uniform([0.03, 0.03], [0.97, 0.97]) * (self.width, self.height)
                centre = cv2.perspectiveTransform(xy[None, None], self.to_plane)[0, 0]
            else:
                weights = rng.dirichlet(np.ones(len(on)))
                centre = 0.5 * (weights @ on) + 0.5 * on.mean(axis=0)
            outline = shape.outline * self.px_per_cm + centre
            if self._fits(outline, volume=kind == "volume", on=on):
                break
        else:
            return None
        bgr = palette.jitter(rng, palette.HOLD_COLORS[colour], amount=0.06)
        chalk = 0.0 if kind in ("foot_chip", "volume") else rng.uniform(0.0, 0.55)
        if chalk > 0.2:
            chalk_halo(rng, self.plane, centre, shape.radius_cm * self.px_per_cm)
        draw_hold(
            rng,
            self.plane,
            shape,
            centre,
            px_per_cm=self.px_per_cm,
            colour=bgr,
            light=self.light,
            chalk=chalk,
        )
        gap = max(1, round(_GAP_CM * self.px_per_cm))
        taken = self.taken_volumes if kind == "volume" else self.taken_holds
        points = np.round(outline).astype(np.int32)
        cv2.fillPoly(taken, [points], (1,))
        cv2.polylines(taken, [points], True, (1,), 2 * gap)
        photo_outline = cv2.perspectiveTransform(outline[None], self.homography)[0]
        contrast = palette.delta_e(bgr, self.wall_bgr)
        self.truth.append(_Truth(photo_outline, kind, colour, route, contrast))
        return outline

    def _fits(self, outline: np.ndarray, *, volume: bool, on: np.ndarray | None) -> bool:
        photo = cv2.perspectiveTransform(outline[None], self.homography)[0]
        if (
            photo.min() < 2
            or (photo[:, 0] > self.width - 3).any()
            or (photo[:, 1] > self.height - 3).any()
        ):
            return False
        mask = np.zeros_like(self.taken_holds)
        cv2.fillPoly(mask, [np.round(outline).astype(np.int32)], (1,))
        if (mask & self.taken_holds).any():
            return False
        if on is not None:
            inside = [
                cv2.pointPolygonTest(on.astype(np.float32), tuple(map(float, p)), True)
                for p in outline
            ]
            return min(inside) > _GAP_CM * self.px_per_cm
        return not (mask & self.taken_volumes).any()

    def _ground_truth(self, image: np.ndarray, seed: int) -> SyntheticWall:
        labels = np.zeros(image.shape[:2], np.int32)
        holds: list[Hold] = []
        size = (self.width, self.height)
        order = sorted(range(len(self.truth)), key=lambda i: self.truth[i].type != "volume")
        for i in order:
            labels[rasterize(self.truth[i].outline, (self.height, self.width))] = i + 1
        for i, t in enumerate(self.truth):
            moments = cv2.moments(t.outline.astype(np.float32))
            centroid = np.array([[moments["m10"], moments["m01"]]]) / moments["m00"]
            centre = to_normalised(centroid, size)[0]
            polygon = to_normalised(t.outline, size)
            (x0, y0), (x1, y1) = polygon.min(axis=0), polygon.max(axis=0)
            holds.append(
                Hold(
                    id=f"g{i + 1}",
                    x=float(centre[0]),
                    y=float(centre[1]),
                    type=t.type,
                    polygon=[(float(px), float(py)) for px, py in polygon],
                    color=t.color,
                    bbox=(float(x0), float(y0), float(x1), float(y1)),
                    route=t.route,
                )
            )
        contrast = np.array([t.contrast for t in self.truth], np.float64)
        return SyntheticWall(image, holds, labels, contrast, self.wall_name, self.px_per_cm, seed)
