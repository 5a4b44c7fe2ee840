"""What the codec server does to payloads: the shared DataConverter's path run for a reader.

The Web UI and the ``temporal`` CLI show payloads exactly as history holds them. Ours hold two
kinds a person cannot read: references to payloads kept in the payload bucket (the SDK's
``ExternalStorageReference``, shown as ``claimData {bucket, key, ...}``) and, when encryption is
on, ``binary/encrypted`` ciphertext. `PayloadCodecService.decode` turns both back into the
payload the workflow code saw (a reference is fetched, then decrypted: the SDK encrypts before
it stores); `encode` is the outbound half for what support staff type into the UI (a signal's
input), encrypted with the active key so workers read it like any other payload.

It is built from the converter `make_data_converter` returns (its storage driver and codec),
so there is still one place that decides how payloads are stored and encrypted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from google.protobuf import json_format
from temporalio.api.common.v1 import Payload
from temporalio.api.sdk.v1.external_storage_pb2 import ExternalStorageReference
from temporalio.converter import (
    DataConverter,
    StorageDriver,
    StorageDriverClaim,
    StorageDriverRetrieveContext,
)

from core.storage import ObjectNotFound

_REFERENCE_ENCODING = b"json/protobuf"
_REFERENCE_TYPE = ExternalStorageReference.DESCRIPTOR.full_name.encode()
#: Written by SDK releases before the reference became a protobuf message; still readable.
_LEGACY_REFERENCE_ENCODING = b"json/external-storage-reference"
#: Marks a reference that was itself run through the codec (a future SDK default).
_REFERENCE_MARKER = "__temporal_external_storage_reference"


class PayloadResolveError(ValueError):
    """A reference this service refuses or cannot follow (message says which and why)."""


class PayloadCodecService:
    """Decodes history payloads for display and encodes typed-in ones, as the converter would.

    Only references into ``bucket`` (the payload bucket) are followed: a reference is a claim
    anyone able to send one could write, and the service must not become a way to read other
    buckets (videos) through the codec endpoint.
    """

    def __init__(self, converter: DataConverter, bucket: str) -> None:
        storage = converter.external_storage
        if storage is None or len(storage.drivers) != 1:
            raise ValueError("the codec service needs the converter's one storage driver")
        self._driver: StorageDriver = storage.drivers[0]
        self._codec = converter.payload_codec
        self._bucket = bucket

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Each payload as the workflow code saw it; payloads of neither kind unchanged."""
        decoded = []
        for payload in payloads:
            if payload.metadata.get(_REFERENCE_MARKER) == b"true":
                payload = await self._decrypt(_unmarked(payload))
            claim = self._claim(payload)
            if claim is not None:
                payload = await self._retrieve(claim)
            decoded.append(await self._decrypt(payload))
        return decoded

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Encrypted with the active key when there is one, else unchanged."""
        if self._codec is None:
            return list(payloads)
        return await self._codec.encode(payloads)

    async def _retrieve(self, claim: StorageDriverClaim) -> Payload:
        key = claim.claim_data.get("key")
        try:
            [payload] = await self._driver.retrieve(StorageDriverRetrieveContext(), [claim])
        except RuntimeError as err:
            if isinstance(err.__cause__, ObjectNotFound):
                raise PayloadResolveError(
                    f"payload object {key!r} is gone: the payload bucket deletes payloads "
                    "after ASCENSION_PAYLOAD_RETENTION_DAYS, or its analysis was deleted"
                ) from None
            raise
        except ValueError as err:  # the driver's claim and integrity (sha256) checks
            raise PayloadResolveError(str(err)) from None
        return payload

    async def _decrypt(self, payload: Payload) -> Payload:
        if self._codec is None:
            return payload
        [decoded] = await self._codec.decode([payload])
        return decoded

    def _claim(self, payload: Payload) -> StorageDriverClaim | None:
        encoding = payload.metadata.get("encoding", b"")
        if encoding == _REFERENCE_ENCODING and payload.metadata.get("messageType") == (
            _REFERENCE_TYPE
        ):
            reference = ExternalStorageReference()
            try:
                json_format.Parse(payload.data, reference, ignore_unknown_fields=True)
            except json_format.ParseError as err:
                raise PayloadResolveError(f"unreadable storage reference: {err}") from None
            driver, claim_data = reference.driver_name, dict(reference.claim_data)
        elif encoding == _LEGACY_REFERENCE_ENCODING:
            try:
                legacy = json.loads(payload.data)
                driver = legacy["driver_name"]
                claim_data = dict(legacy["driver_claim"]["claim_data"])
            except (ValueError, KeyError, TypeError):
                raise PayloadResolveError("unreadable storage reference") from None
        else:
            return None
        if driver != self._driver.name():
            raise PayloadResolveError(f"payload stored by unknown driver {driver!r}")
        if claim_data.get("bucket") != self._bucket:
            raise PayloadResolveError(
                f"reference into bucket {claim_data.get('bucket')!r}; only the payload bucket "
                f"{self._bucket!r} is read"
            )
        return StorageDriverClaim(claim_data=claim_data)


def _unmarked(payload: Payload) -> Payload:
    copy = Payload()
    copy.CopyFrom(payload)
    del copy.metadata[_REFERENCE_MARKER]
    del copy.external_payloads[:]
    return copy
