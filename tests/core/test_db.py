"""SQLModel tables round-trip through a real PostgreSQL over asyncpg."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from core.db import create_schema, make_engine, session_scope
from schema.models import (
    Analysis,
    AnalysisMetrics,
    AnalysisStatus,
    SubscriptionTier,
    User,
    Video,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(postgres_url)
    await create_schema(engine)
    yield engine
    await engine.dispose()


async def test_rows_round_trip_through_postgres(engine: AsyncEngine) -> None:
    user = User(
        email="ada@example.com", password_hash="x", subscription_tier=SubscriptionTier.PREMIUM
    )
    video = Video(user_id=user.id, storage_url="uploads/u/v.mp4", file_size_bytes=5_000_000_000)
    analysis = Analysis(
        video_id=video.id,
        user_id=user.id,
        status=AnalysisStatus.COMPLETED,
        result_json={"version": 1, "holds": [{"id": "h1", "type": "jug"}]},
    )
    metrics = AnalysisMetrics(analysis_id=analysis.id, max_reach_cm=182.5, hold_count=14)
    async with session_scope(engine) as session:
        session.add(user)
        await session.flush()  # parents first: the foreign keys are real
        session.add(video)
        await session.flush()
        session.add_all([analysis, metrics])
        await session.commit()

    async with session_scope(engine) as session:
        loaded = (await session.exec(select(Analysis).where(Analysis.id == analysis.id))).one()
        loaded_video = await session.get(Video, video.id)
        loaded_metrics = (
            await session.exec(
                select(AnalysisMetrics).where(AnalysisMetrics.analysis_id == analysis.id)
            )
        ).one()
        loaded_user = await session.get(User, user.id)
    assert loaded.status is AnalysisStatus.COMPLETED
    assert loaded.result_json == {"version": 1, "holds": [{"id": "h1", "type": "jug"}]}
    assert loaded_video is not None and loaded_video.file_size_bytes == 5_000_000_000
    assert loaded_metrics.max_reach_cm == pytest.approx(182.5)
    assert loaded_user is not None and loaded_user.subscription_tier == SubscriptionTier.PREMIUM


async def test_schema_matches_seed_types_and_indexes(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        result_type = await conn.scalar(
            text(
                "SELECT data_type FROM information_schema.columns "
                "WHERE table_name = 'analyses' AND column_name = 'result_json'"
            )
        )
        indexes = set(
            (await conn.execute(text("SELECT indexname FROM pg_indexes WHERE schemaname='public'")))
            .scalars()
            .all()
        )
        partial = await conn.scalar(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'idx_videos_expires_at'")
        )
        tier_type = await conn.scalar(
            text(
                "SELECT data_type FROM information_schema.columns "
                "WHERE table_name = 'users' AND column_name = 'subscription_tier'"
            )
        )
        stored_tier = await conn.scalar(text("SELECT subscription_tier FROM users LIMIT 1"))
    assert result_type == "jsonb"
    assert tier_type == "character varying"
    assert stored_tier in {"freemium", "premium", "infinity"}
    assert "idx_videos_expires_at" in indexes
    assert "WHERE (saved = false)" in partial


def _schema_drift(connection) -> list:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, SQLModel.metadata)


async def test_migrations_build_exactly_the_models_schema_on_postgres(engine: AsyncEngine) -> None:
    # The models and the migrations must agree: a model change without a migration fails here.
    async with engine.connect() as conn:
        assert await conn.run_sync(_schema_drift) == []
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    from alembic.script import ScriptDirectory

    from core.db import alembic_config

    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_migrations_upgrade_downgrade_and_upgrade_again_on_sqlite(tmp_path) -> None:
    from alembic import command

    from core.db import alembic_config, migrate

    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
    try:
        await migrate(engine)
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "base"))
        async with engine.connect() as conn:
            tables = (
                await conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
            ).scalars()
            assert set(tables) <= {"alembic_version"}
        await migrate(engine)
        async with engine.connect() as conn:
            assert await conn.run_sync(_schema_drift) == []
    finally:
        await engine.dispose()


async def test_migrate_logs_one_line_per_upgrade_and_nothing_when_up_to_date(
    tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    # Every service and CLI command migrates on start: Alembic's own INFO narration (plugins,
    # DDL mode) was noise there; an actual upgrade is the one line worth keeping.
    from core.db import migrate

    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
    try:
        with caplog.at_level("INFO"):
            await migrate(engine)
            first = [(r.name, r.getMessage()) for r in caplog.records]
            caplog.clear()
            await migrate(engine)
            second = [(r.name, r.getMessage()) for r in caplog.records]
    finally:
        await engine.dispose()
    assert len(first) == 1 and first[0][0] == "core.db", first
    assert first[0][1].startswith("database schema upgraded from empty to ")
    assert second == []
