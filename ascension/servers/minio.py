"""A MinIO server on loopback, storing objects in a local folder."""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ascension.servers.process import ManagedProcess, free_port


@dataclass
class MinioServer:
    binary: Path
    base_dir: Path
    access_key: str = "ascension"
    secret_key: str = "ascension-secret"
    port: int = field(default_factory=free_port)
    console_port: int = field(default_factory=free_port)
    console: bool = False
    _process: ManagedProcess | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.base_dir / "minio.log"

    @property
    def pid(self) -> int | None:
        return self._process.proc.pid if self._process else None

    def _live(self) -> bool:
        url = f"http://{self.endpoint}/minio/health/live"
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)

    def start(self, timeout: float = 60) -> None:
        data = self.base_dir / "data"
        data.mkdir(parents=True, exist_ok=True)
        env = {
            "MINIO_ROOT_USER": self.access_key,
            "MINIO_ROOT_PASSWORD": self.secret_key,
            "MINIO_BROWSER": "on" if self.console else "off",
            "MINIO_UPDATE": "off",
        }
        cmd = [
            str(self.binary),
            "server",
            "--quiet",
            "--address",
            self.endpoint,
            "--console-address",
            f"127.0.0.1:{self.console_port}",
            str(data),
        ]
        self._process = ManagedProcess("minio", cmd, self.log_path, env=env)
        self._process.wait_ready(self._live, timeout)

    def stop(self) -> None:
        if self._process:
            self._process.stop()

    def restart(self, timeout: float = 60) -> None:
        """Stop and start again on the same port and data folder (the objects are kept)."""
        self.stop()
        self.start(timeout)
