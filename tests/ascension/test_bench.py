"""`ascension bench` commands print a table and, with --json, one JSON object as the last line."""

from __future__ import annotations

import json

import pytest

from ascension.bench.orchestration import bench_orchestration
from core.settings import Settings

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
    # Bookkeeping runs as local activities: the start, then one workflow task per GPU step.
    assert document["figures"]["workflow_tasks_per_analysis"] == 4
    assert document["figures"]["local_activities_per_analysis"] >= 7
    history = document["figures"]["history_overhead_ms"]
    assert 0 < history["p50"] <= history["p95"]
    assert isinstance(document["goals"]["history_overhead_p50_met"], bool)
    assert document["machine"]["cpus"] >= 1


@pytest.mark.slow
def test_vision_bench_compares_against_the_bare_loop_and_prints_json(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ascension.bench.vision import bench_vision
    from ascension.media import write_clip

    clip = write_clip(tmp_path / "clip.mp4", image="basketball1.png", seconds=2.0, size=(360, 640))
    report = bench_vision(clip, None, walls=2, ik_batch=8, ik_iterations=5)
    report.print(as_json=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert any("skeleton wall time" in line for line in lines)
    document = json.loads(lines[-1])
    assert document["bench"] == "vision"
    assert document["figures"]["frames"] == 60
    assert document["baselines"]["bare_loop_s"] > 0
    assert document["ratios"]["skeleton_vs_bare"] > 0
    assert document["ratios"]["skeleton_warm_vs_bare"] > 0
    assert document["figures"]["coverage_warm"] >= 0.9
    assert 0 <= document["figures"]["holds_f1"] <= 1
    assert document["figures"]["ik_ms_per_pose_cpu"] > 0
