"""Benchmark: result-document size and speed for a 30-second and a 5-minute climb.

Run ``python -m tests.engines.document.bench_document``; prints bytes per section and gzip level
and milliseconds per step (no assertions: the size goal is tested in ``test_size.py``).
"""

from __future__ import annotations

import gzip
import time
from typing import Any

import numpy as np

from engines.document import build_result_document, decode_result_document, encode_json
from schema.analysis import MetricsSummary
from tests.engines.document.synthetic import advice, move_figures, synthetic_climb

SECTIONS = ("holds", "skeleton", "ghost", "moves", "move_figures", "advice", "ghost_moves")


def _gzip(value: Any, level: int = 9) -> int:
    return len(gzip.compress(encode_json(value), compresslevel=level, mtime=0))


def run(seconds: float) -> None:
    climb = synthetic_climb(seconds)
    moves = [move.to_dict() for move in climb.moves]
    figures = move_figures(climb.moves, np.random.default_rng(0))
    items = advice(climb.moves, len(moves) * 2 // 3)
    clock = time.perf_counter()
    document = build_result_document(
        analysis_id="bench",
        hold_map=climb.hold_map,
        skeleton=climb.skeleton,
        metrics=MetricsSummary(max_reach_cm=168.2, avg_tension=0.41, hold_count=20),
        moves=moves,
        move_figures=figures,
        advice=items,
        ghost=climb.ghost,
        ghost_moves=climb.ghost_moves,
    )
    built = time.perf_counter()
    raw = encode_json(document)
    encoded = time.perf_counter()
    decode_result_document(document)
    decoded = time.perf_counter()
    print(
        f"{seconds:.0f} s, {len(climb.skeleton)} frames, {len(climb.hold_map.holds)} holds, "
        f"{len(moves)} moves, {len(items)} advice items; jitter {climb.jitter_px:.2f} px"
    )
    print(
        f"  build {1000 * (built - clock):.0f} ms, encode_json {1000 * (encoded - built):.0f} ms, "
        f"decode {1000 * (decoded - encoded):.0f} ms"
    )
    for level in (1, 6, 9):
        clock = time.perf_counter()
        size = len(gzip.compress(raw, compresslevel=level, mtime=0))
        took = time.perf_counter() - clock
        print(
            f"  gzip -{level}: {size / 1000:7.1f} kB in {1000 * took:.0f} ms"
            f" (raw JSON {len(raw) / 1000:.0f} kB)"
        )
    print(
        "  by section (gzip -9, alone): "
        + ", ".join(f"{name} {_gzip(document[name]) / 1000:.1f} kB" for name in SECTIONS)
    )
    print(
        "  skeleton channels: "
        + ", ".join(
            f"{name} {_gzip(document['skeleton'][name]) / 1000:.1f} kB"
            for name in ("x", "y", "z", "visibility", "time_ms", "quality")
        )
    )


def main() -> None:
    for seconds in (30.0, 300.0):
        run(seconds)


if __name__ == "__main__":
    main()
