"""`ascension bench load` at CI size: 10 short analyses at once through the API, on two GPU-worker
processes and the production CPU worker, then 20 API clients from two load processes.

What is asserted is that nothing is lost, never a speed: every analysis started is completed in
the app, its row is completed and its result document is stored; every API request answered as
expected; and the figures the bench promises (throughput, p50/p95 time to result, overhead from
history, the API rows against /healthz) are in its JSON line.
"""

from __future__ import annotations

import json

import pytest

from ascension.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.integration]

ANALYSES = 10
CLIENTS = 20


def test_every_concurrent_analysis_completes_and_the_api_answers_every_client(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        [
            "bench",
            "load",
            "--analyses",
            str(ANALYSES),
            "--clients",
            str(CLIENTS),
            "--requests",
            "100",
            "--climb-s",
            "0",
            "--json",
        ]
    )
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    document = json.loads(lines[-1])
    assert document["bench"] == "load"
    figures = document["figures"]
    # Nothing lost: each analysis completed in the app, in the database and in the store.
    assert figures.get("first_problem") is None, figures.get("first_problem")
    assert figures["analyses"] == ANALYSES
    assert figures["completed"] == ANALYSES
    assert figures["completed_rows"] == ANALYSES
    assert figures["result_documents_stored"] == ANALYSES
    assert document["goals"]["all_completed"] is True
    assert figures["gpu_workers"] == 2
    ttr = figures["time_to_result_s"]
    assert ttr["n"] == ANALYSES and 0 < ttr["p50"] <= ttr["p95"]
    assert figures["throughput_per_min"] > 0
    overhead = figures["orchestration_overhead_ms"]
    assert overhead["n"] == ANALYSES and 0 < overhead["p50"] <= overhead["p95"]
    for operation in ("healthz", "get_result"):
        row = figures[f"api_{operation}"]
        assert (row["clients"], row["load_processes"]) == (CLIENTS, 2)
        assert row["requests"] == 100
        assert row["errors"] == 0, row.get("first_error")
    assert "climb" not in figures  # --climb-s 0: the timed climb is skipped
