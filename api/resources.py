"""What the API process holds open for its lifetime, created in the app's lifespan."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from api.errors import ApiError
from api.ratelimit import RateLimiter
from api.results import DocumentCache
from api.security import TokenService
from core.events import EventPublisher
from core.settings import Settings
from core.storage import ObjectStore
from core.temporal_client import connect_temporal

if TYPE_CHECKING:
    from api.events.hub import EventHub


class TemporalConnection:
    """One Temporal client, connected on first use so the API starts while Temporal is down."""

    def __init__(self, settings: Settings, store: ObjectStore) -> None:
        self._settings = settings
        self._store = store
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                try:
                    self._client = await asyncio.wait_for(
                        connect_temporal(self._settings, self._store), timeout=5
                    )
                except Exception as exc:
                    raise ApiError(
                        503,
                        "unavailable",
                        "the analysis service is unavailable right now; try again in a minute",
                    ) from exc
            return self._client


@dataclass
class RateLimits:
    login: RateLimiter
    register: RateLimiter
    upload: RateLimiter

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        return cls(
            login=RateLimiter("sign-in", settings.rate_limit_login_per_min),
            register=RateLimiter("registration", settings.rate_limit_register_per_min),
            upload=RateLimiter("upload", settings.rate_limit_upload_per_min),
        )


@dataclass
class ApiResources:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    store: ObjectStore
    tokens: TokenService
    temporal: TemporalConnection
    limits: RateLimits
    results: DocumentCache
    #: Publishes the events the API sends itself (an analysis found failed behind its back,
    #: `api.reconcile`); None without a broker, when events are only recorded in the log.
    publisher: EventPublisher | None = None
    #: The WebSocket fan-out while it runs (started and stopped by the app's lifespan); routes
    #: reach it through `api.deps.LiveEvents`.
    events: EventHub | None = None
