"""The FastAPI application: builds the app and includes one router per resource."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.routes import health
from ascension.db import create_schema, make_engine
from ascension.settings import Settings, get_settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    engine = make_engine(settings.effective_database_url)
    if settings.database_url is None:
        # Embedded default: the SQLite file is created on first start.
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        await create_schema(engine)
    app.state.engine = engine
    try:
        yield
    finally:
        await engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; tests pass their own settings, processes use the environment's."""
    app = FastAPI(title="Ascension API", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings or get_settings()
    app.include_router(health.router)
    return app


app = create_app()
