"""Hold maps are bounded in holds, outline points and text, not only in hold count."""

from __future__ import annotations

import pytest

from schema.holds import (
    MAX_HOLD_MAP_BYTES,
    MAX_HOLDS,
    MAX_OUTLINE_POINTS,
    MAX_TOTAL_POINTS,
    Hold,
    HoldMap,
    hold_map_json_bytes,
    hold_map_problems,
    hold_map_size_problems,
)

pytestmark = pytest.mark.unit


def _square(cx: float, cy: float, points: int) -> list[tuple[float, float]]:
    return [(cx + 0.001 * (i % 7), cy + 0.001 * (i // 7 % 7)) for i in range(points)]


def _map(holds: int, points: int) -> HoldMap:
    return HoldMap(
        4032,
        3024,
        [Hold(f"user-{i}", 0.5, 0.5, "crimp", _square(0.5, 0.5, points)) for i in range(holds)],
    )


def test_the_largest_map_within_every_bound_is_accepted_and_small() -> None:
    per_hold = MAX_TOTAL_POINTS // MAX_HOLDS
    largest = _map(MAX_HOLDS, per_hold)
    assert hold_map_problems(largest) == []
    assert hold_map_size_problems(largest) == []
    assert hold_map_json_bytes(largest) <= MAX_HOLD_MAP_BYTES


def test_outline_points_are_bounded_per_hold_and_in_total() -> None:
    one_long = _map(3, 3)
    one_long.holds[1].polygon = _square(0.5, 0.5, MAX_OUTLINE_POINTS + 1)
    problems = hold_map_problems(one_long)
    assert any(f"at most {MAX_OUTLINE_POINTS}" in p and "'user-1'" in p for p in problems)

    many = _map(MAX_HOLDS, MAX_OUTLINE_POINTS)  # each hold fine, the map too dense
    problems = hold_map_size_problems(many)
    assert any(f"at most {MAX_TOTAL_POINTS}" in p for p in problems), problems
    assert hold_map_problems(many) == problems


def test_text_fields_are_bounded() -> None:
    padded = _map(2, 3)
    padded.holds[0].color = "y" * 10_000
    padded.holds[1].id = "user-" + "x" * 10_000
    padded.holds[1].route = "r" * 10_000
    problems = hold_map_size_problems(padded)
    assert any("colour" in p for p in problems)
    assert any("id" in p for p in problems)
    assert any("route" in p for p in problems)
    # Messages quote a bounded prefix, never the 10 KB value.
    assert all(len(p) < 300 for p in problems)


def test_the_byte_bound_counts_the_json_the_workflow_would_receive() -> None:
    small = _map(3, 3)
    assert 0 < hold_map_json_bytes(small) < 2_000
    assert hold_map_size_problems(small, max_bytes=100)[0].startswith("the hold map is ")
