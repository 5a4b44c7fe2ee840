"""deploy/compose/postgres-setup.sh run for real, against the session's PostgreSQL: it creates
the application's role and database and Temporal's role, runs again without error (every
`docker compose up` runs it), and sets a changed password again."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[1] / "deploy" / "compose" / "postgres-setup.sh"


def _run(url: str, **values: str) -> subprocess.CompletedProcess[str]:
    server = make_url(url)
    env = {
        **os.environ,
        "PGHOST": str(server.host),
        "PGPORT": str(server.port),
        "POSTGRES_PASSWORD": server.password or "unused-trust-auth",
        **values,
    }
    return subprocess.run(["sh", str(SCRIPT)], env=env, capture_output=True, text=True)


async def _state(url: str, app: str, database: str, temporal: str) -> dict[str, object]:
    server = make_url(url).set(drivername="postgresql")
    conn = await asyncpg.connect(server.render_as_string(hide_password=False))
    try:
        roles = {
            row["rolname"]: row
            for row in await conn.fetch(
                "SELECT rolname, rolcanlogin, rolcreatedb, rolsuper, rolpassword "
                "FROM pg_authid WHERE rolname = ANY($1::text[])",
                [app, temporal],
            )
        }
        owner = await conn.fetchval(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", database
        )
    finally:
        await conn.close()
    return {"roles": roles, "owner": owner}


async def _drop(url: str, app: str, database: str, temporal: str) -> None:
    server = make_url(url).set(drivername="postgresql")
    conn = await asyncpg.connect(server.render_as_string(hide_password=False))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
        await conn.execute(f'DROP ROLE IF EXISTS "{app}"')
        await conn.execute(f'DROP ROLE IF EXISTS "{temporal}"')
    finally:
        await conn.close()


def test_roles_and_database_are_set_on_every_run(postgres_url: str) -> None:
    suffix = uuid.uuid4().hex[:8]
    app, database, temporal = f"app_{suffix}", f"app-db-{suffix}", f"temporal_{suffix}"
    values = {
        "APP_DB_USER": app,
        "APP_DB_NAME": database,
        "APP_DB_PASSWORD": "first-password",
        "TEMPORAL_DB_USER": temporal,
        "TEMPORAL_DB_PASSWORD": "it's quoted",  # a quote in a password is data, not SQL
    }
    try:
        first = _run(postgres_url, **values)
        assert first.returncode == 0, first.stderr
        state = asyncio.run(_state(postgres_url, app, database, temporal))
        roles = state["roles"]
        assert isinstance(roles, dict) and set(roles) == {app, temporal}
        assert state["owner"] == app
        assert roles[app]["rolcanlogin"] and not roles[app]["rolcreatedb"]
        assert roles[temporal]["rolcanlogin"] and roles[temporal]["rolcreatedb"]
        assert not roles[app]["rolsuper"] and not roles[temporal]["rolsuper"]
        assert roles[app]["rolpassword"] and roles[temporal]["rolpassword"]

        again = _run(postgres_url, **{**values, "APP_DB_PASSWORD": "second-password"})
        assert again.returncode == 0, again.stderr
        after = asyncio.run(_state(postgres_url, app, database, temporal))["roles"]
        assert isinstance(after, dict)
        assert after[app]["rolpassword"] != roles[app]["rolpassword"]
    finally:
        asyncio.run(_drop(postgres_url, app, database, temporal))
