"""`ascension bench all`: every bench in one run, one report (markdown + JSON).

Each bench runs in a subprocess of its own (``ascension bench NAME ... --json``): one bench's
servers, pose processes or memory never colour the next one's figures, and a bench that fails is
reported as failed while the others still run. Each bench already measures its figures against a
baseline in the same run (a bare workflow, the bare ``/healthz``, raw pika, a bare MediaPipe loop,
the classical detector, the validator alone); the report keeps each bench's table as printed, so
every figure stays beside its baseline, with the bench's whole JSON object and the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from ascension.bench.report import machine as bench_machine

FIGURES_MARKERS = ("<!-- figures:begin -->", "<!-- figures:end -->")


@dataclass(frozen=True)
class Bench:
    """One bench's arguments: the full run and the ``--quick`` one (small inputs)."""

    name: str
    full: tuple[str, ...]
    quick: tuple[str, ...]


BENCHES: tuple[Bench, ...] = (
    Bench("orchestration", (), ("--analyses", "3", "--real-video-s", "0")),
    Bench("vision", (), ("--walls", "2", "--clip-seconds", "2")),
    Bench("api", (), ("--clients", "5", "--requests", "20", "--ws-samples", "3")),
    Bench("events", (), ("--events", "100")),
    Bench("holds", (), ("--no-sandbox",)),
    Bench("training", (), ("--profiles", "50")),
    Bench(
        "load",
        (),
        (
            "--analyses",
            "3",
            "--gpu-workers",
            "1",
            "--clients",
            "5",
            "--requests",
            "20",
            "--load-processes",
            "1",
            "--climb-s",
            "0",
            "--short-s",
            "2",
        ),
    ),
)
NAMES = tuple(bench.name for bench in BENCHES)
#: Python packages whose versions the figures depend on.
PACKAGES = (
    "temporalio",
    "fastapi",
    "uvicorn",
    "sqlalchemy",
    "asyncpg",
    "pika",
    "aio-pika",
    "mediapipe",
    "opencv-python-headless",
    "numpy",
    "torch",
    "ultralytics",
)


def add_all_parser(benches: Any) -> None:
    every = benches.add_parser(
        "all", help="every bench in subprocesses; one report (markdown + JSON) with the machine"
    )
    every.add_argument("--quick", action="store_true", help="small inputs (a smoke run, minutes)")
    every.add_argument(
        "--data", type=Path, default=None, help="the hold dataset (YOLO export) for bench holds"
    )
    every.add_argument(
        "--skip", type=_names, default=[], help=f"benches to leave out, comma-separated: {NAMES}"
    )
    every.add_argument(
        "--out", type=Path, default=None, help="folder for report.md and report.json"
    )
    every.add_argument(
        "--timeout-s", type=float, default=None, help="per bench; one past it is reported failed"
    )
    every.add_argument("--json", action="store_true", help="last line: the report's JSON object")


