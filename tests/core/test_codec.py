"""The codec server's work: stored and encrypted payloads back to what the workflow saw."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.api.sdk.v1.external_storage_pb2 import ExternalStorageReference
from temporalio.exceptions import ApplicationError

from core.codec import PayloadCodecService, PayloadResolveError
from core.payload_crypto import ENCRYPTED_ENCODING, KeyRing, PayloadKeyError, new_key
from core.payloads import make_data_converter
from core.storage import LocalObjectStore

pytestmark = pytest.mark.unit

BUCKET = "payloads"
BIG = {"holds": [{"id": f"h{i}", "x": i / 1000, "type": "crimp"} for i in range(600)]}


def _ring(active: str | None = "k1", **keys: str) -> KeyRing:
    return KeyRing.from_base64(keys or {"k1": KEY}, active)


KEY = new_key()


async def test_a_stored_encrypted_payload_and_an_inline_one_decode_to_plain_json(
    tmp_path: Path,
) -> None:
    store = LocalObjectStore(tmp_path)
    converter = make_data_converter(store, BUCKET, threshold=4096, keys=_ring())
    stored, inline = await converter.encode([BIG, {"id": "h1"}])
    # What history would hold: a reference (no hold in it) and ciphertext.
    assert stored.metadata["messageType"].endswith(b"ExternalStorageReference")
    assert inline.metadata["encoding"] == ENCRYPTED_ENCODING
    assert b"h1" not in stored.SerializeToString() + inline.SerializeToString()
    # The bucket holds ciphertext too: the codec runs before external storage.
    key = json_format.Parse(stored.data, ExternalStorageReference()).claim_data["key"]
    assert b"holds" not in await store.get_bytes(BUCKET, key)

    service = PayloadCodecService(converter, BUCKET)
    decoded = await service.decode([stored, inline])
    assert decoded == converter.payload_converter.to_payloads([BIG, {"id": "h1"}])


async def test_without_encryption_references_are_still_resolved(tmp_path: Path) -> None:
    converter = make_data_converter(LocalObjectStore(tmp_path), BUCKET, threshold=4096)
    [stored] = await converter.encode([BIG])
    [decoded] = await PayloadCodecService(converter, BUCKET).decode([stored])
    assert decoded.metadata["encoding"] == b"json/plain"
    assert b'"holds"' in decoded.data


async def test_encode_encrypts_with_the_active_key_only(tmp_path: Path) -> None:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"signal input"')
    on = make_data_converter(LocalObjectStore(tmp_path), BUCKET, keys=_ring())
    [sealed] = await PayloadCodecService(on, BUCKET).encode([plain])
    assert sealed.metadata["encoding"] == ENCRYPTED_ENCODING
    assert await PayloadCodecService(on, BUCKET).decode([sealed]) == [plain]
    off = make_data_converter(LocalObjectStore(tmp_path), BUCKET, keys=_ring(None))
    assert await PayloadCodecService(off, BUCKET).encode([plain]) == [plain]


async def test_references_outside_the_payload_bucket_or_gone_are_refused(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    converter = make_data_converter(store, BUCKET, threshold=4096, keys=_ring())
    [stored] = await converter.encode([BIG])
    service = PayloadCodecService(converter, BUCKET)

    reference = json_format.Parse(stored.data, ExternalStorageReference())
    reference.claim_data["bucket"] = "ascension-videos"
    elsewhere = Payload()
    elsewhere.CopyFrom(stored)
    elsewhere.data = json_format.MessageToJson(reference).encode()
    with pytest.raises(PayloadResolveError, match="only the payload bucket 'payloads'"):
        await service.decode([elsewhere])

    await store.delete(BUCKET, reference.claim_data["key"])
    with pytest.raises(PayloadResolveError, match="is gone"):
        await service.decode([stored])


async def test_a_payload_under_a_key_the_ring_lacks_is_a_clear_error(tmp_path: Path) -> None:
    writer = make_data_converter(LocalObjectStore(tmp_path), BUCKET, keys=_ring())
    [sealed] = await writer.encode([{"id": "h1"}])
    reader = make_data_converter(LocalObjectStore(tmp_path), BUCKET, keys=_ring("k2", k2=new_key()))
    with pytest.raises(PayloadKeyError, match="key id 'k1', which is not in the key ring"):
        await PayloadCodecService(reader, BUCKET).decode([sealed])


async def test_failure_messages_are_encrypted_while_a_key_is_active(tmp_path: Path) -> None:
    converter = make_data_converter(LocalObjectStore(tmp_path), BUCKET, keys=_ring())
    failure = Failure()
    refusal = ApplicationError("hold 'h12' is unknown", type="InvalidHoldMap", non_retryable=True)
    await converter.encode_failure(refusal, failure)
    assert b"h12" not in failure.SerializeToString()
    assert failure.encoded_attributes.metadata["encoding"] == ENCRYPTED_ENCODING
    back = await converter.decode_failure(failure)
    assert isinstance(back, ApplicationError) and back.message == "hold 'h12' is unknown"
    # Without an active key the message stays where readers of old histories expect it.
    plain = Failure()
    off = make_data_converter(LocalObjectStore(tmp_path), BUCKET, keys=_ring(None))
    await off.encode_failure(refusal, plain)
    assert plain.message == "hold 'h12' is unknown"
