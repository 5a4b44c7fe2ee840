"""AES-GCM encryption of Temporal payloads, with key ids so keys can be rotated.

Histories live on the Temporal server and large payloads in the payload bucket; both are read
by whoever operates those, and an analysis' payloads hold the climber's height, weight and
route. With a key ring configured, every payload is encrypted before it leaves the process
(`make_data_converter` puts this codec ahead of external storage, so the bucket receives
ciphertext too) and only holders of the ring, and the codec server for support staff, read it.

An encrypted payload is ``binary/encrypted`` with the key id in its metadata and
``nonce || ciphertext+tag`` as data; the key id is also the AES-GCM associated data, so a
payload relabelled with another id fails authentication instead of decrypting to garbage.
Rotation: add a key to the ring, make it active; payloads written under older ids keep
decrypting as long as their id stays in the ring. Payloads that are not encrypted (histories
written before encryption was turned on, the recorded test histories) pass through unchanged.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

if TYPE_CHECKING:
    from core.settings import Settings

ENCRYPTED_ENCODING = b"binary/encrypted"
#: The metadata key the Temporal samples' encryption codec uses for the same purpose.
KEY_ID_METADATA = "encryption-key-id"
_NONCE_BYTES = 12
_KEY_LENGTHS = (16, 24, 32)


class PayloadKeyError(ValueError):
    """An encrypted payload this process cannot decrypt: its key id is missing or not in the
    ring, or the bytes do not authenticate under that key.

    A configuration fault (a key retired too early, a process started without the ring), not
    bad input: it is fixed by deploying the key, after which Temporal's own retries of the
    workflow task or activity succeed, so it is deliberately not a non-retryable failure.
    """


@dataclass(frozen=True)
class KeyRing:
    """Encryption keys by id, and the id that encrypts new payloads.

    ``active`` None keeps the ring for decryption only: what was written encrypted stays
    readable after encryption is turned off.
    """

    keys: Mapping[str, bytes] = field(default_factory=dict)
    active: str | None = None

    def __post_init__(self) -> None:
        for key_id, key in self.keys.items():
            if not key_id or not key_id.isascii():
                raise ValueError(f"payload key id {key_id!r} must be non-empty ASCII")
            if len(key) not in _KEY_LENGTHS:
                raise ValueError(
                    f"payload key {key_id!r} is {len(key)} bytes; AES needs 16, 24 or 32"
                )
        if self.active is not None and self.active not in self.keys:
            raise ValueError(
                f"the active payload key id {self.active!r} is not in the key ring "
                f"(ids: {', '.join(sorted(self.keys)) or 'none'})"
            )

    @classmethod
    def from_base64(cls, keys: Mapping[str, str], active: str | None) -> KeyRing:
        """A ring from the settings' form: key id → base64 of the key bytes."""
        decoded = {}
        for key_id, text in keys.items():
            try:
                decoded[key_id] = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError(f"payload key {key_id!r} is not valid base64") from None
        return cls(decoded, active)

    @property
    def empty(self) -> bool:
        return not self.keys


def key_ring(settings: Settings) -> KeyRing:
    """The ring the settings configure (empty when encryption was never set up)."""
    keys = {
        key_id: secret.get_secret_value()
        for key_id, secret in settings.payload_encryption_keys.items()
    }
    return KeyRing.from_base64(keys, settings.payload_encryption_key_id)


def new_key() -> str:
    """A fresh 256-bit key, base64-encoded as the settings take it."""
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()


class AesGcmCodec(PayloadCodec):
    """Encrypts with the ring's active key; decrypts with whichever key the payload names."""

    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring
        self._ciphers = {key_id: AESGCM(key) for key_id, key in ring.keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        active = self._ring.active
        if active is None:
            return list(payloads)
        cipher = self._ciphers[active]
        aad = active.encode()
        encoded = []
        for payload in payloads:
            nonce = os.urandom(_NONCE_BYTES)
            sealed = cipher.encrypt(nonce, payload.SerializeToString(), aad)
            encoded.append(
                Payload(
                    metadata={"encoding": ENCRYPTED_ENCODING, KEY_ID_METADATA: aad},
                    data=nonce + sealed,
                )
            )
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def decrypt(self, payload: Payload) -> Payload:
        """The original payload, or ``payload`` itself when it is not encrypted."""
        if payload.metadata.get("encoding") != ENCRYPTED_ENCODING:
            return payload
        raw_id = payload.metadata.get(KEY_ID_METADATA)
        if not raw_id:
            raise PayloadKeyError(f"an encrypted payload carries no {KEY_ID_METADATA!r}")
        key_id = raw_id.decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            known = ", ".join(sorted(self._ciphers)) or "none"
            raise PayloadKeyError(
                f"payload encrypted with key id {key_id!r}, which is not in the key ring "
                f"(ids: {known}); add it to ASCENSION_PAYLOAD_ENCRYPTION_KEYS"
            )
        data = payload.data
        try:
            plain = cipher.decrypt(data[:_NONCE_BYTES], data[_NONCE_BYTES:], raw_id)
        except InvalidTag:
            raise PayloadKeyError(
                f"payload under key id {key_id!r} does not authenticate: wrong key for this "
                "id, or the bytes were altered"
            ) from None
        decoded = Payload()
        decoded.ParseFromString(plain)
        return decoded
