"""`ascension bench events`: its table, then one JSON object (figures, baseline, ratio)."""

from __future__ import annotations

import json

import pytest

from ascension.bench.events import bench_events
from core.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_events_bench_reports_confirmed_rate_latency_and_raw_baseline(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    report = bench_events(settings, events=40, warmup=5)
    report.print(as_json=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert any("confirmed publish" in line for line in lines)  # the readable table
    document = json.loads(lines[-1])
    assert document["bench"] == "events"
    figures = document["figures"]
    assert figures["events"] == 40
    assert figures["publish_confirmed_events_per_s"] > 0
    assert figures["publish_confirmed_ms"]["n"] == 40
    latency = figures["consumer_latency_ms"]
    # Every event reached the consumer, after it was stamped, in a plausible time.
    assert latency["n"] == 40
    assert 0 <= latency["p50"] <= latency["p95"] <= latency["p99"] < 60_000
    assert document["baselines"]["raw_publish_no_confirm_events_per_s"] > 0
    assert document["ratios"]["confirm_cost"] > 0
    assert document["goals"]["consumer_latency_p95_ms"] == 100.0
    assert document["machine"]["cpus"] >= 1
