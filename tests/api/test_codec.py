"""The codec endpoints on an encrypted deployment: history holds only ciphertext and references,
and support staff (only they, only from the Web UI's origin) read the real payloads back.

Real PostgreSQL (accounts), MinIO (the payload bucket) and the Temporal dev server; the workflow
is the production VideoAnalysisWorkflow with the fake activities, run by workers on the same
encrypted converter.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from core.payload_crypto import ENCRYPTED_ENCODING, AesGcmCodec, KeyRing, new_key
from core.settings import Settings
from core.storage import make_object_store
from core.temporal_client import temporal_data_converter
from schema.analysis import StartAnalysisInput
from schema.models import Role
from tests.api.conftest import Climber, ClimberFactory
from tests.utils.codec import (
    HOLD_ID,
    HOLD_TYPE,
    completed_dense_analysis,
    encrypted_settings,
    payloads_in,
    running_app,
)
from worker_cpu.replay import replay_history

pytestmark = pytest.mark.integration

UI_ORIGIN = "http://127.0.0.1:8233"


@dataclass
class Encrypted:
    codec: httpx.AsyncClient
    settings: Settings
    history_payloads: list[Payload]
    history_bytes: bytes
    params: StartAnalysisInput
    history: WorkflowHistory


@pytest.fixture(scope="module")
async def encrypted(
    api_settings: Settings, api_app: FastAPI, temporal_dev_env: WorkflowEnvironment
) -> AsyncIterator[Encrypted]:
    # api_app: the session's app has migrated the database the accounts live in.
    settings = encrypted_settings(api_settings, ui_origin=UI_ORIGIN)
    target = temporal_dev_env.client.service_client.config.target_host
    handle, params = await completed_dense_analysis(settings, target, "codec-history")
    # The history exactly as the server keeps it (and the Web UI receives it).
    raw = await temporal_dev_env.client.get_workflow_handle(handle.id).fetch_history()
    history = raw.to_json().encode()
    async with running_app(settings) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            payloads = [p for event in raw.events for p in payloads_in(event)]
            yield Encrypted(client, settings, payloads, history, params, raw)


def _body(payloads: list[Payload]) -> dict:
    return {"payloads": [json_format.MessageToDict(p) for p in payloads]}


def _payloads(answer: httpx.Response) -> list[Payload]:
    assert answer.status_code == 200, answer.text
    return [json_format.ParseDict(item, Payload()) for item in answer.json()["payloads"]]


async def test_history_payloads_are_ciphertext_or_references(encrypted: Encrypted) -> None:
    kinds = set()
    for payload in encrypted.history_payloads:
        if payload.metadata.get("encoding") == ENCRYPTED_ENCODING:
            assert payload.metadata["encryption-key-id"] == b"k2"  # the active key
            kinds.add("encrypted")
        else:
            assert payload.metadata.get("messageType", b"").endswith(b"ExternalStorageReference")
            kinds.add("reference")
    assert kinds == {"encrypted", "reference"}
    # Not one hold of the map, nor the climber's route, is readable in the history.
    for plaintext in (HOLD_ID, HOLD_TYPE, '"holds"', encrypted.params.route_id):
        assert plaintext.encode() not in encrypted.history_bytes, plaintext


async def test_support_reads_every_payload_decoded(
    encrypted: Encrypted, climber: ClimberFactory
) -> None:
    staff = await climber(role=Role.SUPPORT)
    answer = await encrypted.codec.post(
        "/codec/decode",
        json=_body(encrypted.history_payloads),
        headers={**staff.headers, "X-Namespace": encrypted.settings.temporal_namespace},
    )
    decoded = _payloads(answer)
    assert len(decoded) == len(encrypted.history_payloads)
    # Plain JSON, or the converter's None (an activity that returns nothing).
    encodings = {p.metadata["encoding"] for p in decoded}
    assert encodings == {b"json/plain", b"binary/null"}, encodings
    inputs = [json.loads(p.data) for p in decoded if b'"route_hold_map"' in p.data]
    assert inputs, "the workflow input was not among the decoded payloads"
    holds = inputs[0]["route_hold_map"]["holds"]
    assert len(holds) == 200
    assert HOLD_ID in {hold["id"] for hold in holds}


async def test_encode_gives_what_workers_decrypt(encrypted: Encrypted, climber) -> None:
    staff = await climber(role=Role.SUPPORT)
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"reason": "redrive"}')
    [sealed] = _payloads(
        await encrypted.codec.post("/codec/encode", json=_body([plain]), headers=staff.headers)
    )
    assert sealed.metadata["encoding"] == ENCRYPTED_ENCODING
    assert b"redrive" not in sealed.data
    decoded = _payloads(
        await encrypted.codec.post("/codec/decode", json=_body([sealed]), headers=staff.headers)
    )
    assert decoded == [plain]


async def test_a_key_the_ring_lacks_is_a_clear_400(encrypted: Encrypted, climber) -> None:
    staff = await climber(role=Role.SUPPORT)
    stranger = AesGcmCodec(KeyRing.from_base64({"k0": new_key()}, "k0"))
    [sealed] = await stranger.encode([Payload(metadata={"encoding": b"json/plain"}, data=b"1")])
    answer = await encrypted.codec.post(
        "/codec/decode", json=_body([sealed]), headers=staff.headers
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "payload_key_unknown"
    assert "key id 'k0'" in error["message"] and "k1, k2" in error["message"]
    assert "Traceback" not in answer.text

    unlabelled = Payload(metadata={"encoding": ENCRYPTED_ENCODING}, data=sealed.data)
    answer = await encrypted.codec.post(
        "/codec/decode", json=_body([unlabelled]), headers=staff.headers
    )
    assert answer.status_code == 400
    assert "carries no 'encryption-key-id'" in answer.json()["error"]["message"]


async def test_only_support_accounts_may_decode(encrypted: Encrypted, climber) -> None:
    body = _body(encrypted.history_payloads[:1])
    assert (await encrypted.codec.post("/codec/decode", json=body)).status_code == 401
    climber_only: Climber = await climber()
    answer = await encrypted.codec.post("/codec/decode", json=body, headers=climber_only.headers)
    assert answer.status_code == 403
    staff = await climber(role=Role.SUPPORT)
    answer = await encrypted.codec.post(
        "/codec/decode", json=body, headers={**staff.headers, "X-Namespace": "someone-else"}
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "unknown_namespace"


async def test_the_web_ui_origin_alone_gets_cors_and_the_cookie_session_works(
    encrypted: Encrypted, climber
) -> None:
    codec = encrypted.codec
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace",
    }
    ok = await codec.options("/codec/decode", headers={"Origin": UI_ORIGIN, **preflight})
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == UI_ORIGIN
    assert ok.headers["access-control-allow-credentials"] == "true"
    other = await codec.options(
        "/codec/decode", headers={"Origin": "http://evil.test", **preflight}
    )
    assert other.status_code == 403
    assert "access-control-allow-origin" not in other.headers

    # The support member's browser: sign in once, then the UI's requests carry the cookie.
    staff = await climber(role=Role.SUPPORT)
    # The sign-in page posts from the API's own origin, which is not the UI's.
    opened = await codec.post("/codec/session", headers={**staff.headers, "Origin": "http://api"})
    assert opened.status_code == 204, opened.text
    cookie = opened.headers["set-cookie"]
    for attribute in ("ascension_codec=", "HttpOnly", "SameSite=strict", "Path=/codec"):
        assert attribute.lower() in cookie.lower(), cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    answer = await codec.post(
        "/codec/decode",
        json=_body(encrypted.history_payloads),
        headers={"Origin": UI_ORIGIN, "Cookie": f"ascension_codec={token}"},
    )
    assert answer.headers["access-control-allow-origin"] == UI_ORIGIN
    assert len(_payloads(answer)) == len(encrypted.history_payloads)
    refused = await codec.post(
        "/codec/decode",
        json=_body(encrypted.history_payloads),
        headers={"Origin": "http://evil.test", "Cookie": f"ascension_codec={token}"},
    )
    assert refused.status_code == 403

    closed = await codec.delete("/codec/session", headers={"Origin": UI_ORIGIN})
    assert closed.status_code == 204
    assert 'ascension_codec=""' in closed.headers["set-cookie"]
    assert "max-age=0" in closed.headers["set-cookie"].lower()


async def test_the_encrypted_history_replays_with_the_ring_and_not_without(
    encrypted: Encrypted,
) -> None:
    """`ascension replay` and CI decode with the same converter: the ring is what makes an
    encrypted history readable to the replayer."""
    store = make_object_store(encrypted.settings)
    try:
        with_ring = temporal_data_converter(encrypted.settings, store)
        outcome = await replay_history(encrypted.history, data_converter=with_ring)
        assert outcome.ok, outcome.failure
        no_ring = encrypted.settings.model_copy(
            update={"payload_encryption_keys": {}, "payload_encryption_key_id": None}
        )
        outcome = await replay_history(
            encrypted.history, data_converter=temporal_data_converter(no_ring, store)
        )
        assert not outcome.ok
        assert outcome.failure and "Failed decoding arguments" in outcome.failure
    finally:
        await store.close()
