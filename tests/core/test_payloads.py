"""Temporal payloads kept out of history: an analysis' payloads lie under one prefix of its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.contrib.aws.s3driver import S3StorageDriver
from temporalio.converter import (
    StorageDriverActivityInfo,
    StorageDriverRetrieveContext,
    StorageDriverStoreContext,
    StorageDriverWorkflowInfo,
)

from core.payloads import (
    DRIVER_NAME,
    AnalysisScopedDriver,
    ObjectStoreS3Client,
    analysis_payload_prefixes,
    payload_analysis_ids,
)
from core.storage import LocalObjectStore

pytestmark = pytest.mark.unit

BUCKET = "payloads"


class _CountingStore(LocalObjectStore):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.rules: list[tuple[str, str, int]] = []

    async def expire_prefix(self, bucket: str, prefix: str, days: int) -> None:
        self.rules.append((bucket, prefix, days))


def _payload(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text.encode())


def _workflow(workflow_id: str, workflow_type: str | None = None) -> StorageDriverStoreContext:
    return StorageDriverStoreContext(
        target=StorageDriverWorkflowInfo(
            namespace="default", id=workflow_id, run_id="run-1", type=workflow_type
        )
    )


async def test_an_analysis_payloads_go_under_its_prefix_and_read_back(tmp_path: Path) -> None:
    store = _CountingStore(tmp_path)
    driver = AnalysisScopedDriver(ObjectStoreS3Client(store, retention_days=9), BUCKET)
    assert driver.name() == DRIVER_NAME
    claims = await driver.store(_workflow("analysis-1234-abcd"), [_payload("a"), _payload("b")])
    keys = [claim.claim_data["key"] for claim in claims]
    assert all(key.startswith("analyses/1234-abcd/d/sha256/") for key in keys)
    assert len(set(keys)) == 2
    # The same bytes of the same analysis are one object.
    again = await driver.store(_workflow("analysis-1234-abcd"), [_payload("a")])
    assert again[0].claim_data["key"] == keys[0]
    back = await driver.retrieve(StorageDriverRetrieveContext(), claims)
    assert [p.data for p in back] == [b"a", b"b"]
    # The bucket's expiry rule is set once, by the first write.
    assert store.rules == [(BUCKET, "", 9)]


async def test_other_payloads_keep_the_sdk_keys(tmp_path: Path) -> None:
    driver = AnalysisScopedDriver(ObjectStoreS3Client(LocalObjectStore(tmp_path)), BUCKET)
    training = await driver.store(_workflow("training-7"), [_payload("t")])
    assert training[0].claim_data["key"].startswith("v0/ns/default/wt/null/wi/training-7/")
    standalone = StorageDriverStoreContext(
        target=StorageDriverActivityInfo(namespace="default", id="analysis-1", type="x")
    )
    activity = await driver.store(standalone, [_payload("s")])
    assert activity[0].claim_data["key"].startswith("v0/ns/default/at/")


@pytest.mark.parametrize("workflow_type", ["VideoAnalysisWorkflow", None])
async def test_payloads_stored_before_the_scoped_driver_are_found_by_the_delete_prefixes(
    tmp_path: Path, workflow_type: str | None
) -> None:
    store = LocalObjectStore(tmp_path)
    sdk = S3StorageDriver(ObjectStoreS3Client(store), BUCKET, driver_name=DRIVER_NAME)
    [claim] = await sdk.store(_workflow("analysis-42", workflow_type), [_payload("old")])
    key = claim.claim_data["key"]
    prefixes = analysis_payload_prefixes("default", "42")
    assert any(key.startswith(prefix) for prefix in prefixes), (key, prefixes)
    # And the scoped driver reads what the SDK's stored (the claim carries the key).
    scoped = AnalysisScopedDriver(ObjectStoreS3Client(store), BUCKET)
    [payload] = await scoped.retrieve(StorageDriverRetrieveContext(), [claim])
    assert payload.data == b"old"
    for prefix in prefixes:
        await store.delete_prefix(BUCKET, prefix)
    assert not await store.exists(BUCKET, key)


@pytest.mark.parametrize("workflow_type", ["VideoAnalysisWorkflow", None])
async def test_the_cleanup_finds_the_analysis_of_every_payload_layout(
    tmp_path: Path, workflow_type: str | None
) -> None:
    """`payload_analysis_ids` reads the keys the SDK's driver and ours really write."""
    store = LocalObjectStore(tmp_path)
    sdk = S3StorageDriver(ObjectStoreS3Client(store), BUCKET, driver_name=DRIVER_NAME)
    await sdk.store(_workflow("analysis-42", workflow_type), [_payload("old")])
    await sdk.store(_workflow("route-holds-7", "RouteHoldsWorkflow"), [_payload("route")])
    scoped = AnalysisScopedDriver(ObjectStoreS3Client(store), BUCKET)
    await scoped.store(_workflow("analysis-43"), [_payload("new")])
    keys = await store.list_keys(BUCKET, "")
    assert len(keys) == 3
    assert payload_analysis_ids("default", keys) == {"42", "43"}
