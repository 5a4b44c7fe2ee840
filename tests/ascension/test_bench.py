"""`ascension bench` commands print a table and, with --json, one JSON object as the last line."""

from __future__ import annotations

import json

import pytest

from ascension.bench.orchestration import bench_orchestration
from ascension.settings import Settings

pytestmark = pytest.mark.integration


async def test_orchestration_bench_reports_figures_baseline_and_ratio(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    report = await bench_orchestration(settings, analyses=3, concurrency=2, warmup=1)
    report.print(as_json=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert any("workflow wall time" in line for line in lines)  # the readable table
    document = json.loads(lines[-1])
    assert document["bench"] == "orchestration"
    assert document["figures"]["analyses"] == 3
    # Known route, ghost on: 2 status records, skeleton, advice, ghost, persist, 4 events... all
    # counted from history, never assumed.
    assert document["figures"]["activities_per_analysis"] >= 8
    wall = document["figures"]["wall_ms"]
    assert 0 < wall["p50"] <= wall["p95"] <= wall["p99"]
    assert document["baselines"]["sequential_noop_workflow_wall_ms"]["p50"] > 0
    assert document["ratios"]["wall_p50_vs_baseline"] > 0
    assert document["machine"]["cpus"] >= 1
