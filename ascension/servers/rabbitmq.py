"""A private RabbitMQ node on loopback: its own node name, ports, epmd, cookie and data."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pika

from ascension.servers.process import ManagedProcess, free_port


def _epmd_binary() -> str | None:
    found = shutil.which("epmd")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/erlang/erts-*/bin/epmd"))
    return candidates[-1] if candidates else None


def _erlang_binary(text: str) -> str:
    """``text`` as an Erlang binary literal for advanced.config."""
    if not text.isascii() or not text.isprintable():
        raise ValueError("RabbitMQ user, password and vhost must be printable ASCII")
    return '<<"' + text.replace("\\", "\\\\").replace('"', '\\"') + '">>'


@dataclass
class RabbitMQServer:
    """A node that shares nothing with a system RabbitMQ (or with another test run).

    ``user``, ``password`` and ``vhost`` are the node's default user and vhost, created by
    RabbitMQ itself on the node's first boot (so the password never appears on a command line);
    a restarted node keeps the ones it has.
    """

    server_path: Path
    base_dir: Path
    port: int = field(default_factory=free_port)
    dist_port: int = field(default_factory=free_port)
    epmd_port: int = field(default_factory=free_port)
    user: str = "guest"
    password: str = "guest"
    vhost: str = "/"
    _process: ManagedProcess | None = None

    @property
    def node_name(self) -> str:
        return f"ascension-{self.port}@localhost"

    @property
    def log_path(self) -> Path:
        return self.base_dir / "rabbitmq.log"

    @property
    def pid(self) -> int | None:
        return self._process.proc.pid if self._process else None

    def url(self, vhost: str | None = None) -> str:
        """The AMQP URL of the default user; ``vhost`` already URL-quoted (default: ours)."""
        credentials = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        path = quote(self.vhost, safe="") if vhost is None else vhost
        return f"amqp://{credentials}@127.0.0.1:{self.port}/{path}"

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
        permissions = ", ".join([_erlang_binary(".*")] * 3)
        defaults = (
            f"[{{rabbit, [{{default_user, {_erlang_binary(self.user)}}}, "
            f"{{default_pass, {_erlang_binary(self.password)}}}, "
            f"{{default_vhost, {_erlang_binary(self.vhost)}}}, "
            f"{{default_permissions, [{permissions}]}}]}}].\n"
        )
        advanced = self.base_dir / "advanced.config"
        advanced.write_text(defaults)
        advanced.chmod(0o600)  # it holds the password
        self._process = ManagedProcess(
            "rabbitmq", [str(self.server_path)], self.log_path, env=self._env
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
        stop_epmd(self.epmd_port)


def stop_epmd(port: int) -> None:
    """Stop the epmd a node started on ``port``: it daemonises on the node's first start, out
    of the node's process group, and would outlive it."""
    epmd = _epmd_binary()
    if epmd:
        subprocess.run(
            [epmd, "-port", str(port), "-kill"], capture_output=True, check=False, timeout=10
        )
