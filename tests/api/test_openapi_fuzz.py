"""Property-based fuzzing of every documented operation with schemathesis, in process.

The app's own `/openapi.json` drives the generation; requests reach the app through
schemathesis's ASGI transport, authenticated as a freshly registered climber. No answer may be
a 5xx, and answers to valid requests must match what the schema documents (status code,
content type, body). Invalid requests are only held to "no 5xx": like most HTTP APIs this one
ignores query parameters it does not know (which schemathesis's `negative_data_rejection` counts
as a failure), and FastAPI answers an unparseable JSON body with a 400 the schema does not list.
A failure here is a real bug: the report shows the request that triggers it.

schemathesis runs the app on an event loop of its own (a portal thread), so the app is a second
instance over the session's database, store and Temporal server rather than the `api_app`
whose connections belong to pytest's loop.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any, cast
from urllib.parse import quote

import pytest
import schemathesis
from _pytest.mark import ParameterSet
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis import APIOperation, Case, CheckFunction, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi as schemathesis_asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from core.settings import Settings

pytestmark = pytest.mark.integration

#: Operations left out: logout would end the session the fuzzer signs in with.
EXCLUDED_PATHS = ("/api/v1/auth/logout",)
#: Per operation and mode; raise it locally to hunt harder (ASCENSION_FUZZ_EXAMPLES=500).
MAX_EXAMPLES = int(os.environ.get("ASCENSION_FUZZ_EXAMPLES", "25"))
CONFORMANCE: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
REFUSAL: list[CheckFunction] = [not_a_server_error]


@pytest.fixture(scope="module")
def fuzz_app(api_settings: Settings, api_app: FastAPI) -> Iterator[FastAPI]:
    # `api_app` migrated the database this app shares.
    app = create_app(api_settings)
    yield app
    # The lifespan schemathesis started (pool, store session) ends with this module.
    schemathesis_asgi.shutdown_lifespans()


@pytest.fixture(scope="module")
def fuzz_headers(fuzz_app: FastAPI) -> dict[str, str]:
    # Its loop is the one schemathesis requests run on (the annotation is narrower than ASGI).
    with schemathesis_asgi.get_client(cast(Any, fuzz_app)) as client:
        response = client.post(
            "/api/v1/auth/register",
            json={
                "email": f"fuzz-{uuid.uuid4().hex[:12]}@example.com",
                "password": "correct horse battery",
            },
        )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="module")
def openapi(fuzz_app: FastAPI) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


def documented_operations() -> list[ParameterSet]:
    """Every operation, read at collection time from an app that is only built, not started
    (the schema needs no server), with whether it takes any input to get wrong."""
    paths = create_app().openapi()["paths"]
    return [
        pytest.param(
            method.upper(),
            path,
            bool(spec.get("parameters") or spec.get("requestBody")),
            id=f"{method.upper()} {path}",
        )
        for path, item in paths.items()
        if path not in EXCLUDED_PATHS
        for method, spec in item.items()
    ]


def fuzz(operation: APIOperation, mode: GenerationMode, run: Callable[[Case], object]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        # Real servers behind the app: slow examples are expected, not a generation problem.
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def examples(case: Case) -> None:
        run(case)

    examples()


@pytest.mark.parametrize(("method", "path", "takes_input"), documented_operations())
def test_operation_keeps_its_contract(
    method: str,
    path: str,
    takes_input: bool,
    openapi: schemathesis.BaseSchema,
    fuzz_headers: dict[str, str],
) -> None:
    operation = openapi[path][method]
    # Valid requests: answered as documented.
    fuzz(
        operation,
        GenerationMode.POSITIVE,
        lambda case: case.call_and_validate(headers=fuzz_headers, checks=CONFORMANCE),
    )
    if not takes_input:
        return
    # Invalid requests: never a crash.
    fuzz(
        operation,
        GenerationMode.NEGATIVE,
        lambda case: case.call_and_validate(headers=fuzz_headers, checks=REFUSAL),
    )


# --- hostile values, sent to every operation -------------------------------------------------
# Issue 14: values the database or a parser cannot take (NUL, lone surrogates, integers over
# 64 bits, NaN/infinity, a timestamp without a timezone) crashed operations schemathesis's
# generators rarely reach with them. Each operation gets one valid-looking request built from
# its schema (documented examples first), then that request again with one value replaced,
# for every value it takes: body fields, query and path parameters, headers.
HOSTILE_TEXT = ("\x00", "\ud800", "\udfff")
HOSTILE_INTS = (10**30, -(10**30), 2**63)
HOSTILE_NUMBERS: tuple[float | int, ...] = (float("inf"), float("-inf"), float("nan"), 10**30)
HOSTILE_CURSORS = tuple(
    base64.urlsafe_b64encode(f"{created}|{uuid.uuid4()}".encode()).decode()
    for created in ("2026-01-01T00:00:00", "9999-12-31T23:59:59-14:00")
)
Json = Any


def _resolve(schema: Json, document: Json) -> Json:
    while isinstance(schema, dict) and "$ref" in schema:
        node = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def example_of(schema: Json, document: Json) -> Json:
    """A plausible value for ``schema``: its documented example, else one built from its type."""
    schema = _resolve(schema, document)
    for key in ("examples", "example", "default"):
        value = schema.get(key)
        if key == "examples" and value:
            return value[0]
        if key != "examples" and value is not None:
            return value
    for key in ("anyOf", "oneOf", "allOf"):
        options = [_resolve(option, document) for option in schema.get(key, ())]
        options = [option for option in options if option.get("type") != "null"]
        if options:
            return example_of(options[0], document)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {
            name: example_of(prop, document) for name, prop in schema.get("properties", {}).items()
        }
    if kind == "array":
        if "prefixItems" in schema:
            return [example_of(item, document) for item in schema["prefixItems"]]
        return [example_of(schema.get("items", {}), document)]
    if kind == "string":
        if schema.get("format") == "uuid":
            return str(uuid.uuid4())
        length = max(schema.get("minLength", 0), 8)
        return ("route" * length)[: min(length, schema.get("maxLength", length))]
    if kind == "integer":
        return max(schema.get("minimum", 1), 1)
    if kind == "number":
        return schema.get("minimum", 0.5)
    if kind == "boolean":
        return False
    return "route"


def _leaves(
    value: Json, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], Json]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path, value


def _replaced(value: Json, path: tuple[str | int, ...], new: Json) -> Json:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replaced(value[path[0]], path[1:], new)  # type: ignore[index]
    return copy


def _hostile_for(value: Json) -> tuple[Json, ...]:
    if isinstance(value, bool):
        return ()
    if isinstance(value, int):
        return HOSTILE_INTS
    if isinstance(value, float):
        return HOSTILE_NUMBERS
    if isinstance(value, str):
        middle = len(value) // 2
        return tuple(value[:middle] + text + value[middle:] for text in HOSTILE_TEXT)
    return ()


@dataclasses.dataclass
class Probe:
    what: str
    path: dict[str, str]
    query: dict[str, str]
    headers: dict[str, str]
    body: Json = None
    #: The edge must refuse it (422): a hostile value in a JSON body.
    refused: bool = False


def _probes(spec: Json, document: Json) -> Iterator[Probe]:
    values: dict[str, dict[str, Json]] = {"path": {}, "query": {}, "header": {}}
    for parameter in spec.get("parameters", ()):
        parameter = _resolve(parameter, document)
        if parameter["in"] in values:
            values[parameter["in"]][parameter["name"]] = example_of(parameter["schema"], document)
    content = spec.get("requestBody", {}).get("content", {}).get("application/json")
    body = example_of(content["schema"], document) if content else None

    def probe(what: str, **changes: Json) -> Probe:
        fields: dict[str, Json] = {
            "path": values["path"],
            "query": values["query"],
            "headers": values["header"],
            "body": body,
        }
        fields.update(changes)
        return Probe(what, **fields)

    yield probe("as documented")
    for where, field in (("path", "path"), ("query", "query"), ("header", "headers")):
        for name, value in values[where].items():
            hostile = _hostile_for(value if value is not None else "route")
            if where != "path" and isinstance(value, int):
                hostile = HOSTILE_INTS
            if name == "cursor":
                hostile = (*hostile, *HOSTILE_CURSORS)
            if where == "header":  # headers are bytes: a NUL, never a surrogate
                hostile = tuple(v for v in hostile if isinstance(v, str) and "\x00" in v)
            for bad in hostile:
                yield probe(f"{where} {name}={bad!r}", **{field: {**values[where], name: bad}})
    if isinstance(body, dict):
        for path, value in _leaves(body):
            for bad in _hostile_for(value):
                label = ".".join(str(part) for part in path)
                yield probe(f"body {label}={bad!r}", body=_replaced(body, path, bad), refused=True)
        yield probe("body key with NUL", body={**body, "extra\x00": 1}, refused=True)


def _url(template: str, probe: Probe) -> str:
    path = template
    for name, value in probe.path.items():
        path = path.replace(f"{{{name}}}", quote(str(value), safe="", errors="surrogatepass"))
    query = "&".join(
        f"{quote(name)}={quote(str(value), safe='', errors='surrogatepass')}"
        for name, value in probe.query.items()
        if value is not None
    )
    return f"{path}?{query}" if query else path


@pytest.mark.parametrize(("method", "path", "takes_input"), documented_operations())
def test_operation_refuses_hostile_values_without_a_5xx(
    method: str,
    path: str,
    takes_input: bool,
    fuzz_app: FastAPI,
    fuzz_headers: dict[str, str],
) -> None:
    document = fuzz_app.openapi()
    spec = document["paths"][path][method.lower()]
    failures = []
    sent = 0
    with schemathesis_asgi.get_client(cast(Any, fuzz_app)) as client:
        for probe in _probes(spec, document):
            headers = {**fuzz_headers, **{k: str(v) for k, v in probe.headers.items()}}
            data = None
            if probe.body is not None:
                # ensure_ascii: lone surrogates travel as \ud800 escapes, NaN as a literal.
                data = json.dumps(probe.body).encode()
                headers["Content-Type"] = "application/json"
            response = client.request(method, _url(path, probe), data=data, headers=headers)
            sent += 1
            status = response.status_code
            if status >= 500:
                failures.append(f"{probe.what}: {status} {response.text[:200]}")
            elif probe.refused and status != 422:
                failures.append(f"{probe.what}: expected 422, got {status} {response.text[:200]}")
            elif status >= 400 and "error" not in response.json():
                failures.append(f"{probe.what}: {status} outside the error shape")
    assert sent >= 1
    assert failures == [], "\n".join(failures)
