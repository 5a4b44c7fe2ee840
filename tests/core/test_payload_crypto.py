"""AES-GCM payload encryption: round trips, rotation, and clear refusals."""

from __future__ import annotations

import base64

import pytest
from pydantic import SecretStr, ValidationError
from temporalio.api.common.v1 import Payload

from core.payload_crypto import (
    ENCRYPTED_ENCODING,
    KEY_ID_METADATA,
    AesGcmCodec,
    KeyRing,
    PayloadKeyError,
    new_key,
)
from core.settings import Settings

pytestmark = pytest.mark.unit

OLD, NEW = new_key(), new_key()


def _ring(active: str | None, **keys: str) -> KeyRing:
    return KeyRing.from_base64(keys, active)


def _plain(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text.encode())


async def test_a_payload_is_ciphertext_under_the_active_key_and_decrypts_back() -> None:
    codec = AesGcmCodec(_ring("k1", k1=OLD))
    original = _plain('{"holds": [{"id": "h1"}]}')
    [sealed] = await codec.encode([original])
    assert sealed.metadata["encoding"] == ENCRYPTED_ENCODING
    assert sealed.metadata[KEY_ID_METADATA] == b"k1"
    assert b"holds" not in sealed.SerializeToString()
    # A fresh nonce each time: equal payloads do not give equal ciphertext.
    [again] = await codec.encode([original])
    assert again.data != sealed.data
    assert await codec.decode([sealed]) == [original]


async def test_rotation_old_key_ids_still_decrypt_and_new_payloads_use_the_new_key() -> None:
    [old_sealed] = await AesGcmCodec(_ring("k1", k1=OLD)).encode([_plain("before")])
    rotated = AesGcmCodec(_ring("k2", k1=OLD, k2=NEW))
    [new_sealed] = await rotated.encode([_plain("after")])
    assert new_sealed.metadata[KEY_ID_METADATA] == b"k2"
    assert [p.data for p in await rotated.decode([old_sealed, new_sealed])] == [
        b"before",
        b"after",
    ]
    # Encryption turned off: nothing new is encrypted, the old still reads.
    off = AesGcmCodec(_ring(None, k1=OLD, k2=NEW))
    assert await off.encode([_plain("x")]) == [_plain("x")]
    assert (await off.decode([old_sealed]))[0].data == b"before"


async def test_unencrypted_payloads_pass_through_decoding() -> None:
    codec = AesGcmCodec(_ring("k1", k1=OLD))
    assert await codec.decode([_plain("recorded before encryption")]) == [
        _plain("recorded before encryption")
    ]


async def test_an_unknown_or_missing_key_id_is_a_clear_error() -> None:
    [sealed] = await AesGcmCodec(_ring("k1", k1=OLD)).encode([_plain("secret")])
    with pytest.raises(PayloadKeyError, match=r"key id 'k1', which is not in the key ring .*k9"):
        await AesGcmCodec(_ring("k9", k9=NEW)).decode([sealed])
    unlabelled = Payload()
    unlabelled.CopyFrom(sealed)
    del unlabelled.metadata[KEY_ID_METADATA]
    with pytest.raises(PayloadKeyError, match="carries no 'encryption-key-id'"):
        await AesGcmCodec(_ring("k1", k1=OLD)).decode([unlabelled])


async def test_a_wrong_key_or_a_relabelled_payload_does_not_authenticate() -> None:
    [sealed] = await AesGcmCodec(_ring("k1", k1=OLD)).encode([_plain("secret")])
    with pytest.raises(PayloadKeyError, match="does not authenticate"):
        await AesGcmCodec(_ring("k1", k1=NEW)).decode([sealed])
    # The key id is the associated data: the same bytes under another id are refused.
    relabelled = Payload()
    relabelled.CopyFrom(sealed)
    relabelled.metadata[KEY_ID_METADATA] = b"k2"
    with pytest.raises(PayloadKeyError, match="does not authenticate"):
        await AesGcmCodec(_ring("k1", k1=OLD, k2=OLD)).decode([relabelled])


def test_settings_refuse_a_bad_ring_at_start() -> None:
    with pytest.raises(ValidationError, match="not in the key ring"):
        Settings(payload_encryption_keys={"k1": SecretStr(OLD)}, payload_encryption_key_id="k2")
    with pytest.raises(ValidationError, match="not valid base64"):
        Settings(payload_encryption_keys={"k1": SecretStr("not base64!")})
    short = base64.b64encode(b"0123456789").decode()
    with pytest.raises(ValidationError, match="10 bytes; AES needs 16, 24 or 32"):
        Settings(payload_encryption_keys={"k1": SecretStr(short)})
    ok = Settings(payload_encryption_keys={"k1": SecretStr(OLD)}, payload_encryption_key_id="k1")
    assert (
        "k1" in ok.as_environment(["payload_encryption_keys"])["ASCENSION_PAYLOAD_ENCRYPTION_KEYS"]
    )
