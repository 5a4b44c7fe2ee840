"""Prometheus metrics of one API process: HTTP traffic by route template, and business counters.

Every app gets its own `CollectorRegistry` (tests and the benchmark build several apps in one
process; the global default registry would refuse the second set of metrics). The HTTP
middleware is pure ASGI and does a few dictionary lookups per request: this API aims at a p95
under 20 ms, and `BaseHTTPMiddleware` alone would cost more than that budget allows.

Labels are bounded on purpose: the route label is the route's template
(``/api/v1/analysis/video/{analysis_id}``), never the raw path, so ids and a scanner's random
paths never create series; unknown methods share one label value.

``GET /metrics`` answers only a scraper presenting ``metrics_token`` as a bearer token, and is
off (404) while none is configured.

Analyses by status come from the database at each scrape (one grouped count): the rows are the
fleet-wide truth, where any one worker process sees only the analyses it happened to run. The
workers' own figures (processing time, failures, backlog, GPU) are on their endpoints
(`core.telemetry`).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ApiError, unauthorized
from core.db import session_scope
from schema.analysis import Status
from schema.models import Analysis

METRICS_PATH = "/metrics"
#: Route label of requests no route matched (404s, slash redirects).
UNMATCHED = "<unmatched>"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: Fine below 100 ms, where the API's targets are (p95 < 20 ms; result fetch < 100 ms).
LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.0075,
    0.01,
    0.015,
    0.02,
    0.03,
    0.05,
    0.075,
    0.1,
    0.2,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)


class ApiMetrics:
    """The metrics of one app and the registry `/metrics` exposes."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        labels = ("method", "route", "status")
        self.requests = Counter(
            "ascension_http_requests",
            "HTTP requests answered, by method, route template and status class.",
            labels,
            registry=self.registry,
        )
        self.latency = Histogram(
            "ascension_http_request_duration_seconds",
            "Time from the request reaching the app to the last byte of its answer.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "ascension_http_requests_in_flight",
            "HTTP requests being handled now.",
            registry=self.registry,
        )
        self.analyses_started = Counter(
            "ascension_analyses_started",
            "Video analyses started (workflows scheduled), by subscription tier.",
            ("tier",),
            registry=self.registry,
        )
        self.websocket_connections = Gauge(
            "ascension_websocket_connections",
            "WebSocket clients connected now.",
            registry=self.registry,
        )
        self.analyses = Gauge(
            "ascension_analyses",
            "Analyses in the database by status, counted at each scrape.",
            ("status",),
            registry=self.registry,
        )
        # (method, route, status) -> the labelled children: `labels()` costs a lock and a
        # tuple build per call; the set of keys is bounded by routes x methods x 5.
        self._children: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: str, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (self.requests.labels(*key), self.latency.labels(*key))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def analysis_started(self, tier: str) -> None:
        """Count one started analysis (call once the workflow was scheduled)."""
        self.analyses_started.labels(str(tier)).inc()

    @contextmanager
    def websocket_connection(self) -> Iterator[None]:
        """Wrap the lifetime of one accepted WebSocket: the gauge goes back down however it ends."""
        self.websocket_connections.inc()
        try:
            yield
        finally:
            self.websocket_connections.dec()

    async def count_analyses(self, engine: AsyncEngine) -> None:
        """Set the by-status gauge from the database; a status with no row reads 0, so a
        dashboard's "failed" panel shows 0 rather than no data."""
        statement = select(Analysis.status, func.count()).group_by(Analysis.status)
        async with session_scope(engine) as session:
            counts = {status: count for status, count in (await session.exec(statement)).all()}
        for status in Status:
            self.analyses.labels(status.value).set(counts.get(status, 0))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def get_metrics(app: Any) -> ApiMetrics:
    """The app's metrics; an app built without `install_metrics` gets an unexposed set, so
    business code can count unconditionally."""
    metrics = getattr(app.state, "metrics", None)
    if metrics is None:
        metrics = app.state.metrics = ApiMetrics()
    return metrics


def _request_metrics(request: Request) -> ApiMetrics:
    return get_metrics(request.app)


#: For route handlers: ``metrics: Metrics`` then ``metrics.analysis_started(tier)``.
Metrics = Annotated[ApiMetrics, Depends(_request_metrics)]


class RouteTemplates:
    """Maps the route object a request matched to its full path template.

    FastAPI ≥ 0.16x keeps included routers as they are, so the matched route's own
    ``path_format`` lacks the include prefix (``/auth/me``, not ``/api/v1/auth/me``);
    `fastapi.routing.iter_route_contexts` yields each route with its effective template.
    Built on first use, when every router has been included.
    """

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._by_route: dict[int, str] | None = None

    def _build(self) -> dict[int, str]:
        from fastapi import routing

        templates: dict[int, str] = {}
        iter_contexts = getattr(routing, "iter_route_contexts", None)
        if iter_contexts is None:  # older FastAPI: app.routes are flat and fully prefixed
            for route in self._app.routes:
                path = getattr(route, "path_format", None)
                if path:
                    templates[id(route)] = path
            return templates
        for context in iter_contexts(self._app.routes):
            path = context.path_format
            if path:
                templates[id(context.original_route)] = path
        return templates

    def __call__(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is None:
            return UNMATCHED
        if self._by_route is None:
            self._by_route = self._build()
        template = self._by_route.get(id(route))
        if template is None:
            # A route added after the first request: its own template is still bounded.
            template = getattr(route, "path_format", None) or UNMATCHED
        return template


class MetricsMiddleware:
    """Counts and times every HTTP request except the scrape itself; passes the rest through."""

    def __init__(self, app: ASGIApp, *, metrics: ApiMetrics, templates: RouteTemplates) -> None:
        self.app = app
        self.metrics = metrics
        self.templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == METRICS_PATH:
            await self.app(scope, receive, send)
            return
        status = "5xx"  # what an exception before the answer started becomes

        async def send_and_see(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = f"{message['status'] // 100}xx"
            await send(message)

        metrics = self.metrics
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        metrics.in_flight.inc()
        begin = time.perf_counter()
        try:
            await self.app(scope, receive, send_and_see)
        finally:
            metrics.in_flight.dec()
            metrics.observe(method, self.templates(scope), status, time.perf_counter() - begin)


def _check_scraper(request: Request) -> None:
    """`/metrics` answers only a scraper with the configured bearer token (``metrics_token``);
    with none configured it does not exist (404). Route names, traffic and process figures are
    reconnaissance for an attacker, and a token works through any proxy or load balancer,
    where "loopback only" would let every proxied request in."""
    settings = getattr(request.app.state, "settings", None)
    token = settings.metrics_token if settings is not None else None
    if token is None:
        raise ApiError(404, "not_found", "not found")
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    expected = token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), expected):
        raise unauthorized("the metrics need the scrape token (Authorization: Bearer ...)")


def install_metrics(app: FastAPI) -> ApiMetrics:
    """Add the middleware (outermost of the app's own, so compression is timed too) and
    ``GET /metrics``; call after the other middleware and routers are added. Idempotent."""
    metrics = get_metrics(app)
    if getattr(app.state, "metrics_installed", False):
        return metrics
    app.state.metrics_installed = True

    async def scrape(request: Request) -> Response:
        _check_scraper(request)
        engine = getattr(request.app.state, "engine", None)
        if engine is not None:
            await metrics.count_analyses(engine)
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    app.add_api_route(METRICS_PATH, scrape, methods=["GET"], include_in_schema=False)
    app.add_middleware(MetricsMiddleware, metrics=metrics, templates=RouteTemplates(app))
    return metrics
