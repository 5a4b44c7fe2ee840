"""Hold shapes in video pixels and which hold, if any, a limb point is on.

Hold maps are drawn on the wall photo and the skeleton on the video. We assume both share one
normalised coordinate frame — the phone films from where it photographed, with the same framing —
so a hold's normalised polygon maps to video pixels by the video's frame size. (A photo-to-video
homography would slot in here, before the conversion, if that assumption ever has to go.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from schema.holds import HoldMap

#: Points tested against every hold at once; bounds the (points x holds) scratch arrays.
_CHUNK = 4096


@dataclass(frozen=True)
class HoldShapes:
    """Holds as arrays in video pixels.

    Attributes:
        ids: ``(H,)`` hold ids, in hold-map order.
        centres: ``(H, 2)`` float64 centre of each hold.
        polygons: ``(H, V + 1, 2)`` float64 closed outlines padded by repeating the first vertex
            (padding adds zero-length edges, which change neither inside-ness nor distance).
        has_polygon: ``(H,)`` bool; holds without an outline (fewer than 3 vertices) are discs.
        reach: ``(H, 4)`` float64 box ``(x0, y0, x1, y1)`` outside which a point cannot touch.
    """

    ids: tuple[str, ...]
    centres: np.ndarray
    polygons: np.ndarray
    has_polygon: np.ndarray
    reach: np.ndarray

    def __post_init__(self) -> None:
        count = len(self.ids)
        if self.centres.shape != (count, 2) or self.polygons.shape[0] != count:
            raise ValueError("hold arrays must have one row per hold")


def hold_shapes(
    hold_map: HoldMap, *, frame_width: int, frame_height: int, tolerance_px: float, radius_px: float
) -> HoldShapes:
    """Convert a hold map to pixel arrays for a video frame of the given size.

    Args:
        hold_map: the validated holds.
        frame_width: video frame width in pixels.
        frame_height: video frame height in pixels.
        tolerance_px: how far outside an outline a limb point still touches the hold.
        radius_px: touching radius around holds without an outline.

    Returns:
        The shapes.
    """
    scale = np.array([frame_width, frame_height], dtype=np.float64)
    holds = hold_map.holds
    vertices = max((len(h.polygon) for h in holds), default=0)
    polygons = np.zeros((len(holds), max(vertices, 1) + 1, 2))
    has_polygon = np.zeros(len(holds), dtype=bool)
    centres = np.array([[h.x, h.y] for h in holds], dtype=np.float64).reshape(-1, 2) * scale
    reach = np.empty((len(holds), 4))
    for row, hold in enumerate(holds):
        if len(hold.polygon) >= 3:
            outline = np.asarray(hold.polygon, dtype=np.float64) * scale
            polygons[row, : len(outline)] = outline
            polygons[row, len(outline) :] = outline[0]
            has_polygon[row] = True
            reach[row] = [
                *(outline.min(axis=0) - tolerance_px),
                *(outline.max(axis=0) + tolerance_px),
            ]
        else:
            polygons[row] = centres[row]
            reach[row] = [*(centres[row] - radius_px), *(centres[row] + radius_px)]
    return HoldShapes(tuple(h.id for h in holds), centres, polygons, has_polygon, reach)


def _polygon_distance(points: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    """Distance from each point ``(K, 2)`` to its polygon ``(K, V + 1, 2)``; 0 inside."""
    start, stop = polygons[:, :-1], polygons[:, 1:]
    edge = stop - start
    rel = points[:, None, :] - start
    length2 = (edge**2).sum(axis=2)
    t = np.clip((rel * edge).sum(axis=2) / np.where(length2 > 0, length2, 1.0), 0.0, 1.0)
    distance = np.linalg.norm(rel - t[..., None] * edge, axis=2).min(axis=1)
    # Even-odd ray casting to the right of the point.
    px, py = points[:, 0, None], points[:, 1, None]
    straddles = (start[..., 1] > py) != (stop[..., 1] > py)
    dy = np.where(straddles, edge[..., 1], 1.0)
    crossing = straddles & (px < start[..., 0] + (py - start[..., 1]) * edge[..., 0] / dy)
    inside = crossing.sum(axis=1) % 2 == 1
    return np.where(inside, 0.0, distance)


def touched_hold(
    points: np.ndarray, shapes: HoldShapes, *, tolerance_px: float, radius_px: float
) -> np.ndarray:
    """The hold each point touches, if any.

    A point touches a hold with an outline when it lies within ``tolerance_px`` of it (inside
    counts as 0), and a hold without one within ``radius_px`` of its centre. Touching several,
    the nearest centre wins.

    Args:
        points: ``(P, 2)`` pixel positions; NaN rows touch nothing.
        shapes: from `hold_shapes`, built with the same tolerance and radius.
        tolerance_px: as in `hold_shapes`.
        radius_px: as in `hold_shapes`.

    Returns:
        ``(P,)`` int32 index into ``shapes.ids``, or -1.
    """
    result = np.full(len(points), -1, dtype=np.int32)
    if not shapes.ids:
        return result
    box = shapes.reach
    for first in range(0, len(points), _CHUNK):
        chunk = points[first : first + _CHUNK]
        x, y = chunk[:, 0, None], chunk[:, 1, None]
        near = (x >= box[:, 0]) & (x <= box[:, 2]) & (y >= box[:, 1]) & (y <= box[:, 3])
        rows, holds = np.nonzero(near)
        if rows.size == 0:
            continue
        pts = chunk[rows]
        centre_distance = np.linalg.norm(pts - shapes.centres[holds], axis=1)
        polygonal = shapes.has_polygon[holds]
        touching = ~polygonal & (centre_distance <= radius_px)
        if polygonal.any():
            outline = _polygon_distance(pts[polygonal], shapes.polygons[holds[polygonal]])
            touching[polygonal] = outline <= tolerance_px
        rows, holds, centre_distance = rows[touching], holds[touching], centre_distance[touching]
        if rows.size == 0:  # near a hold's box, touching none of them
            continue
        # Nearest centre per point: sort by distance, keep each point's first entry.
        order = np.lexsort((centre_distance, rows))
        rows, holds = rows[order], holds[order]
        first_of_row = np.r_[True, rows[1:] != rows[:-1]]
        result[first + rows[first_of_row]] = holds[first_of_row]
    return result
