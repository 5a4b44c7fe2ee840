"""`ascension bench all` (issue 18 item 8): every bench in one run, one report with the machine.

Shape, not speed: each bench is present with its table and its same-run baseline, the machine is
described, both files are written, and a bench that fails is reported while the others run. The
README's figures are the committed report's tables.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ascension.bench.all import FIGURES_MARKERS, NAMES, render_figures, render_markdown, run_all
from ascension.cli import main
from ascension.docs import README, ROOT, section

BENCH_REPORT = ROOT / "docs" / "bench" / "report.json"


@pytest.mark.unit
def test_the_readme_figures_are_the_committed_bench_report() -> None:
    document = json.loads(BENCH_REPORT.read_text())
    rendered = render_figures(document, source=BENCH_REPORT)
    assert section(README.read_text(), FIGURES_MARKERS) == rendered, (
        "the README's figures differ from docs/bench/report.json: "
        "run `ascension docs figures docs/bench/report.json` and commit README.md"
    )
    assert set(document["benches"]) <= set(NAMES) and document["ok"]
    assert (BENCH_REPORT.parent / "report.md").read_text() == render_markdown(document)


@pytest.mark.slow
@pytest.mark.integration
def test_bench_all_quick_writes_one_report_with_every_bench_and_the_machine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    code = main(["bench", "all", "--quick", "--json", "--out", str(out)])
    document = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    failed = {n: e.get("error") for n, e in document["benches"].items() if e["status"] != "ok"}
    assert code == 0, failed
    assert document["mode"] == "quick" and document["ok"] is True
    assert list(document["benches"]) == list(NAMES)
    for name, entry in document["benches"].items():
        report = entry["report"]
        assert report["bench"] == name
        assert entry["command"].startswith(f"ascension bench {name} ")
        assert report["rows"] and report["columns"], name  # the table, as printed
        assert report["figures"], name
        # Each bench measures against a baseline in the same run; the report keeps it.
        assert report["baselines"] or any("baseline" in " ".join(r).lower() for r in report["rows"])
    machine = document["machine"]
    assert machine["cpus"] >= 1 and machine["memory_gib"] > 0
    assert machine["cpu_model"]
    assert "gpu" in machine  # None where there is none
    assert machine["packages"]["temporalio"] and machine["python"]
    assert machine["servers"]["postgresql"]
    assert json.loads((out / "report.json").read_text()) == document
    markdown = (out / "report.md").read_text()
    assert markdown == render_markdown(document)
    for name in NAMES:
        assert f"## {name}" in markdown


@pytest.mark.slow
def test_a_failing_bench_is_reported_and_skipped_ones_say_so(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dataset"
    document = run_all(
        quick=True,
        data=missing,
        skip=[name for name in NAMES if name != "holds"],
        timeout_s=600,
    )
    assert document["ok"] is False
    holds = document["benches"]["holds"]
    assert holds["status"] == "failed" and holds["error"]
    assert str(missing) in holds["command"]
    assert all(document["benches"][n] == {"status": "skipped"} for n in NAMES if n != "holds")
    markdown = render_markdown(document)
    assert "skipped (`--skip`)" in markdown and "failed in" in markdown
