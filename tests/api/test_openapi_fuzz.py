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

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any, cast

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
from ascension.settings import Settings

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
