"""`ascension users`: an operator lists accounts, sets a plan and grants support, on the
configured database (here a SQLite file), with clear answers for unknown emails and plans."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from core.db import make_engine, migrate, session_scope
from schema.analysis import Tier
from schema.models import Role, User

pytestmark = pytest.mark.unit


def _users(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASCENSION_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    env.pop("ASCENSION_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "ascension.cli", "users", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def _accounts(url: str, create: bool) -> dict[str, tuple[Tier, Role]]:
    engine = make_engine(url)
    try:
        await migrate(engine)
        async with session_scope(engine) as session:
            if create:
                session.add(User(email="ada@example.com", password_hash="-"))
                await session.commit()
            rows = (await session.exec(select(User))).all()
            return {user.email: (user.subscription_tier, user.role) for user in rows}
    finally:
        await engine.dispose()


def test_set_tier_and_grant_support_change_the_account(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ascension.db'}"
    assert asyncio.run(_accounts(url, create=True)) == {
        "ada@example.com": (Tier.FREEMIUM, Role.USER)
    }

    assert _users(tmp_path, "set-tier", "Ada@Example.com", "premium").returncode == 0
    assert _users(tmp_path, "grant-support", "ada@example.com").returncode == 0
    assert asyncio.run(_accounts(url, create=False)) == {
        "ada@example.com": (Tier.PREMIUM, Role.SUPPORT)
    }
    listed = _users(tmp_path, "list")
    assert listed.returncode == 0
    assert "ada@example.com" in listed.stdout and "support" in listed.stdout

    assert _users(tmp_path, "revoke-support", "ada@example.com").returncode == 0
    assert asyncio.run(_accounts(url, create=False))["ada@example.com"][1] == Role.USER

    unknown = _users(tmp_path, "set-tier", "nobody@example.com", "premium")
    assert unknown.returncode == 1 and "no account" in unknown.stdout
    bad_plan = _users(tmp_path, "set-tier", "ada@example.com", "gold")
    assert bad_plan.returncode == 2 and "freemium" in bad_plan.stdout
    assert "Traceback" not in unknown.stderr + bad_plan.stderr
