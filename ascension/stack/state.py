"""The stack's record of what it started (``stack.json`` in the state folder), and stopping it.

`stack up` exits once everything is healthy, so `status` and `down` are other processes: they
find the components through this file. Each entry keeps the process's start time as the kernel
counts it, so a pid the system has since given to another program is never signalled.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

STATE_FILE = "stack.json"


@dataclass(frozen=True)
class Component:
    """One started process; ``pid`` leads its own process group (it was started in a new
    session), so stopping it stops the children it forked as well."""

    name: str
    pid: int
    started: int  # /proc/PID/stat field 22: start time in clock ticks since boot
    port: int | None
    log: str
    stop_signal: int = int(signal.SIGTERM)
    #: RabbitMQ's epmd daemonises out of the node's process group; stopped by its port.
    epmd_port: int | None = None


def process_start_ticks(pid: int) -> int | None:
    """The kernel's start time of ``pid``; None when no such (living) process exists."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces or parentheses: fields start after its ')'.
    fields = raw[raw.rindex(")") + 2 :].split()
    if fields[0] in {"Z", "X"}:  # a zombie has ended; only its exit status is left
        return None
    return int(fields[19])


def is_running(component: Component) -> bool:
    return process_start_ticks(component.pid) == component.started


def record(name: str, pid: int, port: int | None, log: Path, **extra: int | None) -> Component:
    started = process_start_ticks(pid)
    if started is None:
        raise RuntimeError(f"{name} (pid {pid}) ended as it started; see {log}")
    return Component(name, pid, started, port, str(log), **extra)  # type: ignore[arg-type]


def save(state_dir: Path, components: list[Component]) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / STATE_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps([asdict(c) for c in components], indent=2) + "\n")
    temporary.replace(path)


def load(state_dir: Path) -> list[Component]:
    path = state_dir / STATE_FILE
    if not path.exists():
        return []
    return [Component(**entry) for entry in json.loads(path.read_text())]


def clear(state_dir: Path) -> None:
    (state_dir / STATE_FILE).unlink(missing_ok=True)


def _signal_group(component: Component, signum: int) -> None:
    if not is_running(component):
        return
    try:
        if os.getpgid(component.pid) == component.pid:
            os.killpg(component.pid, signum)
        else:  # not a group leader (never the case for what we start): the process alone
            os.kill(component.pid, signum)
    except ProcessLookupError:
        pass


def group_members(pgid: int) -> list[int]:
    """Living processes of process group ``pgid`` (from /proc)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        if fields[0] not in {"Z", "X"} and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def stop(component: Component, timeout: float = 30) -> bool:
    """Ask the component to stop, wait, then kill what is left of its group; True if anything
    had to be killed. A component already gone is left alone: its pid, and so its group id,
    may belong to someone else by now."""
    if not is_running(component):
        return False
    _signal_group(component, component.stop_signal)
    deadline = time.monotonic() + timeout
    while is_running(component) and time.monotonic() < deadline:
        time.sleep(0.1)
    killed = False
    if is_running(component):
        _signal_group(component, signal.SIGKILL)
        killed = True
    # Children the leader left behind (it ended first, or was killed) share its group id.
    for pid in group_members(component.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            killed = True
    deadline = time.monotonic() + 10
    while (is_running(component) or group_members(component.pid)) and (time.monotonic() < deadline):
        time.sleep(0.1)
    return killed
