"""How every `ascension bench` command reports: a readable table, and with ``--json`` one JSON
object as the last line (figures, baselines, ratios, machine) so runs can be compared."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: every figure is one that was measured)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "mean": statistics.fmean(values) if values else float("nan"),
    }


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }
    try:
        with open("/proc/meminfo") as meminfo:
            total_kb = int(meminfo.readline().split()[1])
        info["memory_gib"] = round(total_kb / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    try:
        import torch

        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        info["cuda"] = None
    return info


@dataclass
class BenchReport:
    """Rows for the table and the JSON object (figures, baselines, ratios, goals)."""

    name: str
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    baselines: dict[str, Any] = field(default_factory=dict)
    ratios: dict[str, Any] = field(default_factory=dict)
    goals: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def print(self, *, as_json: bool, console: Console | None = None) -> None:
        console = console or Console(width=None if sys.stdout.isatty() else 140)
        table = Table(title=self.title)
        for column in self.columns:
            table.add_column(column)
        for row in self.rows:
            table.add_row(*row)
        console.print(table)
        for note in self.notes:
            console.print(f"- {note}")
        if as_json:
            document = {
                "bench": self.name,
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "figures": self.figures,
                "baselines": self.baselines,
                "ratios": self.ratios,
                "goals": self.goals,
                # The readable table too (each figure beside its baseline, as printed), so
                # `bench all` can put every bench's table in one report.
                "title": self.title,
                "columns": self.columns,
                "rows": self.rows,
                "notes": self.notes,
                "machine": machine(),
            }
            # Plain print: the last line must be exactly one JSON object, never wrapped.
            print(json.dumps(document, separators=(",", ":"), default=str), flush=True)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"
