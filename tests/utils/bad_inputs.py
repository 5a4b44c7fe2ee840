"""Records every refused request the tests make, so the README's bad-input table is theirs.

A pytest plugin (registered by ``tests/conftest.py``). While each test runs, httpx's ``send``
(async and sync clients: the API's ASGI transport, uvicorn over TCP, presigned PUTs to MinIO) is
watched, and so is a WebSocket client's ``recv``. Each 4xx answer (or close code 4000-4999) becomes
a row: the test that sent it, a normalised request (ids, tokens and run-specific names masked, so
two runs write the same row) and the answer's status, code and message. The rows live in
``tests/data/bad_inputs.json``; ``ascension docs bad-inputs`` renders them into the README and
``tests/ascension/test_docs.py`` fails when the README differs.

Why the check sits here too: a catalogued test whose refused request is now answered with another
status, code or message fails at teardown, so the catalogue cannot keep a stale answer. A request
the catalogue has never seen only warns (another test of the wave may be adding one); run
``pytest --bad-inputs-update`` on the tests to take it in.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from websockets.asyncio.connection import Connection
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close

from ascension.docs import CATALOGUE, Row, dump_catalogue, load_catalogue

REGENERATE = "pytest --bad-inputs-update {where} && ascension docs bad-inputs"
#: Test modules whose inputs are generated afresh each run (schemathesis, hypothesis): their rows
#: would change every run. They hold the API to "no 5xx" on their own.
NOT_CATALOGUED = {"tests/api/test_openapi_fuzz.py"}
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Random suffixes (uuid4().hex[:8], RUN_ID) in emails, bucket and queue names.
_HEX = re.compile(r"(?<![0-9A-Za-z])([0-9a-fA-F]{8,32})(?![0-9A-Za-z])")
_SUFFIXED = re.compile(r"([-_.])([0-9a-fA-F]{8,32})(?=[@.\-_/\"]|$)")
_JWT = re.compile(r"^[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}$")
_SECRET = re.compile(r"token|secret", re.IGNORECASE)
# Query parameters of signed URLs whose values change with every signing.
_SIGNED = re.compile(r"signature|expires|token|credential|date", re.IGNORECASE)
# Figures that change from run to run inside an otherwise fixed message.
_VARYING = [(re.compile(r"try again in \d+ s"), "try again in N s")]
_DEFAULT_HEADERS = {
    "host",
    "accept",
    "accept-encoding",
    "connection",
    "user-agent",
    "content-length",
    "transfer-encoding",
    "content-type",
}


def normalise(text: str) -> str:
    """Mask what differs between runs: UUIDs, random hex suffixes, rate-limit waits."""
    text = _UUID.sub("{id}", text)
    text = _SUFFIXED.sub(
        lambda m: m.group(1) + "{hex}" if _is_random(m.group(2)) else m.group(0), text
    )
    text = _HEX.sub(lambda m: "{hex}" if _is_random(m.group(1)) else m.group(1), text)
    for pattern, replacement in _VARYING:
        text = pattern.sub(replacement, text)
    return text


def _is_random(run: str) -> bool:
    # The tests' random suffixes are uuid4().hex cut to 8 or 12. Other lengths are random when
    # they mix digits and letters: "aaaaaaaaaa" padding or 2**63 as a bound stay as written.
    if len(run) in (8, 12):
        return True
    return any(c.isdigit() for c in run) and any(c.isalpha() for c in run)


def _shorten(value: Any) -> Any:
    """Long strings become their shape (a hostile padding of a million 'a' is one short cell)."""
    if isinstance(value, str):
        if len(value) > 60:
            if len(set(value)) == 1:
                return f"<{value[0]!r} x {len(value)}>"
            return f"<{len(value)} chars>"
        # Before JSON escapes glue a random suffix to a "\ud800" (then no boundary is left).
        return normalise(value)
    if isinstance(value, dict):
        return {
            key: _secret(item) if _SECRET.search(key) else _shorten(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_shorten(item) for item in value[:4]] + (
            [f"<+{len(value) - 4}>"] if len(value) > 4 else []
        )
    return value


def _secret(value: Any) -> Any:
    """Tokens are random per run: the catalogue shows their shape, never their value."""
    if not isinstance(value, str) or not value:
        return value
    return "<JWT>" if _JWT.match(value) else f"<{len(value)}-char token>"


def _body(request: httpx.Request) -> str:
    try:
        content = request.content
    except httpx.RequestNotRead:
        return "<streamed body>"
    if not content:
        return ""
    kind = request.headers.get("content-type", "")
    if "json" in kind:
        try:
            document = json.loads(content)
        except ValueError:
            return f"<{len(content)} bytes, not JSON>"
        return json.dumps(_shorten(document), separators=(",", ":"))
    return f"<{len(content)} bytes{', ' + kind if kind else ''}>"


def _header_value(name: str, value: str) -> str:
    if name in ("authorization", "cookie"):
        scheme, _, credential = value.partition(" ")
        if name == "cookie":
            return "; ".join(part.split("=", 1)[0].strip() + "=…" for part in value.split(";"))
        if _JWT.match(credential):
            return f"{scheme} <JWT>"
        return f"{scheme} <opaque token>" if len(credential) > 12 else value
    return value if len(value) <= 40 else f"<{len(value)} chars>"


def _target(address: str) -> str:
    url = urlsplit(address)
    query = parse_qsl(url.query, keep_blank_values=True)
    if any(key.lower().startswith("x-amz-") for key, _ in query):
        return f"presigned {url.path.split('/', 2)[-1]}"  # without the run's bucket
    shown = [
        f"{key}=…" if len(value) > 24 or _SIGNED.search(key) else f"{key}={value}"
        for key, value in query
    ]
    return url.path + ("?" + "&".join(shown) if shown else "")


def describe_request(request: httpx.Request) -> dict[str, str]:
    """Method, target, notable headers and body, as the catalogue shows them."""
    target = _target(str(request.url))
    headers = {
        name: _header_value(name, value)
        for name, value in request.headers.items()
        if name not in _DEFAULT_HEADERS
    }
    kind = request.headers.get("content-type")
    if kind and "json" not in kind:
        headers["content-type"] = kind
    return {
        "method": request.method,
        "target": normalise(target),
        "headers": normalise(", ".join(f"{k}: {v}" for k, v in sorted(headers.items()))),
        "body": normalise(_body(request)),
    }


def describe_answer(response: httpx.Response) -> tuple[str, str]:
    """(code, message) of the API's error shape, or of S3's XML error from MinIO."""
    text = response.text
    try:
        error = response.json().get("error", {})
        return str(error.get("code", "")), normalise(str(error.get("message", "")))
    except (ValueError, AttributeError):
        pass
    code = re.search(r"<Code>([^<]*)</Code>", text)
    message = re.search(r"<Message>([^<]*)</Message>", text)
    if code:
        return code.group(1), normalise(message.group(1) if message else "")
    return "", normalise(text[:120])


class Recorder:
    """Rows of the running session, by test node id."""

    def __init__(self, config: pytest.Config) -> None:
        self.update = bool(config.getoption("bad_inputs_update"))
        self.path = Path(config.rootpath) / CATALOGUE
        self.catalogue = load_catalogue(self.path)
        self.recorded: dict[str, list[Row]] = {}
        self.passed: set[str] = set()

    def record(self, item: pytest.Item, request: httpx.Request, response: httpx.Response) -> None:
        if item.nodeid.split("::")[0] in NOT_CATALOGUED:
            return
        code, message = describe_answer(response)
        row = Row(
            test=item.nodeid,
            status=response.status_code,
            code=code,
            message=message,
            **describe_request(request),
        )
        rows = self.recorded.setdefault(item.nodeid, [])
        if row not in rows:
            rows.append(row)

    def record_close(self, item: pytest.Item, request: Any, frame: Close) -> None:
        """A WebSocket the server closed with an application code (4000-4999): a refusal."""
        if request is None:
            return
        headers = {
            name.lower(): _header_value(name.lower(), value)
            for name, value in request.headers.raw_items()
            if name.lower() in ("authorization", "cookie", "origin")
        }
        row = Row(
            test=item.nodeid,
            method="WebSocket",
            target=normalise(_target(request.path)),
            headers=normalise(", ".join(f"{k}: {v}" for k, v in sorted(headers.items()))),
            body="",
            status=frame.code,
            code="close frame",
            message=normalise(frame.reason),
        )
        rows = self.recorded.setdefault(item.nodeid, [])
        if row not in rows and item.nodeid.split("::")[0] not in NOT_CATALOGUED:
            rows.append(row)

    def drift(self, nodeid: str) -> tuple[list[str], list[str]]:
        """(answers changed for a catalogued request, requests the catalogue has not seen)."""
        known: dict[tuple[str, ...], set[tuple[int, str, str]]] = {}
        for row in self.catalogue:
            if row.test == nodeid:
                known.setdefault(row.key, set()).add(row.answer)
        changed, unseen = [], []
        for row in self.recorded.get(nodeid, []):
            if row.key not in known:
                unseen.append(f"{row.method} {row.target} -> {row.status} {row.code}")
            elif row.answer not in known[row.key]:
                was = ", ".join(f"{s} {c}: {m}" for s, c, m in sorted(known[row.key]))
                changed.append(
                    f"{row.method} {row.target} {row.body}: now {row.status} {row.code}: "
                    f"{row.message!r}; catalogued {was}"
                )
        return changed, unseen

    def write(self) -> None:
        """Replace the rows of tests that passed in this run; drop those of deleted tests."""
        kept = [
            row
            for row in self.catalogue
            if row.test not in self.passed and not self._deleted(row.test)
        ]
        fresh = [row for nodeid in sorted(self.passed) for row in self.recorded.get(nodeid, [])]
        dump_catalogue(self.path, kept + fresh)

    def _deleted(self, nodeid: str) -> bool:
        # From the source, not from what this run collected: `pytest FILE::TEST` collects one.
        path = self.path.parents[2] / nodeid.split("::")[0]
        name = nodeid.rsplit("::", 1)[-1].split("[")[0]
        return not path.exists() or f"def {name}(" not in path.read_text()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--bad-inputs-update",
        action="store_true",
        default=False,
        help=f"rewrite {CATALOGUE} from the refused requests of the tests that pass",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_KEY] = Recorder(config)


_KEY = pytest.StashKey[Recorder]()


@pytest.fixture(autouse=True)
def _bad_input_recorder(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    recorder = request.config.stash[_KEY]
    item = request.node
    del request  # the name is httpx's below
    async_send = httpx.AsyncClient.send
    sync_send = httpx.Client.send

    def keep(sent: httpx.Request, response: httpx.Response, stream: bool) -> None:
        if 400 <= response.status_code < 500 and not stream:
            recorder.record(item, sent, response)

    # The parameter keeps httpx's name: `client.stream()` passes it as `request=`.
    async def watched_async(self: httpx.AsyncClient, request: httpx.Request, **kwargs: Any) -> Any:
        response = await async_send(self, request, **kwargs)
        keep(request, response, bool(kwargs.get("stream")))
        return response

    def watched_sync(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> Any:
        response = sync_send(self, request, **kwargs)
        keep(request, response, bool(kwargs.get("stream")))
        return response

    async def watched_recv(self: Connection, *args: Any, **kwargs: Any) -> Any:
        try:
            return await ws_recv(self, *args, **kwargs)
        except ConnectionClosed as closed:
            if closed.rcvd is not None and 4000 <= closed.rcvd.code < 5000:
                recorder.record_close(item, getattr(self, "request", None), closed.rcvd)
            raise

    ws_recv = Connection.recv
    monkeypatch.setattr(Connection, "recv", watched_recv)
    monkeypatch.setattr(httpx.AsyncClient, "send", watched_async)
    monkeypatch.setattr(httpx.Client, "send", watched_sync)
    yield
    if recorder.update:
        return
    changed, unseen = recorder.drift(item.nodeid)
    where = item.nodeid
    if changed:
        pytest.fail(
            "the API answers a catalogued bad input differently (README's bad-input table):\n  "
            + "\n  ".join(changed)
            + "\nIf the new answer is right, regenerate: "
            + REGENERATE.format(where=where),
            pytrace=False,
        )
    if unseen:
        warnings.warn(
            f"{len(unseen)} refused request(s) of {where} not in {CATALOGUE}: "
            + "; ".join(unseen[:3])
            + ". Regenerate: "
            + REGENERATE.format(where=where),
            stacklevel=1,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    recorder = item.config.stash[_KEY]
    if report.when == "call" and report.passed:
        recorder.passed.add(item.nodeid)
    elif report.failed:
        recorder.passed.discard(item.nodeid)
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    recorder = session.config.stash[_KEY]
    if recorder.update:
        recorder.write()
