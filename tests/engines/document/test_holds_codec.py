"""encode_holds() / decode_holds(): pixel rounding and every hold field kept."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engines.document import ResultDocumentError, decode_holds, encode_holds
from schema.holds import Hold, HoldMap
from tests.engines.document.synthetic import synthetic_climb

pytestmark = pytest.mark.unit


def test_holds_come_back_within_half_a_pixel_with_every_field() -> None:
    hold_map = synthetic_climb(4.0).hold_map
    hold_map.holds.append(Hold(id="user-1", x=0.5, y=0.25, type="crimp"))

    decoded = decode_holds(encode_holds(hold_map))

    assert (decoded.image_width, decoded.image_height) == (1080, 1920)
    assert len(decoded.holds) == len(hold_map.holds)
    half = np.array([0.5 / 1080, 0.5 / 1920]) + 1e-12
    for got, sent in zip(decoded.holds, hold_map.holds, strict=True):
        assert (got.id, got.type, got.color, got.route) == (
            sent.id,
            sent.type,
            sent.color,
            sent.route,
        )
        assert math.isclose(got.confidence, sent.confidence, abs_tol=0.0005)
        assert np.all(np.abs(np.subtract((got.x, got.y), (sent.x, sent.y))) <= half)
        assert len(got.polygon) == len(sent.polygon)
        if sent.polygon:
            assert np.all(np.abs(np.subtract(got.polygon, sent.polygon)) <= half)
        if sent.bbox is None:
            assert got.bbox is None
        else:
            assert got.bbox is not None
            assert np.all(np.abs(np.subtract(got.bbox, sent.bbox)).reshape(2, 2) <= half)


def test_coordinates_are_whole_pixels_of_the_photo() -> None:
    hold = Hold(id="h", x=0.5, y=0.25, type="jug", polygon=[(0.1, 0.2), (0.3, 0.4)])

    item = encode_holds(HoldMap(image_width=1000, image_height=2000, holds=[hold]))["items"][0]

    assert (item["x"], item["y"], item["polygon"], item["bbox"]) == (
        500,
        500,
        [100, 400, 300, 800],
        None,
    )


def test_a_hold_with_non_finite_coordinates_is_refused() -> None:
    hold = Hold(id="h", x=math.nan, y=0.25, type="jug")

    with pytest.raises(ResultDocumentError, match="non-finite"):
        encode_holds(HoldMap(image_width=100, image_height=100, holds=[hold]))


def test_an_odd_polygon_is_refused() -> None:
    block = encode_holds(synthetic_climb(2.0).hold_map)
    block["items"][0]["polygon"].append(7)

    with pytest.raises(ResultDocumentError, match="pairs"):
        decode_holds(block)
