"""deploy/compose/temporal-setup.sh run for real with the Temporal CLI, against the dev server:
it creates a namespace that does not exist with the retention asked for, registers the four
Keyword search attributes in it, and runs again without error (every `docker compose up` runs
it)."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.testing import WorkflowEnvironment

from ascension.toolchain import components
from core.settings import Settings
from schema.names import SEARCH_ATTRIBUTE_TYPES

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[1] / "deploy" / "compose" / "temporal-setup.sh"


def _run(cli: Path, address: str, namespace: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": f"{cli.parent}{os.pathsep}{os.environ['PATH']}",
        "TEMPORAL_ADDRESS": address,
        "TEMPORAL_NAMESPACE": namespace,
        "TEMPORAL_RETENTION": "72h",
    }
    return subprocess.run(["sh", str(SCRIPT)], env=env, capture_output=True, text=True)


async def test_namespace_and_search_attributes(
    settings: Settings, temporal_dev_env: WorkflowEnvironment
) -> None:
    cli = components.temporal_cli_path(settings)
    if cli is None or cli.name != "temporal":
        pytest.skip("no Temporal CLI in the cache (make bootstrap)")
    client = temporal_dev_env.client
    address = client.service_client.config.target_host
    namespace = f"compose-{uuid.uuid4().hex[:8]}"

    first = _run(cli, address, namespace)
    assert first.returncode == 0, first.stdout + first.stderr
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=namespace)
    )
    retention = described.config.workflow_execution_retention_ttl.ToTimedelta()
    assert retention.total_seconds() == 72 * 3600
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    assert set(SEARCH_ATTRIBUTE_TYPES.values()) == {"Keyword"}
    for name in SEARCH_ATTRIBUTE_TYPES:
        assert listed.custom_attributes.get(name) == IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD

    again = _run(cli, address, namespace)
    assert again.returncode == 0, again.stdout + again.stderr
