"""The FastAPI application: one router per resource, one error format, resources in the lifespan.

Importable as ``api.app:app`` (served by ``ascension api``); tests build their own with
`create_app(settings)`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware

from api.codec_cors import CodecCORS
from api.edge import RequestGuard
from api.errors import install_error_handlers, responses
from api.events.hub import EventHub
from api.metrics import RouteTemplates, install_metrics
from api.request_log import RequestLogMiddleware
from api.resources import ApiResources, RateLimits, TemporalConnection
from api.results import DocumentCache
from api.routes import (
    analyses,
    auth,
    health,
    objects,
    routes,
    support,
    training,
    uploads,
    videos,
    ws,
)
from api.routes.codec import router as codec_router
from api.routes.objects import OBJECTS_PREFIX
from api.routes.uploads import UPLOAD_RETENTION
from api.routes.viewer import api_router as viewer_api
from api.routes.viewer import page_router as viewer_page
from api.security import TokenService, load_jwt_secret
from core.db import make_engine, migrate, session_factory
from core.events import EventPublisher
from core.redact import install_log_redaction
from core.settings import Settings, get_settings
from core.storage import make_object_store

API_VERSION = "1.0.0"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    # pika logs every refused connection as an ERROR with a traceback; the hub and /readyz
    # report broker trouble in one line of their own.
    logging.getLogger("pika").setLevel(logging.CRITICAL)
    engine = make_engine(settings.effective_database_url)
    if settings.database_url is None:
        # Embedded default: the SQLite file is created and migrated on first start. Real
        # databases are migrated by `ascension migrate` (the bootstrap and deploys run it).
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        await migrate(engine)
    store = make_object_store(settings)
    await store.ensure_bucket(settings.bucket)
    # Seed 000's lifecycle: unsaved uploads are deleted by the store a week after upload.
    await store.expire_prefix(settings.bucket, "uploads/", UPLOAD_RETENTION.days)
    # Temporal payloads too large for history: kept no longer than the histories naming them.
    await store.ensure_bucket(settings.payload_bucket)
    await store.expire_prefix(settings.payload_bucket, "", settings.payload_retention_days)
    resources = ApiResources(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        store=store,
        tokens=TokenService(
            load_jwt_secret(settings),
            issuer=settings.jwt_issuer,
            access_ttl_s=settings.access_token_ttl_s,
        ),
        temporal=TemporalConnection(settings, store),
        limits=RateLimits.from_settings(settings),
        results=DocumentCache(settings.result_cache_bytes),
        # Connects on its first event, which is rare: it does not hold a connection until then.
        publisher=EventPublisher(settings.amqp_url) if settings.amqp_url else None,
    )
    app.state.resources = resources
    app.state.engine = engine
    # WebSocket fan-out: its own exclusive queue on ascension.events (or the event log when
    # no broker is configured).
    hub = EventHub(resources)
    await hub.start()
    resources.events = hub
    try:
        yield
    finally:
        resources.events = None
        await hub.close()
        if resources.publisher is not None:
            await asyncio.to_thread(resources.publisher.close)
        await store.close()
        await engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; tests pass their own settings, processes use the environment's."""
    settings = settings or get_settings()
    app = FastAPI(
        title="Ascension API",
        version=API_VERSION,
        description="Mobile-facing API of the Ascension climbing coach.",
        lifespan=lifespan,
        # A body that is not JSON at all is refused by FastAPI with 400, on any route.
        responses=responses(400),
    )
    app.state.settings = settings
    install_error_handlers(app)
    install_log_redaction()
    # Innermost of the app's middleware, so its 413/422 answers still get CORS headers and are
    # counted; it runs before FastAPI reads the body.
    app.add_middleware(
        RequestGuard,
        max_body_bytes=settings.max_request_body_bytes,
        streamed_prefixes=(OBJECTS_PREFIX,),
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-None-Match"],
            expose_headers=["ETag", "Retry-After", "X-Request-ID"],
        )
    # The Web UI's origin, with credentials, on /codec only (outside the mobile CORS above).
    app.add_middleware(CodecCORS, origin=settings.temporal_ui_origin)
    # Compresses JSON answers over 1 KB for clients that ask; stored result documents are
    # already gzip and are sent as they are (their responses carry Content-Encoding).
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.include_router(health.router)
    # The overlay viewer's page and files (its data comes through /api/v1/viewer).
    app.include_router(viewer_page)
    for router in (
        auth.router,
        uploads.router,
        routes.router,
        analyses.router,
        videos.router,
        training.router,
        support.router,
        ws.router,
        objects.router,
    ):
        app.include_router(router, prefix="/api/v1")
    app.include_router(viewer_api, prefix="/api/v1")
    # Temporal's remote codec protocol, where the Web UI expects it (not under /api/v1).
    app.include_router(codec_router)
    # The request's ids on its log lines, and one line per request (`api.request_log`).
    app.add_middleware(RequestLogMiddleware, templates=RouteTemplates(app))
    # Outermost, so it times everything (GZip included).
    install_metrics(app)
    return app


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How uvicorn must serve this app: ``X-Forwarded-For``/``-Proto`` are believed only from
    the configured proxies, and with none configured (the default) not at all; uvicorn's own
    default trusts loopback, which lets anyone on the host (or behind a same-host proxy that
    passes the header through) choose the address rate limits count them under."""
    trusted = list(settings.trusted_proxies)
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted}


app = create_app()
