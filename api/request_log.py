"""One log line per API request, and the request's ids on every line logged while it runs.

The middleware opens a `core.logs.log_context` for each HTTP request: its request id (the
caller's ``X-Request-ID`` when it sends a sane one, so a proxy's id follows the request through,
else a new one), method and route template. Once routing has matched, an ``analysis_id`` path
parameter is bound too; handlers that create an analysis bind its id themselves
(`bind_log_fields`). With ``ASCENSION_LOG_FORMAT=json`` each of those is a field of its own.

The final line (logger ``ascension.api.requests``) carries status and duration: the access log,
with the route template instead of the raw path (no ids or tokens from query strings in logs).
It is pure ASGI, like `api.metrics`, to stay within the API's latency budget.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import METRICS_PATH, RouteTemplates
from core.logs import log_context

log = logging.getLogger("ascension.api.requests")
#: A caller's request id is kept only when it cannot forge log structure or grow a line.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
#: Path parameters that name an analysis (bound as ``analysis_id`` on the request's lines).
_ANALYSIS_PARAMS = ("analysis_id",)


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(candidate):
                return candidate
    return uuid.uuid4().hex


class RequestLogMiddleware:
    """Binds the request's ids for its whole life and logs its outcome in one line."""

    def __init__(self, app: ASGIApp, *, templates: RouteTemplates) -> None:
        self.app = app
        self.templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == METRICS_PATH:
            await self.app(scope, receive, send)
            return
        status = 500  # what an exception before the answer started becomes

        async def send_and_see(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        begin = time.perf_counter()
        with log_context(request_id=_request_id(scope), method=scope["method"]) as fields:
            try:
                await self.app(scope, receive, send_and_see)
            finally:
                # Routing filled the scope in place: the template and path parameters are known.
                fields["route"] = self.templates(scope)
                params = scope.get("path_params") or {}
                for name in _ANALYSIS_PARAMS:
                    if name in params and "analysis_id" not in fields:
                        fields["analysis_id"] = str(params[name])
                elapsed_ms = round((time.perf_counter() - begin) * 1000, 2)
                fields["status"] = status
                fields["duration_ms"] = elapsed_ms
                log.info("%s %s %d %.2f ms", scope["method"], fields["route"], status, elapsed_ms)
