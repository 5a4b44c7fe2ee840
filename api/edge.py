"""The edge: what every HTTP request passes before FastAPI parses anything.

- **Body size.** A declared ``Content-Length`` over ``max_request_body_bytes`` is answered 413
  without reading a byte of the body; a streamed body is counted as it arrives and refused the
  moment it passes the limit. Either way the connection is closed after the answer, so the
  rest of the upload is never read either.
- **Input the database or a parser cannot take**, answered 422 in the error shape with the
  field it was found in (``body.email``, ``query.cursor``, ``header.idempotency-key``):
  NUL characters (PostgreSQL text refuses them) and lone UTF-16 surrogates (no UTF-8 encoding
  exists for them) in any JSON string or key, query parameter, path or header; JSON integers
  beyond 64 bits; ``NaN`` and infinities.

Pure ASGI, like the metrics middleware: the common request costs one regular-expression scan
of its body, and only a body the scan flags (a ``\\u`` escape, a run of 19 digits, ...) is
parsed here and walked.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response

#: Largest integer a JSON body may carry: PostgreSQL's BIGINT, and every id and count here.
MAX_JSON_INT = 2**63 - 1
#: What can hide a problem in a JSON body: a \u escape (NUL, a surrogate), a UTF-8 encoded
#: surrogate (json decodes bytes with 'surrogatepass'), a long digit run (a huge integer),
#: NaN/Infinity, or a three-digit exponent (1e400 is infinity).
_SUSPECT = re.compile(rb"\\u|\xed[\xa0-\xbf]|\d{19}|NaN|Infinity|[eE][+-]?\d{3}")
_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """Why the database cannot store ``text``, or None."""
    if "\x00" in text:
        return "must not contain NUL characters"
    if _SURROGATE.search(text):
        return "must not contain lone UTF-16 surrogates (not valid Unicode text)"
    return None


def _value_problem(value: Any) -> str | None:
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and not -MAX_JSON_INT <= value <= MAX_JSON_INT:
        return "is out of range (integers are at most 64 bits)"
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    return None


def json_problem(document: Any) -> tuple[str, str] | None:
    """The first (field, problem) in a parsed JSON document, fields named as FastAPI does."""
    stack: list[tuple[tuple[str, ...], Any]] = [(("body",), document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                problem = text_problem(key)
                if problem:
                    return ".".join((*path, "<key>")), f"keys {problem}"
                stack.append(((*path, key), item))
        elif isinstance(value, list):
            stack.extend(((*path, str(index)), item) for index, item in enumerate(value))
        else:
            problem = _value_problem(value)
            if problem:
                return ".".join(path), problem
    return None


def _body_problem(body: bytes) -> tuple[str, str] | None:
    if not _SUSPECT.search(body):
        return None
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None  # not JSON: FastAPI refuses it with its own message
    return json_problem(document)


def _is_json(content_type: bytes | None) -> bool:
    # FastAPI reads a body without a Content-Type as JSON too.
    if not content_type:
        return True
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or media.endswith(b"+json")


def _envelope_problem(scope: Scope) -> tuple[str, str] | None:
    """NUL in the path, a query parameter or a header (none of these can carry surrogates:
    they arrive as bytes and are decoded with replacement)."""
    if "\x00" in scope["path"]:
        return "path", "must not contain NUL characters"
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        for pair in query.split(b"&"):
            if b"%00" in pair or b"\x00" in pair:
                name = unquote(pair.partition(b"=")[0].decode("latin-1")).replace("\x00", "")
                return f"query.{name}", "must not contain NUL characters"
    for name, value in scope["headers"]:
        if b"\x00" in value:
            return f"header.{name.decode('latin-1')}", "must not contain NUL characters"
    return None


class _TooLarge(Exception):
    pass


class RequestGuard:
    """Refuses oversized bodies (413) and input no store can take (422) before the app runs."""

    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, streamed_prefixes: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        #: Paths whose bodies are uploads, not JSON: their routes check a signed length and
        #: count the bytes as they stream, so the body is neither capped nor read here.
        self.streamed_prefixes = streamed_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = _envelope_problem(scope)
        if problem:
            await _invalid(*problem)(scope, receive, send)
            return
        if self.streamed_prefixes and scope["path"].startswith(self.streamed_prefixes):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        declared: int | None = None
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = None  # the server refuses a malformed length before we get here
        if declared is not None and declared > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        if not declared and b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body to read
            return
        try:
            body, tail = await self._read_body(receive)
        except _TooLarge:
            await self._too_large(scope, receive, send)
            return
        if tail is None and _is_json(headers.get(b"content-type")):
            problem = _body_problem(body)
            if problem:
                await _invalid(*problem)(scope, receive, send)
                return
        await self.app(scope, _replay(body, tail, receive), send)

    async def _read_body(self, receive: Receive) -> tuple[bytes, Message | None]:
        """The whole body, and the disconnect that cut it short (None when it arrived whole)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks), message
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), None

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.max_body_bytes
        response = error_response(
            413,
            "too_large",
            f"the request body is larger than this API accepts ({limit} bytes)",
            details={"limit_bytes": limit},
            # The rest of the body is never read: the connection cannot carry another request.
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def _invalid(field: str, problem: str) -> Any:
    return error_response(
        422, "invalid_request", f"{field}: {problem}", [{"field": field, "problem": problem}]
    )


def _replay(body: bytes, tail: Message | None, receive: Receive) -> Receive:
    """A receive that hands the app the body read here, then the server's own messages."""
    pending: list[Message] = [
        {"type": "http.request", "body": body, "more_body": tail is not None},
    ]
    if tail is not None:
        pending.append(tail)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
