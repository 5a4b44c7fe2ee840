"""`ascension bench training`: a table, then one JSON object last with figures, baselines and
ratios; the random profiles are the same for the same seed."""

from __future__ import annotations

import json
import random

import pytest

from ascension.bench.training import bench_training, random_profile
from ascension.cli import main

pytestmark = pytest.mark.unit


def test_profiles_are_seeded() -> None:
    first = [random_profile(random.Random(7)) for _ in range(3)]
    again = [random_profile(random.Random(7)) for _ in range(3)]
    assert first == again


def test_report_has_figures_baselines_and_ratios(capsys: pytest.CaptureFixture[str]) -> None:
    bench_training(profiles=60, seed=1).print(as_json=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert any("generate_plan" in line for line in lines)
    document = json.loads(lines[-1])
    assert document["bench"] == "training"
    generate = document["figures"]["generate_ms"]
    assert generate["n"] == 60 and 0 < generate["p50"] <= generate["p95"]
    assert document["baselines"]["check_plan_ms"]["p50"] > 0
    assert document["ratios"]["generate_p50_vs_check_plan"] > 0
    assert document["machine"]["cpus"] >= 1


def test_cli_registers_the_bench(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "training", "--profiles", "55", "--json"]) == 0
    document = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert document["figures"]["profiles"] == 55
