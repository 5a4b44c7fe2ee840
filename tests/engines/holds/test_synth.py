from __future__ import annotations

import numpy as np
import pytest

from engines.holds.synth import generate_wall
from engines.holds.synth.palette import WALL_COLORS
from schema.holds import HOLD_TYPES, HoldMap, validate_hold_map
from tests.engines.holds.walls import FLOOR_SEEDS, wall

pytestmark = pytest.mark.unit


def test_same_seed_same_wall() -> None:
    first, second = generate_wall(7, width=320, height=240), generate_wall(7, width=320, height=240)

    assert np.array_equal(first.image, second.image)
    assert np.array_equal(first.labels, second.labels)
    assert first.holds == second.holds


def test_other_seed_other_wall() -> None:
    first, second = generate_wall(7, width=320, height=240), generate_wall(8, width=320, height=240)
    assert not np.array_equal(first.image, second.image)


def test_size_is_honoured() -> None:
    synthetic = generate_wall(3, width=500, height=300)
    assert synthetic.image.shape == (300, 500, 3)
    assert synthetic.labels.shape == (300, 500)


def test_ground_truth_is_consistent() -> None:
    synthetic = wall(FLOOR_SEEDS[0])

    assert 15 <= len(synthetic.holds) <= 120
    assert int(synthetic.labels.max()) == len(synthetic.holds)
    areas = np.bincount(synthetic.labels.ravel(), minlength=len(synthetic.holds) + 1)[1:]
    assert (areas > 0).all()
    for hold in synthetic.holds:
        assert hold.type in HOLD_TYPES
        x0, y0, x1, y1 = hold.bbox
        assert 0 <= x0 < hold.x < x1 <= 1 and 0 <= y0 < hold.y < y1 <= 1
        if hold.type == "volume":
            assert hold.route == ""
        else:
            assert hold.route == hold.color


def test_truth_passes_hold_map_validation() -> None:
    synthetic = wall(FLOOR_SEEDS[1])
    validate_hold_map(HoldMap(1024, 768, synthetic.holds))


def test_walls_are_varied() -> None:
    walls = [generate_wall(seed, width=400, height=300) for seed in range(12)]
    kinds = {h.type for s in walls for h in s.holds}
    colours = {h.color for s in walls for h in s.holds}

    assert kinds >= {"jug", "crimp", "sloper", "pinch", "pocket", "foot_chip", "volume"}
    assert len(colours) >= 8
    assert len({s.wall_color for s in walls}) >= 4
    assert {s.wall_color for s in walls} <= set(WALL_COLORS)
    # Some routes are set in a colour close to the wall's.
    assert sum(int((s.contrast < 20).sum()) for s in walls) >= 5


def test_bare_wall_has_no_holds() -> None:
    synthetic = generate_wall(2, width=400, height=300, bare=True)
    assert synthetic.holds == [] and not synthetic.labels.any()
    # T-nuts and seams are still there: the wall is not a flat colour.
    assert synthetic.image.std() > 3


def test_too_small_is_refused() -> None:
    with pytest.raises(ValueError):
        generate_wall(1, width=32, height=32)
