"""What `ascension stack` starts, read from one env file: the settings every process reads.

The env file is the one source of truth. The servers are configured from the very values the
workers and the API connect with, so the secrets that must match across components cannot
drift: MinIO's root credentials are ``ASCENSION_S3_ACCESS_KEY``/``_SECRET_KEY``; PostgreSQL's
application role, its password and its database come from ``ASCENSION_DATABASE_URL``; RabbitMQ's
user, password and vhost from ``ASCENSION_AMQP_URL``; Temporal's port and namespace from
``ASCENSION_TEMPORAL_ADDRESS`` and ``ASCENSION_TEMPORAL_NAMESPACE``.

As everywhere with pydantic-settings, a variable set in the environment wins over the file; the
child processes get the same resolution, so they and the servers agree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from dotenv import dotenv_values
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.settings import Settings

LOOPBACK = frozenset({"127.0.0.1", "localhost"})


class StackConfigError(ValueError):
    """The env file cannot describe a stack on this machine; the message says what to set."""


@dataclass(frozen=True)
class PostgresPlan:
    port: int
    role: str
    password: str
    database: str


@dataclass(frozen=True)
class RabbitPlan:
    port: int
    user: str
    password: str
    vhost: str


@dataclass(frozen=True)
class StackPlan:
    """Everything `stack up` needs: where state goes, each server's port and credentials, and
    the environment of the application processes."""

    settings: Settings
    env: dict[str, str]
    state_dir: Path
    postgres: PostgresPlan
    rabbitmq: RabbitPlan
    minio_port: int
    temporal_port: int
    temporal_ui_port: int

    @property
    def api_url(self) -> str:
        host = "127.0.0.1" if self.settings.api_host in {"0.0.0.0", ""} else self.settings.api_host
        return f"http://{host}:{self.settings.api_port}"


def _loopback_port(value: str, variable: str) -> int:
    host, sep, port = value.rpartition(":")
    if not sep or host not in LOOPBACK or not port.isdigit():
        raise StackConfigError(
            f"{variable}={value!r}: `stack up` runs this server on loopback; "
            "use 127.0.0.1:PORT (or localhost:PORT)"
        )
    return int(port)


def _postgres(url: str | None) -> PostgresPlan:
    name = "ASCENSION_DATABASE_URL"
    if not url:
        raise StackConfigError(
            f"set {name}=postgresql+asyncpg://ROLE:PASSWORD@127.0.0.1:PORT/DATABASE"
        )
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StackConfigError(f"{name} is not a database URL") from None
    if parsed.drivername != "postgresql+asyncpg":
        raise StackConfigError(f"{name} must start with postgresql+asyncpg://")
    if parsed.host not in LOOPBACK or parsed.port is None:
        raise StackConfigError(f"{name}: `stack up` runs PostgreSQL on 127.0.0.1:PORT")
    if not parsed.username or not parsed.password or not parsed.database:
        raise StackConfigError(f"{name} needs a role, a password and a database name")
    if parsed.username == "postgres":
        raise StackConfigError(f"{name}: use an application role, not the superuser `postgres`")
    return PostgresPlan(parsed.port, parsed.username, parsed.password, parsed.database)


def _rabbitmq(url: str | None) -> RabbitPlan:
    name = "ASCENSION_AMQP_URL"
    if not url:
        raise StackConfigError(f"set {name}=amqp://USER:PASSWORD@127.0.0.1:PORT/VHOST")
    parts = urlsplit(url)
    if parts.scheme != "amqp" or parts.hostname not in LOOPBACK or parts.port is None:
        raise StackConfigError(f"{name}: `stack up` runs RabbitMQ at amqp://…@127.0.0.1:PORT/")
    if not parts.username or not parts.password:
        raise StackConfigError(f"{name} needs a user and a password")
    vhost = unquote(parts.path[1:]) if parts.path not in {"", "/"} else "/"
    return RabbitPlan(parts.port, unquote(parts.username), unquote(parts.password), vhost)


def _environment(env_file: Path) -> dict[str, str]:
    """The application processes' environment: ours without ASCENSION_*, then the file, then
    ASCENSION_* from our environment (which wins, as it does for pydantic-settings)."""
    values = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASCENSION_")}
    env.update(values)
    env.update({k: v for k, v in os.environ.items() if k.startswith("ASCENSION_")})
    return env


def load_settings(env_file: Path) -> Settings:
    if not env_file.is_file():
        raise StackConfigError(
            f"no env file at {env_file}; write one (README: Running the real stack) "
            "and pass it with --env-file"
        )
    try:
        return Settings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as error:
        raise StackConfigError(f"{env_file}: {error}") from None


def default_state_dir(settings: Settings) -> Path:
    return settings.data_dir / "stack"


def load_plan(env_file: Path, state_dir: Path | None = None) -> StackPlan:
    """Read and check the env file; nothing is started."""
    settings = load_settings(env_file)
    if settings.object_store != "s3":
        raise StackConfigError("set ASCENSION_OBJECT_STORE=s3: the stack runs MinIO")
    if settings.s3_secure:
        raise StackConfigError(
            "ASCENSION_S3_SECURE=true: the stack's MinIO speaks plain HTTP on loopback; "
            "put TLS on the proxy named by ASCENSION_S3_PUBLIC_ENDPOINT instead"
        )
    if not settings.temporal_address:
        raise StackConfigError("set ASCENSION_TEMPORAL_ADDRESS=127.0.0.1:PORT")
    if settings.jwt_secret is None:
        raise StackConfigError(
            "set ASCENSION_JWT_SECRET (32+ random bytes, e.g. `openssl rand -base64 48`): "
            "every API process must sign with the same key"
        )
    env = _environment(env_file)
    # The processes run in the state folder: paths must not depend on where they start.
    env["ASCENSION_DATA_DIR"] = str(settings.data_dir)
    env["ASCENSION_CACHE_DIR"] = str(settings.cache_dir)
    # The dev server's Web UI calls the API's codec from the browser: allow its origin.
    env.setdefault("ASCENSION_TEMPORAL_UI_ORIGIN", f"http://127.0.0.1:{settings.temporal_ui_port}")
    return StackPlan(
        settings=settings,
        env=env,
        state_dir=(state_dir or default_state_dir(settings)).absolute(),
        postgres=_postgres(settings.database_url),
        rabbitmq=_rabbitmq(settings.amqp_url),
        minio_port=_loopback_port(settings.s3_endpoint, "ASCENSION_S3_ENDPOINT"),
        temporal_port=_loopback_port(settings.temporal_address, "ASCENSION_TEMPORAL_ADDRESS"),
        temporal_ui_port=settings.temporal_ui_port,
    )
