"""A throwaway PostgreSQL cluster on loopback (initdb + postgres), for tests and local runs."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ascension.servers.process import ManagedProcess, ServerStartError, free_port


def _as_postgres_user(cmd: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root. CI and containers run as root, so drop to the
    # `postgres` account Debian's package creates.
    if os.geteuid() != 0:
        return cmd
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ServerStartError("running as root needs `runuser` to start PostgreSQL as `postgres`")
    return [runuser, "-u", "postgres", "--", *cmd]


@dataclass
class PostgresServer:
    """One cluster in ``base_dir``; trust authentication on 127.0.0.1 only."""

    bin_dir: Path
    base_dir: Path
    port: int = field(default_factory=free_port)
    user: str = "postgres"
    _process: ManagedProcess | None = None

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "pgdata"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://{self.user}@127.0.0.1:{self.port}/{database}"

    def _chown(self) -> None:
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            for path in [self.base_dir, *self.base_dir.rglob("*")]:
                os.chown(path, account.pw_uid, account.pw_gid)

    def start(self, timeout: float = 60) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.base_dir.chmod(0o755)
        self._chown()
        if not (self.data_dir / "PG_VERSION").exists():
            subprocess.run(
                _as_postgres_user(
                    [
                        str(self.bin_dir / "initdb"),
                        "-D",
                        str(self.data_dir),
                        "-U",
                        self.user,
                        "-A",
                        "trust",
                        "-E",
                        "UTF8",
                        "--no-sync",
                    ]
                ),
                check=True,
                capture_output=True,
                text=True,
            )
        cmd = _as_postgres_user(
            [
                str(self.bin_dir / "postgres"),
                "-D",
                str(self.data_dir),
                "-p",
                str(self.port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={self.base_dir}",
                # Throwaway clusters: durability across power loss buys nothing and costs seconds.
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]
        )
        self._process = ManagedProcess("postgresql", cmd, self.base_dir / "postgres.log")
        isready = str(self.bin_dir / "pg_isready")
        self._process.wait_ready(
            lambda: (
                subprocess.run(
                    [isready, "-q", "-h", "127.0.0.1", "-p", str(self.port)], check=False
                ).returncode
                == 0
            ),
            timeout,
        )

    def create_database(self, name: str) -> str:
        """Create an empty database and return its asyncpg URL."""
        subprocess.run(
            [
                str(self.bin_dir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                name,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return self.url(name)

    def stop(self) -> None:
        if self._process:
            self._process.stop()
