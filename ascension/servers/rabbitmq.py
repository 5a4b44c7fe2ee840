"""A private RabbitMQ node on loopback: its own node name, ports, epmd, cookie and data."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pika

from ascension.servers.process import ManagedProcess, free_port


def _epmd_binary() -> str | None:
    found = shutil.which("epmd")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/erlang/erts-*/bin/epmd"))
    return candidates[-1] if candidates else None


@dataclass
class RabbitMQServer:
    """A node that shares nothing with a system RabbitMQ (or with another test run)."""

    server_path: Path
    base_dir: Path
    port: int = field(default_factory=free_port)
    dist_port: int = field(default_factory=free_port)
    epmd_port: int = field(default_factory=free_port)
    _process: ManagedProcess | None = None

    @property
    def node_name(self) -> str:
        return f"ascension-{self.port}@localhost"

    def url(self, vhost: str = "%2F") -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/{vhost}"

    @property
    def _env(self) -> dict[str, str]:
        return {
            # HOME holds the Erlang cookie that rabbitmqctl must share with the node.
            "HOME": str(self.base_dir),
            "RABBITMQ_NODENAME": self.node_name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_MNESIA_BASE": str(self.base_dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base_dir / "log"),
            "RABBITMQ_CONFIG_FILE": str(self.base_dir / "rabbitmq"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.base_dir / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base_dir / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.base_dir / "rabbitmq.pid"),
            "RABBITMQ_LOGS": "-",
        }

    def _ready(self) -> bool:
        params = pika.URLParameters(self.url() + "?connection_attempts=1&socket_timeout=1")
        pika.BlockingConnection(params).close()
        return True

    def start(self, timeout: float = 90) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        (self.base_dir / "enabled_plugins").write_text("[].\n")
        # Small test machines: do not block publishers when the disk is nearly full.
        (self.base_dir / "rabbitmq.conf").write_text("disk_free_limit.absolute = 50MB\n")
        (self.base_dir / "advanced.config").write_text("[].\n")
        self._process = ManagedProcess(
            "rabbitmq", [str(self.server_path)], self.base_dir / "rabbitmq.log", env=self._env
        )
        self._process.wait_ready(self._ready, timeout)

    def ctl(self, *args: str) -> str:
        """Run rabbitmqctl against this node (vhosts, users, stopping the app)."""
        ctl = self.server_path.with_name("rabbitmqctl")
        out = subprocess.run(
            [str(ctl), "-n", self.node_name, *args],
            env={**os.environ, **self._env},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return out.stdout

    def stop(self) -> None:
        if self._process:
            self._process.stop()
        epmd = _epmd_binary()
        if epmd:
            # epmd daemonises on the node's first start; ours listens on a private port.
            subprocess.run(
                [epmd, "-port", str(self.epmd_port), "-kill"],
                capture_output=True,
                check=False,
                timeout=10,
            )