def _names(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = sorted(set(names) - set(NAMES))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown bench {', '.join(unknown)}; one of {NAMES}")
    return names


def bench_argv(bench: Bench, *, quick: bool, data: Path | None) -> list[str]:
    argv = ["bench", bench.name, *(bench.quick if quick else bench.full)]
    if bench.name == "holds" and data is not None:
        argv += ["--data", str(data)]
    return [*argv, "--json"]


def run_one(bench: Bench, *, quick: bool, data: Path | None, timeout_s: float | None) -> dict:
    """Run one bench in its own interpreter; its last stdout line is its JSON object."""
    argv = bench_argv(bench, quick=quick, data=data)
    command = [sys.executable, "-m", "ascension.cli", *argv]
    entry: dict[str, Any] = {"command": "ascension " + " ".join(argv)}
    begin = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        entry.update(status="failed", error=f"no answer within {timeout_s:g} s")
        entry["seconds"] = round(time.perf_counter() - begin, 1)
        return entry
    entry["seconds"] = round(time.perf_counter() - begin, 1)
    lines = done.stdout.strip().splitlines()
    document = None
    if done.returncode == 0 and lines:
        try:
            document = json.loads(lines[-1])
        except ValueError:
            document = None
    if not isinstance(document, dict) or document.get("bench") != bench.name:
        tail = (done.stderr or done.stdout).strip().splitlines()[-15:]
        entry.update(status="failed", exit_code=done.returncode, error="\n".join(tail))
        return entry
    document.pop("machine", None)  # once for the whole report
    entry.update(status="ok", report=document)
    return entry


def machine_info() -> dict[str, Any]:
    """CPU model, cores, memory, GPU, OS, Python, package and server versions, commit."""
    info = bench_machine()
    info["cpu_model"] = _cpu_model()
    if hasattr(os, "sched_getaffinity"):
        info["cpus_usable"] = len(os.sched_getaffinity(0))
    info["load_average_1m"] = round(os.getloadavg()[0], 2)
    info["gpu"] = info.pop("cuda", None) or _nvidia_smi()
    info["os"] = platform.platform()
    info["packages"] = {name: _version(name) for name in PACKAGES}
    info["servers"] = _server_versions()
    info["commit"] = _git("rev-parse", "--short", "HEAD")
    info["uncommitted_changes"] = bool(_git("status", "--porcelain", "--untracked-files=no"))
    return info


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _nvidia_smi() -> str | None:
    try:
        done = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _server_versions() -> dict[str, str | None]:
    from ascension.toolchain.components import doctor
    from core.settings import get_settings

    try:
        return {report.name: report.version for report in doctor(get_settings())}
    except Exception as error:  # a report without versions beats no report
        return {"error": f"{type(error).__name__}: {error}"}


def _git(*args: str) -> str | None:
    root = Path(__file__).resolve().parents[2]
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def run_all(
    *,
    quick: bool,
    data: Path | None,
    skip: list[str],
    timeout_s: float | None,
    progress: Any = None,
) -> dict[str, Any]:
    """Every bench not skipped, in order; the report's JSON document."""
    started = datetime.now(UTC)
    benches: dict[str, Any] = {}
    for bench in BENCHES:
        if bench.name in skip:
            benches[bench.name] = {"status": "skipped"}
            continue
        if progress is not None:
            progress(f"bench {bench.name} ...")
        benches[bench.name] = run_one(bench, quick=quick, data=data, timeout_s=timeout_s)
        if progress is not None:
            progress(f"bench {bench.name}: {benches[bench.name]['status']}")
    return {
        "report": "ascension bench all",
        "mode": "quick" if quick else "full",
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "hold_data": str(data) if data else None,
        "machine": machine_info(),
        "benches": benches,
        "ok": all(entry["status"] != "failed" for entry in benches.values()),
    }


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def machine_line(info: dict[str, Any]) -> str:
    gpu = info.get("gpu") or "no GPU"
    local = " + local changes" if info.get("uncommitted_changes") else ""
    return (
        f"{info.get('cpu_model') or 'unknown CPU'}, {info.get('cpus_usable', info.get('cpus'))} "
        f"cores usable (load {info.get('load_average_1m')} at the end), "
        f"{info.get('memory_gib')} GiB RAM, {gpu}; Python {info.get('python')}, "
        f"commit {info.get('commit')}{local}"
    )


def render_tables(document: dict[str, Any], *, heading: str = "###") -> list[str]:
    """Each bench's own table (figures beside baselines), or why it has none."""
    lines: list[str] = []
    for name, entry in document["benches"].items():
        lines += ["", f"{heading} {name}", ""]
        if entry["status"] == "skipped":
            lines.append("skipped (`--skip`)")
            continue
        lines.append(f"`{entry['command']}`: {entry['status']} in {entry['seconds']} s")
        if entry["status"] != "ok":
            lines += ["", "```", entry.get("error", ""), "```"]
            continue
        report = entry["report"]
        lines += ["", f"*{_cell(report.get('title', name))}*", ""]
        columns = report.get("columns") or ["figures"]
        lines.append("| " + " | ".join(_cell(c) for c in columns) + " |")
        lines.append("|" + "---|" * len(columns))
        for row in report.get("rows") or []:
            lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
        lines += [f"- {_cell(note)}" for note in report.get("notes") or []]
    return lines


def render_markdown(document: dict[str, Any]) -> str:
    info = document["machine"]
    lines = [
        f"# Ascension bench report ({document['mode']} run)",
        "",
        f"{document['started']} to {document['finished']}, on {machine_line(info)}.",
        "",
        "| machine | |",
        "|---|---|",
        f"| OS | {_cell(info.get('os'))} |",
        f"| servers | {_cell(_pairs(info.get('servers') or {}))} |",
        f"| packages | {_cell(_pairs(info.get('packages') or {}))} |",
    ]
    lines += render_tables(document, heading="##")
    return "\n".join(lines) + "\n"


def _pairs(values: dict[str, Any]) -> str:
    return ", ".join(f"{key} {value}" for key, value in values.items() if value)


def render_figures(document: dict[str, Any], *, source: Path) -> str:
    """The README's figures section: where the report came from, then its tables."""
    info = document["machine"]
    root = Path(__file__).resolve().parents[2]
    shown = source.resolve()
    shown = shown.relative_to(root) if shown.is_relative_to(root) else Path(source.name)
    lines = [
        f"Generated by `ascension docs figures {shown}` from one `ascension bench all` "
        f"{document['mode']} run ({document['started']}) on {machine_line(info)}.",
        "Rerun: `ascension bench all --json --out DIR` (add `--quick` for small inputs,",
        "`--data DIR` for the hold dataset), then `ascension docs figures DIR/report.json`.",
    ]
    cores = info.get("cpus_usable") or info.get("cpus") or 1
    if (info.get("load_average_1m") or 0) > cores:
        lines.append(
            f"The machine was shared (load average {info['load_average_1m']} on {cores} cores "
            "when the run ended): latencies include waiting for a core."
        )
    missing = [name for name in NAMES if name not in document["benches"]]
    if missing:
        lines.append(f"Not in this run (added to `bench all` after it): {', '.join(missing)}.")
    lines += render_tables(document, heading="####")
    return "\n".join(lines)


def cmd_bench_all(args: argparse.Namespace) -> int:
    """Run the benches, write report.md and report.json, print the JSON last with --json."""
    from rich.console import Console

    console = Console(stderr=True)
    document = run_all(
        quick=args.quick,
        data=args.data,
        skip=args.skip,
        timeout_s=args.timeout_s,
        progress=lambda line: console.print(line),
    )
    stamp = document["started"].replace(":", "").replace("-", "")
    out = args.out or Path(".data") / "bench" / f"all-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(document, indent=1, default=str) + "\n")
    (out / "report.md").write_text(render_markdown(document))
    console.print(f"report: {out / 'report.md'} and {out / 'report.json'}")
    if args.json:
        print(json.dumps(document, separators=(",", ":"), default=str), flush=True)
    return 0 if document["ok"] else 1
