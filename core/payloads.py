"""The one DataConverter every Ascension client and worker uses.

Large payloads (a hold map of a dense wall with polygons, a long validation Update) are moved out
of workflow history into object storage by the SDK's `ExternalStorage` with its S3 driver; history
keeps a small reference. The driver's S3 client is written on our `ObjectStore`, so the same
converter works against MinIO and against the quickstart's local folder. Starter, workers and
replayer must share this converter, or one side could not read what the other stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import string
from collections.abc import Iterable, Mapping, Sequence

from temporalio.api.common.v1 import Payload
from temporalio.contrib.aws.s3driver import S3StorageDriver, S3StorageDriverClient
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    ExternalStorage,
    StorageDriver,
    StorageDriverClaim,
    StorageDriverRetrieveContext,
    StorageDriverStoreContext,
    StorageDriverWorkflowInfo,
)

from core.payload_crypto import AesGcmCodec, KeyRing
from core.storage import ObjectStore
from schema import names

#: Payloads at least this large go to object storage. Temporal refuses payloads over 2 MiB and
#: warns from 512 KiB; keeping only small ones inline keeps histories fast to load and replay.
DEFAULT_PAYLOAD_THRESHOLD = 16 * 1024
#: The payload bucket's lifecycle rule: objects are deleted this many days after they were
#: written. Far beyond any run (a day of hold validation, hours of GPU steps, a day of event
#: retries) and the namespace's retention of closed runs, whose histories still name them.
DEFAULT_PAYLOAD_RETENTION_DAYS = 30
#: Name the claims in histories carry; unchanged, so every recorded claim stays readable.
DRIVER_NAME = "ascension.objects"


class ObjectStoreS3Client(S3StorageDriverClient):
    """Adapts an `ObjectStore` (MinIO via miniopy-async, or a folder) to the SDK's S3 driver.

    The first write to a bucket creates it and sets its lifecycle rule (expiry after
    ``retention_days``), so whichever process stores a payload first leaves no bucket that
    keeps payloads for good.
    """

    def __init__(
        self, store: ObjectStore, *, retention_days: int = DEFAULT_PAYLOAD_RETENTION_DAYS
    ) -> None:
        self._store = store
        self._retention_days = retention_days
        self._prepared: set[str] = set()
        self._lock = asyncio.Lock()

    async def prepare_bucket(self, bucket: str) -> None:
        """Create the bucket and set its expiry rule (once per process and bucket)."""
        if bucket in self._prepared:
            return
        async with self._lock:
            if bucket not in self._prepared:
                await self._store.ensure_bucket(bucket)
                await self._store.expire_prefix(bucket, "", self._retention_days)
                self._prepared.add(bucket)

    async def put_object(self, *, bucket: str, key: str, data: bytes) -> None:
        await self.prepare_bucket(bucket)
        await self._store.put_bytes(bucket, key, data)

    async def object_exists(self, *, bucket: str, key: str) -> bool:
        return await self._store.exists(bucket, key)

    async def get_object(self, *, bucket: str, key: str) -> bytes:
        return await self._store.get_bytes(bucket, key)

    def describe(self) -> Mapping[str, str]:
        return {"store": type(self._store).__name__}


class AnalysisScopedDriver(StorageDriver):
    """The SDK's S3 driver, with every payload of an analysis under ``analyses/{id}/``.

    The SDK keys payloads by namespace, workflow type, workflow id and run
    (``v0/ns/…/wt/…/wi/analysis-{id}/ri/…``), so one analysis' payloads sit under several
    prefixes, and the type segment depends on who stored them. Here the payloads of an
    ``analysis-{id}`` workflow (its input, Updates, activity inputs and results, query answers)
    go to ``analyses/{id}/d/sha256/{digest}``: deleting the analysis deletes one prefix. Other
    payloads keep the SDK's keys. Reading follows the key in the claim, so payloads stored
    under the SDK's keys before this driver remain readable.
    """

    def __init__(self, client: ObjectStoreS3Client, bucket: str) -> None:
        self._client = client
        self._bucket = bucket
        self._sdk = S3StorageDriver(client, bucket, driver_name=DRIVER_NAME)

    def name(self) -> str:
        return DRIVER_NAME

    def type(self) -> str:
        return self._sdk.type()

    async def store(
        self, context: StorageDriverStoreContext, payloads: Sequence[Payload]
    ) -> list[StorageDriverClaim]:
        target = context.target
        analysis_id = (
            names.analysis_id_of_workflow(target.id)
            if isinstance(target, StorageDriverWorkflowInfo)
            else None
        )
        if analysis_id is None:
            return await self._sdk.store(context, payloads)
        prefix = names.analysis_prefix(analysis_id)
        return list(await asyncio.gather(*(self._put(prefix, p) for p in payloads)))

    async def _put(self, prefix: str, payload: Payload) -> StorageDriverClaim:
        data = payload.SerializeToString()
        digest = hashlib.sha256(data).hexdigest()
        key = f"{prefix}d/sha256/{digest}"
        # Content-addressed: the same bytes of the same analysis are written once.
        if not await self._client.object_exists(bucket=self._bucket, key=key):
            await self._client.put_object(bucket=self._bucket, key=key, data=data)
        return StorageDriverClaim(
            claim_data={
                "bucket": self._bucket,
                "key": key,
                "hash_algorithm": "sha256",
                "hash_value": digest,
            }
        )

    async def retrieve(
        self, context: StorageDriverRetrieveContext, claims: Sequence[StorageDriverClaim]
    ) -> list[Payload]:
        return await self._sdk.retrieve(context, claims)


def analysis_payload_prefixes(namespace: str, analysis_id: str) -> list[str]:
    """Every prefix of the payload bucket that can hold payloads of this analysis: its own
    (`AnalysisScopedDriver`) and the SDK's, where payloads written before it are."""
    ns = _sdk_segment(namespace or "null")
    workflow_id = _sdk_segment(names.analysis_workflow_id(analysis_id))
    return [
        names.analysis_prefix(analysis_id),
        *(
            f"v0/ns/{ns}/wt/{workflow_type}/wi/{workflow_id}/"
            for workflow_type in ("VideoAnalysisWorkflow", "null")
        ),
    ]


