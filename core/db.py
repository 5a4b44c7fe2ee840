"""Async database engine and session factory over the configured URL.

PostgreSQL through asyncpg in every real deployment; SQLite (aiosqlite) for the embedded
quickstart. The schema is created and upgraded by the Alembic migrations in
``core/migrations``, for PostgreSQL and the embedded SQLite file alike; `migrate` runs them on
an engine's connection.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

import schema.models  # noqa: F401 - registers the tables on SQLModel.metadata

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)


def make_engine(url: str) -> AsyncEngine:
    # hide_parameters: a failed statement's error (and so any log of it) names the SQL but
    # never its values, which include password hashes and personal data.
    if url.startswith("sqlite"):
        return create_async_engine(url, hide_parameters=True)
    return create_async_engine(
        url, pool_size=10, max_overflow=20, pool_pre_ping=True, hide_parameters=True
    )


#: Beside the database code, not in schema/: env.py needs `make_engine` and the settings, and
#: schema/ imports nothing of ours but itself.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration without an ini file: the scripts live in the package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@contextmanager
def _alembic_quiet() -> Iterator[None]:
    """Alembic narrates its machinery at INFO on every run (plugins, the DDL mode), which is
    noise in every service's start and every CLI command; `migrate` logs the one fact worth a
    line, an actual upgrade. With DEBUG logging Alembic speaks as before. Alembic is imported
    inside this context: importing it sets up its plugins, one INFO line each."""
    alembic = logging.getLogger("alembic")
    if logging.getLogger().isEnabledFor(logging.DEBUG):
        yield
        return
    previous = alembic.level
    alembic.setLevel(logging.WARNING)
    try:
        yield
    finally:
        alembic.setLevel(previous)


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade the database to ``revision``; a database already there is left as it is."""

    def upgrade(connection: Connection) -> tuple[str | None, str | None]:
        with _alembic_quiet():
            from alembic import command
            from alembic.runtime.migration import MigrationContext

            before = MigrationContext.configure(connection).get_current_revision()
            command.upgrade(alembic_config(connection), revision)
            return before, MigrationContext.configure(connection).get_current_revision()

    async with engine.begin() as conn:
        before, after = await conn.run_sync(upgrade)
    if before != after:
        logger.info("database schema upgraded from %s to %s", before or "empty", after)


async def create_schema(engine: AsyncEngine) -> None:
    """Bring the schema up to date (the migrations are the only way tables are made)."""
    await migrate(engine)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def session_scope(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with session_factory(engine)() as session:
        yield session
