"""CORS for the codec endpoints: the Temporal Web UI's origin, with credentials, and no other.

The Web UI calls ``/codec/decode`` from the support member's browser, on another origin than
the API, carrying the codec cookie (``credentials: "include"``). That needs an exact
``Access-Control-Allow-Origin`` with ``Allow-Credentials``, which the mobile CORS setting
(``ASCENSION_CORS_ORIGINS``, no credentials) must not grant to the rest of the API, and the
codec must not be open to the mobile origins either. So ``/codec/*`` is answered here, outside
the app-wide CORS middleware: preflights never reach it, and the ``Origin`` header is removed
before the request goes further in. A request from any other origin is refused with 403
before it reads a payload: a browser would hide the answer, but the store would still be read.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFIX = "/codec/"
_METHODS = "POST, DELETE, OPTIONS"
_HEADERS = ("authorization", "content-type", "x-namespace")
#: Browsers cache a preflight this long (seconds): the UI decodes on every page it shows.
_MAX_AGE = "600"


class CodecCORS:
    def __init__(self, app: ASGIApp, *, origin: str | None) -> None:
        self.app = app
        self.origin = origin.rstrip("/") if origin else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:  # not a browser's cross-origin call (the CLI, a same-origin page)
            await self.app(scope, receive, send)
            return
        if _same_host(origin, headers):  # the sign-in page, served from /codec/session
            await self.app(scope, receive, send)
            return
        if self.origin is None or origin != self.origin:
            await _refuse(origin)(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(headers)(scope, receive, send)
            return
        inner = dict(scope)
        inner["headers"] = [(k, v) for k, v in scope["headers"] if k != b"origin"]

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out["Access-Control-Allow-Origin"] = origin
                out["Access-Control-Allow-Credentials"] = "true"
                out.add_vary_header("Origin")
            await send(message)

        await self.app(inner, receive, send_with_cors)

    def _preflight(self, headers: Headers) -> Response:
        method = headers["access-control-request-method"].upper()
        asked = [
            h.strip().lower()
            for h in headers.get("access-control-request-headers", "").split(",")
            if h.strip()
        ]
        refused = [h for h in asked if h not in _HEADERS]
        if method not in _METHODS.split(", ") or refused:
            return JSONResponse(
                {
                    "error": {
                        "code": "cors_refused",
                        "message": "the codec allows POST with "
                        + ", ".join(_HEADERS)
                        + f"; asked {method} with {', '.join(asked) or 'no headers'}",
                        "details": None,
                    }
                },
                status_code=400,
            )
        return Response(
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": headers["origin"],
                "Access-Control-Allow-Credentials": "true",
                "Access-Control-Allow-Methods": _METHODS,
                "Access-Control-Allow-Headers": ", ".join(_HEADERS),
                "Access-Control-Max-Age": _MAX_AGE,
                "Vary": "Origin",
            },
        )


def _same_host(origin: str, headers: Headers) -> bool:
    # Host and port only: behind a TLS proxy whose X-Forwarded-Proto is not trusted the app
    # sees http while the page's origin is https, and it is still the API's own page.
    return origin.partition("://")[2] == headers.get("host", "")


def _refuse(origin: str) -> Response:
    return JSONResponse(
        {
            "error": {
                "code": "forbidden",
                "message": f"origin {origin} may not call the codec; set "
                "ASCENSION_TEMPORAL_UI_ORIGIN to the Web UI's origin",
                "details": None,
            }
        },
        status_code=403,
    )
