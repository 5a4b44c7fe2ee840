"""What a row of `ascension bench api` measures besides latency: CPU time of the API process
and of the whole machine (Linux /proc; None elsewhere), and the figures one row yields."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Measured:
    latencies_s: list[float]
    errors: int
    first_error: str | None
    wall_s: float
    #: Busiest load process's CPU time over its wall time (1.0 = one core saturated).
    client_cpu: float
    #: The API process's CPU time (all its threads) over the row's wall time.
    server_cpu: float | None
    #: Share of all the machine's cores busy during the row (every server, client, database).
    machine_busy: float | None


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (Linux /proc); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[int, int] | None:
    """(busy, total) jiffies of all cores so far (Linux /proc/stat); None elsewhere."""
    try:
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values) - idle, sum(values)


def busy_share(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    if before is None or after is None or after[1] == before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])