def payload_analysis_ids(namespace: str, keys: Iterable[str]) -> set[str]:
    """The analyses that payload-bucket ``keys`` belong to, under either layout of
    `analysis_payload_prefixes` (the daily cleanup's search for payloads of deleted analyses)."""
    sdk = re.compile(
        rf"v0/ns/{re.escape(_sdk_segment(namespace or 'null'))}/wt/[^/]+/wi/"
        rf"{re.escape(_sdk_segment(names.analysis_workflow_id('')))}([A-Za-z0-9_-]+)/"
    )
    own = names.analysis_prefix("").rstrip("/") + "/"  # "analyses/"
    found: set[str] = set()
    for key in keys:
        if key.startswith(own):
            analysis_id = key[len(own) :].split("/", 1)[0]
        elif match := sdk.match(key):
            analysis_id = match.group(1)
        else:
            continue
        if names.analysis_id_of_workflow(names.analysis_workflow_id(analysis_id)):
            found.add(analysis_id)
    return found


_SDK_SAFE = frozenset(string.ascii_letters + string.digits + "!-_.*'()")


def _sdk_segment(value: str) -> str:
    """A key segment as the SDK's S3 driver writes it (percent-encoding outside S3's safe set)."""
    return "".join(
        chr(byte) if chr(byte) in _SDK_SAFE else f"%{byte:02X}" for byte in value.encode()
    )


def make_data_converter(
    store: ObjectStore,
    bucket: str,
    *,
    threshold: int = DEFAULT_PAYLOAD_THRESHOLD,
    retention_days: int = DEFAULT_PAYLOAD_RETENTION_DAYS,
    keys: KeyRing | None = None,
) -> DataConverter:
    """The shared converter: JSON payloads, with those over ``threshold`` bytes in ``bucket``
    (analysis-scoped keys, deleted by the bucket's rule after ``retention_days``).

    With a key ring, payloads are AES-GCM encrypted under its active key (`AesGcmCodec`). The
    SDK runs the codec before external storage, so history and the bucket both hold
    ciphertext; the threshold is then measured on the encrypted size (a few bytes more).
    Failure messages and stack traces are encrypted too while a key is active.
    """
    client = ObjectStoreS3Client(store, retention_days=retention_days)
    driver = AnalysisScopedDriver(client, bucket)
    storage = ExternalStorage(drivers=[driver], payload_size_threshold=threshold)
    codec = AesGcmCodec(keys) if keys is not None and not keys.empty else None
    if codec is None or keys is None or keys.active is None:
        return DataConverter(payload_codec=codec, external_storage=storage)
    # Failure messages and stack traces (a refused hold map names its holds) are history too:
    # with encryption on they travel as an encoded payload, and the Web UI decodes them through
    # the codec server like any other. Reading either form needs no setting.
    return DataConverter(
        payload_codec=codec,
        external_storage=storage,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
