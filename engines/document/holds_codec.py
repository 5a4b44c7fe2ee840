"""The hold map in the result document: coordinates as integer pixels of the wall photo."""

from __future__ import annotations

from typing import Any

import numpy as np

from engines.document.errors import ResultDocumentError
from schema.holds import Hold, HoldMap


def encode_holds(hold_map: HoldMap) -> dict[str, Any]:
    """The ``holds`` object of the result document.

    Centres, outlines and boxes are rounded to whole pixels of the photo the holds were found on
    (at most half a pixel off); outlines are flat ``[x0, y0, x1, y1, ...]`` lists.

    Args:
        hold_map: the validated hold map.

    Returns:
        ``{"image_width", "image_height", "items": [...]}``.
    """
    size = np.array([hold_map.image_width, hold_map.image_height], dtype=np.float64)
    if np.any(size <= 0):
        raise ResultDocumentError("the hold map's image size must be positive")

    def pixels(points: object) -> list[int]:
        array = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if not np.isfinite(array).all():
            raise ResultDocumentError("a hold has non-finite coordinates")
        return np.rint(array * size).astype(np.int64).ravel().tolist()

    items = []
    for hold in hold_map.holds:
        x, y = pixels([hold.x, hold.y])
        items.append(
            {
                "id": hold.id,
                "type": hold.type,
                "x": x,
                "y": y,
                "polygon": pixels(hold.polygon),
                "bbox": pixels(hold.bbox) if hold.bbox is not None else None,
                "color": hold.color,
                "route": hold.route,
                "confidence": round(float(hold.confidence), 3),
            }
        )
    return {
        "image_width": hold_map.image_width,
        "image_height": hold_map.image_height,
        "items": items,
    }


def decode_holds(block: dict[str, Any]) -> HoldMap:
    """Reference decoder of `encode_holds`: a `HoldMap` with normalised coordinates.

    Raises:
        ResultDocumentError: the block is malformed.
    """
    try:
        width, height = int(block["image_width"]), int(block["image_height"])
        if width <= 0 or height <= 0:
            raise ResultDocumentError("holds.image_width and image_height must be positive")
        size = np.array([width, height], dtype=np.float64)

        def normalised(flat: list[int], name: str) -> list[tuple[float, float]]:
            if len(flat) % 2:
                raise ResultDocumentError(f"{name} must hold x, y pairs")
            points = np.asarray(flat, dtype=np.float64).reshape(-1, 2) / size
            return [(float(x), float(y)) for x, y in points]

        holds = []
        for item in block["items"]:
            box = normalised(item["bbox"], "bbox") if item["bbox"] is not None else None
            if box is not None and len(box) != 2:
                raise ResultDocumentError("bbox must be [x0, y0, x1, y1]")
            holds.append(
                Hold(
                    id=item["id"],
                    x=item["x"] / width,
                    y=item["y"] / height,
                    type=item["type"],
                    polygon=normalised(item["polygon"], "polygon"),
                    color=item["color"],
                    confidence=float(item["confidence"]),
                    bbox=(box[0][0], box[0][1], box[1][0], box[1][1]) if box else None,
                    route=item["route"],
                )
            )
    except ResultDocumentError:
        raise
    except (KeyError, TypeError, ValueError) as error:
        raise ResultDocumentError(f"malformed holds: {error!r}") from error
    return HoldMap(image_width=width, image_height=height, holds=holds)
