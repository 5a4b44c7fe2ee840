"""`ascension bench api` end to end with tiny counts: the servers start, every row is measured
with no failed request, and the last line is the documented JSON object (figures, not speed)."""

from __future__ import annotations

import json

import pytest

from ascension.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_api_bench_measures_each_operation_against_healthz(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        ["bench", "api", "--requests", "20", "--clients", "5", "--ws-samples", "3", "--json"]
    )
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert any("POST start" in line for line in lines)  # the readable table
    document = json.loads(lines[-1])
    assert document["bench"] == "api"
    figures = document["figures"]
    assert figures["clients"] == [5]
    assert figures["requests_per_row"] == 20
    assert figures["load_generator"]["processes"] == 1
    # ~50 KB gzip, as the seed's result documents.
    assert 45_000 <= figures["result_document_gzip_bytes"] <= 60_000
    floor = document["baselines"]["healthz"]["5"]
    assert floor["n"] == 20 and floor["errors"] == 0
    for operation in ("request_upload", "start", "get_result"):
        row = figures["operations"][operation]["5"]
        assert row["n"] == 20
        assert row["errors"] == 0, row.get("first_error")
        assert 0 < row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"]
        assert row["requests_per_s"] > 0
        ratio = document["ratios"][f"{operation}_p95_vs_healthz"]["5"]
        assert ratio == pytest.approx(row["p95_ms"] / floor["p95_ms"])
        assert isinstance(document["goals"]["met"][operation]["5"], bool)
    ws = figures["ws_latency_ms"]
    assert ws is not None, "the WebSocket latency was not measured"
    assert ws["n"] == 3 and 0 < ws["p50"] <= ws["p95"]
    assert figures["ws_transport"] in {"rabbitmq", "table poll"}
    assert document["machine"]["cpus"] >= 1
