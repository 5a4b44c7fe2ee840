"""Which hold a point touches: outlines with tolerance, discs for holds without outline."""

from __future__ import annotations

import numpy as np
import pytest

from engines.contacts import hold_shapes, touched_hold
from schema.holds import Hold, HoldMap

pytestmark = pytest.mark.unit

W, H = 1000, 2000
SQUARE = [(0.40, 0.40), (0.50, 0.40), (0.50, 0.45), (0.40, 0.45)]  # 100 x 100 px
L_SHAPE = [(0.1, 0.1), (0.3, 0.1), (0.3, 0.15), (0.15, 0.15), (0.15, 0.25), (0.1, 0.25)]


def _shapes(holds: list[Hold], tolerance: float = 10.0, radius: float = 30.0):
    hold_map = HoldMap(image_width=W, image_height=H, holds=holds)
    shapes = hold_shapes(
        hold_map, frame_width=W, frame_height=H, tolerance_px=tolerance, radius_px=radius
    )
    return lambda points: touched_hold(
        np.asarray(points, dtype=np.float64), shapes, tolerance_px=tolerance, radius_px=radius
    )


def test_inside_and_within_tolerance_touch_beyond_it_does_not() -> None:
    touch = _shapes([Hold("sq", 0.45, 0.425, "jug", SQUARE)])

    result = touch([(450, 850), (405, 805), (395, 850), (389, 850), (450, 911), (450, 925)])

    assert result.tolist() == [0, 0, 0, -1, -1, -1]


def test_concave_outline_is_respected() -> None:
    touch = _shapes([Hold("l", 0.2, 0.15, "edge", L_SHAPE)], tolerance=5.0)

    # (250, 400) px lies in the notch of the L, 50 px from any edge.
    result = touch([(120, 300), (250, 250), (250, 400)])

    assert result.tolist() == [0, 0, -1]


def test_points_in_a_holds_box_that_touch_nothing_touch_nothing() -> None:
    """A corner of a disc's box is near enough to be checked but outside the disc: with no
    other point touching, this crashed the climb's segmentation (issue 18, bench load)."""
    touch = _shapes([Hold("jug", 0.5, 0.5, "jug")], radius=30.0)

    result = touch([(525, 1025)])  # 35 px from the centre, inside the 60 x 60 box

    assert result.tolist() == [-1]


def test_holds_without_outline_are_discs() -> None:
    touch = _shapes([Hold("user-1", 0.5, 0.5, "jug")], radius=30.0)

    result = touch([(500, 1000), (520, 1020), (530, 1000), (531, 1000)])

    assert result.tolist() == [0, 0, 0, -1]


def test_nearest_centre_wins_between_overlapping_holds() -> None:
    touch = _shapes([Hold("a", 0.45, 0.425, "jug", SQUARE), Hold("b", 0.52, 0.425, "jug")])

    # Both touch (the disc of b reaches into the square): the nearer centre decides.
    result = touch([(445, 850), (495, 850)])

    assert result.tolist() == [0, 1]


def test_nan_points_touch_nothing_and_many_points_are_chunked() -> None:
    touch = _shapes([Hold("sq", 0.45, 0.425, "jug", SQUARE)])
    points = np.tile([[450.0, 850.0], [np.nan, np.nan]], (5000, 1))

    result = touch(points)

    assert result[::2].tolist() == [0] * 5000
    assert result[1::2].tolist() == [-1] * 5000
