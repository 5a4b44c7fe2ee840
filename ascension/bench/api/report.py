"""The report of `ascension bench api`: one row per operation and concurrency against the
/healthz floor, the goals, and the JSON figures."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ascension.bench.api.climbers import OPERATIONS
from ascension.bench.api.measure import Measured
from ascension.bench.report import BenchReport, summary

GOAL_P95_MS = 20.0
GOAL_RATIO_VS_HEALTHZ = 2.0
GOAL_WS_P95_MS = 100.0
LABELS = {
    "healthz": "GET /healthz (bare)",
    "request_upload": "POST request-upload",
    "start": "POST start",
    "get_result": "GET completed analysis (50 KB gzip)",
}


def _pct(share: float | None) -> float | None:
    return None if share is None else 100 * share


@dataclass
class Figure:
    operation: str
    clients: int
    measured: Measured

    @property
    def stats(self) -> dict[str, float]:
        return summary(self.measured.latencies_s)

    def as_json(self, floor: Figure | None) -> dict[str, Any]:
        stats = self.stats
        figure: dict[str, Any] = {
            "n": stats["n"],
            "p50_ms": stats["p50"] * 1000,
            "p95_ms": stats["p95"] * 1000,
            "p99_ms": stats["p99"] * 1000,
            "mean_ms": stats["mean"] * 1000,
            "requests_per_s": stats["n"] / self.measured.wall_s,
            "errors": self.measured.errors,
            "client_cpu_pct": 100 * self.measured.client_cpu,
            "server_cpu_pct": _pct(self.measured.server_cpu),
            "machine_busy_pct": _pct(self.measured.machine_busy),
        }
        if self.measured.first_error:
            figure["first_error"] = self.measured.first_error
        if floor is not None:
            figure["p95_vs_healthz"] = stats["p95"] / floor.stats["p95"]
        return figure


def build_report(
    figures: list[Figure],
    *,
    clients: list[int],
    requests: int,
    load_processes: int,
    document_bytes: int,
    ws: list[float] | None,
    ws_problem: str | None,
    broker: bool,
) -> BenchReport:
    report = BenchReport(
        name="api",
        title=(
            f"API on real servers: uvicorn in 1 subprocess; {requests} requests per row; "
            f"load: {load_processes} process(es) of httpx.AsyncClient"
        ),
        columns=[
            "operation",
            "clients",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "req/s",
            "p95 / healthz p95",
            "errors",
            "client CPU %",
            "server CPU %",
            "machine busy %",
        ],
    )
    floors = {f.clients: f for f in figures if f.operation == "healthz"}
    operations: dict[str, dict[str, Any]] = {op: {} for op in OPERATIONS}
    baselines: dict[str, dict[str, Any]] = {"healthz": {}}
    ratios: dict[str, dict[str, float]] = {f"{op}_p95_vs_healthz": {} for op in OPERATIONS}
    met: dict[str, dict[str, bool]] = {op: {} for op in OPERATIONS}
    saturated_client = False
    for figure in figures:
        floor = floors.get(figure.clients)
        is_floor = figure.operation == "healthz"
        data = figure.as_json(None if is_floor else floor)
        key = str(figure.clients)
        if is_floor:
            baselines["healthz"][key] = data
        else:
            operations[figure.operation][key] = data
            ratio = data["p95_vs_healthz"]
            ratios[f"{figure.operation}_p95_vs_healthz"][key] = ratio
            met[figure.operation][key] = (
                ratio <= GOAL_RATIO_VS_HEALTHZ and data["p95_ms"] < GOAL_P95_MS
            )
        saturated_client = saturated_client or figure.measured.client_cpu >= 0.9
        server, machine = data["server_cpu_pct"], data["machine_busy_pct"]
        report.rows.append(
            [
                LABELS[figure.operation],
                key,
                f"{data['p50_ms']:.1f}",
                f"{data['p95_ms']:.1f}",
                f"{data['p99_ms']:.1f}",
                f"{data['requests_per_s']:.0f}",
                "1.00 (floor)" if is_floor else f"{data['p95_vs_healthz']:.2f}",
                str(data["errors"]),
                f"{data['client_cpu_pct']:.0f}",
                "" if server is None else f"{server:.0f}",
                "" if machine is None else f"{machine:.0f}",
            ]
        )
    ws_figures = None
    if ws:
        stats = summary(ws)  # already milliseconds
        ws_figures = dict(stats)
        report.rows.append(
            [
                "WebSocket: event sent → received",
                "1",
                f"{stats['p50']:.1f}",
                f"{stats['p95']:.1f}",
                f"{stats['p99']:.1f}",
                "",
                "",
                "0",
                "",
                "",
                "",
            ]
        )
    report.figures = {
        "requests_per_row": requests,
        "clients": clients,
        "load_generator": {
            "processes": load_processes,
            "client": "one httpx.AsyncClient (one keep-alive connection) per simulated client",
            "saturated": saturated_client,
        },
        "server": {
            "processes": 1,
            "server": "uvicorn (uvloop, httptools)",
            "cores": os.cpu_count(),
        },
        "result_document_gzip_bytes": document_bytes,
        "operations": operations,
        "ws_latency_ms": ws_figures,
        "ws_transport": "rabbitmq" if broker else "table poll",
    }
    report.baselines = baselines
    report.ratios = ratios
    report.goals = {
        "p95_ms": GOAL_P95_MS,
        "p95_vs_healthz_max": GOAL_RATIO_VS_HEALTHZ,
        "ws_p95_ms": GOAL_WS_P95_MS,
        "met": met,
        "ws_met": None if ws_figures is None else ws_figures["p95"] < GOAL_WS_P95_MS,
    }
    report.notes.append(
        "closed loop: each client sends its next request when the previous one answered; "
        "the floor is the app's bare GET /healthz on the same server at the same concurrency"
    )
    report.notes.append(
        f"goals: p95 < {GOAL_P95_MS:g} ms and <= {GOAL_RATIO_VS_HEALTHZ:g}x the floor's p95; "
        f"WebSocket p95 < {GOAL_WS_P95_MS:g} ms"
    )
    if saturated_client:
        report.notes.append(
            "the load generator used ~100 % of a core in some rows: it was (part of) the "
            "bottleneck there; try --load-processes 2 on a machine with spare cores"
        )
    if ws_problem:
        report.notes.append(f"WebSocket latency {ws_problem}")
    return report
