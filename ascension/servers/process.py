"""Process plumbing shared by the server runners: ports, readiness, clean shutdown."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


class ServerStartError(RuntimeError):
    """A server did not come up; the message carries the end of its log."""


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A TCP port on loopback that nothing uses right now, below the ephemeral range.

    Ports the kernel hands out (bind to 0) come from the ephemeral range, where any outgoing
    connection may take the same port as its local end before the server binds it (seen as
    `eaddrinuse` from RabbitMQ under load). Picking below that range avoids the race.
    """
    high = min(_ephemeral_low(), 65536) - 1
    for _ in range(200):
        port = random.randint(15000, high) if high > 15000 else 0
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free TCP port on loopback")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def log_tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class ManagedProcess:
    """A server process whose output goes to a log file, never to our stdout.

    Logging to a file matters beyond tidiness: daemons a server forks (Erlang's epmd) inherit
    its file descriptors, and one holding the CI job's pipe open would keep the job from ending.
    """

    def __init__(
        self,
        name: str,
        cmd: Sequence[str],
        log_path: Path,
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(
                list(cmd),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                cwd=cwd,
                start_new_session=True,  # Ctrl-C in `ascension dev` is handled by us, not them.
            )

    def wait_ready(self, ready: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerStartError(
                    f"{self.name} exited with code {self.proc.returncode} while starting; "
                    f"log {self.log_path}:\n{log_tail(self.log_path)}"
                )
            try:
                if ready():
                    return
            except Exception:
                pass
            time.sleep(0.2)
        self.stop()
        raise ServerStartError(
            f"{self.name} was not ready after {timeout:.0f}s; log {self.log_path}:\n"
            f"{log_tail(self.log_path)}"
        )

    def stop(self, timeout: float = 20, *, sig: int = signal.SIGTERM) -> None:
        """Send ``sig`` to the process group, then SIGKILL what is left after ``timeout``."""
        if self.proc.poll() is not None:
            return
        # The whole process group: servers such as rabbitmq-server are shell scripts whose
        # real work happens in a child.
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
