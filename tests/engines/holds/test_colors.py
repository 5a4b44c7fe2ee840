from __future__ import annotations

import numpy as np
import pytest

from engines.holds.colors import COLOR_NAMES, body_color, color_name, group_routes
from engines.holds.synth.palette import HOLD_COLORS

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("name", sorted(HOLD_COLORS))
def test_names_the_setting_colours(name: str) -> None:
    assert color_name(np.array(HOLD_COLORS[name])) == name


@pytest.mark.parametrize(
    ("bgr", "name"),
    [
        ((0.05, 0.05, 0.05), "black"),
        ((0.97, 0.97, 0.97), "white"),
        ((0.5, 0.5, 0.5), "grey"),
        ((0.0, 0.0, 1.0), "red"),
        ((0.0, 1.0, 0.0), "green"),
        ((1.0, 0.0, 0.0), "blue"),
        ((0.0, 1.0, 1.0), "yellow"),
        ((0.6, 0.1, 0.45), "purple"),
        ((1.0, 0.0, 1.0), "pink"),
    ],
)
def test_names_primaries(bgr: tuple[float, float, float], name: str) -> None:
    assert color_name(np.array(bgr)) == name


def test_names_are_known() -> None:
    rng = np.random.default_rng(0)
    assert {color_name(c) for c in rng.uniform(0, 1, (500, 3))} <= set(COLOR_NAMES)


def test_body_colour_ignores_recess_and_chalk() -> None:
    red = np.tile([0.1, 0.1, 0.8], (100, 1)).astype(np.float32)
    red[:15] = 0.02  # the dark opening
    red[-15:] = 0.95  # chalk
    assert color_name(body_color(red)) == "red"
    with pytest.raises(ValueError):
        body_color(np.zeros((0, 3), np.float32))


def test_routes_follow_colour_and_split_shades() -> None:
    colours = np.array(
        [
            [0.1, 0.8, 0.9],  # yellow
            [0.12, 0.78, 0.92],  # yellow
            [0.75, 0.4, 0.1],  # blue
            [0.78, 0.42, 0.12],  # blue
            [0.35, 0.2, 0.05],  # a much darker blue: another route
            [0.36, 0.21, 0.06],
            [0.5, 0.5, 0.5],  # a grey volume
        ],
        np.float32,
    )
    names = [color_name(c) for c in colours]
    routes = group_routes(colours, names, volumes=[False] * 6 + [True])

    assert routes[0] == routes[1] == "yellow"
    assert routes[2] == routes[3]
    assert routes[4] == routes[5] != routes[2]
    assert {routes[2], routes[4]} == {"blue", "blue-2"}
    assert routes[6] == ""


def test_routes_need_one_entry_per_hold() -> None:
    with pytest.raises(ValueError):
        group_routes(np.zeros((2, 3), np.float32), ["red"], volumes=[False, False])
