"""A throwaway PostgreSQL cluster on loopback (initdb + postgres), for tests and local runs."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

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
    """One cluster in ``base_dir``, listening on 127.0.0.1 only.

    ``host_auth`` is how TCP clients authenticate: ``trust`` for the tests' throwaway clusters,
    ``scram-sha-256`` for `ascension stack`, whose application role has a password. The
    superuser is reached through the Unix socket in ``base_dir`` (trusted, and only the owner
    of that folder can reach it), which is how roles and databases are created.
    """

    bin_dir: Path
    base_dir: Path
    port: int = field(default_factory=free_port)
    user: str = "postgres"
    host_auth: str = "trust"
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
                        "--auth-local=trust",
                        f"--auth-host={self.host_auth}",
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
        self._process = ManagedProcess("postgresql", cmd, self.log_path)
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

    @property
    def log_path(self) -> Path:
        return self.base_dir / "postgres.log"

    @property
    def pid(self) -> int | None:
        return self._process.proc.pid if self._process else None

    def create_database(self, name: str) -> str:
        """Create an empty database and return its asyncpg URL."""
        subprocess.run(
            [
                str(self.bin_dir / "createdb"),
                "-h",
                str(self.base_dir),
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

    async def ensure_role_and_database(self, role: str, password: str, database: str) -> None:
        """The application's login role (its password set to ``password``) and its database.

        Idempotent: an existing role gets the password again, an existing database is kept.
        Through asyncpg on the superuser's socket, so the password is a bound parameter, never
        a command-line argument another user could read.
        """
        connection = await asyncpg.connect(
            host=str(self.base_dir), port=self.port, user=self.user, database="postgres"
        )
        try:
            exists = await connection.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
            verb = "ALTER" if exists else "CREATE"
            statement = await connection.fetchval(
                f"SELECT format('{verb} ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)",
                role,
                password,
            )
            await connection.execute(statement)
            if not await connection.fetchval(
                "SELECT 1 FROM pg_database WHERE datname = $1", database
            ):
                statement = await connection.fetchval(
                    "SELECT format('CREATE DATABASE %I OWNER %I', $1::text, $2::text)",
                    database,
                    role,
                )
                await connection.execute(statement)
        finally:
            await connection.close()

    def stop(self) -> None:
        """Fast shutdown (SIGINT, what ``pg_ctl stop`` sends): sessions are ended and a clean
        checkpoint written. SIGTERM would be a smart shutdown, which waits for every client to
        disconnect; a worker's idle pooled connections never do, so the server was killed instead
        (by ``runuser`` 2 s later when run as root, measured; by `ManagedProcess.stop` after its
        timeout otherwise)."""
        if self._process:
            self._process.stop(sig=signal.SIGINT)

    def restart(self, timeout: float = 60) -> None:
        """Stop and start again on the same port and data folder (the rows are kept)."""
        self.stop()
        self.start(timeout)
