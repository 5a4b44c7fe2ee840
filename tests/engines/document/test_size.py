"""The size goal: a 30 s, 30 fps analysis with its ghost in at most 50 KB of gzip."""

from __future__ import annotations

import numpy as np
import pytest

from engines.document import build_result_document, gzip_size
from schema.analysis import MetricsSummary
from tests.engines.document.synthetic import advice, move_figures, synthetic_climb

pytestmark = pytest.mark.unit

GOAL_BYTES = 50_000


def test_a_30_second_climb_with_its_ghost_fits_in_50_kb() -> None:
    climb = synthetic_climb(30.0, seed=7)
    # The figure means something only on a skeleton as rough as a smoothed MediaPipe one.
    assert 0.5 <= climb.jitter_px <= 1.2
    document = build_result_document(
        analysis_id="0b7e6a52-3f0c-4d55-9a3e-1d2f9c0b8e41",
        hold_map=climb.hold_map,
        skeleton=climb.skeleton,
        metrics=MetricsSummary(
            max_reach_cm=168.2, avg_tension=0.41, movement_efficiency=0.78, hold_count=20
        ),
        moves=[move.to_dict() for move in climb.moves],
        move_figures=move_figures(climb.moves, np.random.default_rng(7)),
        advice=advice(climb.moves, 10),
        ghost=climb.ghost,
        ghost_moves=climb.ghost_moves,
    )
    assert (len(climb.skeleton), len(document["holds"]["items"])) == (900, 20)
    assert (len(document["moves"]), len(document["advice"])) == (15, 10)

    best, default = gzip_size(document), gzip_size(document, level=6)

    print(f"\n30 s / 30 fps with ghost: {best} B gzip -9, {default} B gzip -6")
    assert best <= default <= GOAL_BYTES
