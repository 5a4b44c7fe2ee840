"""deploy/k8s against Temporal: the official Helm chart's values and the Temporal Cloud overlay
agree with the ConfigMap, the settings object and the GPU queue KEDA watches."""

from __future__ import annotations

import pytest

from core.settings import Settings
from schema import names
from tests.deploy.k8s_manifests import (
    BASE,
    CLOUD,
    CONFIG,
    K8S,
    KEDA_TEMPORAL_METADATA,
    SECRET,
    Manifest,
    base_resources,
    find,
    kustomization,
    load_documents,
    secret_keys,
    setting_variables,
)

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def resources() -> list[Manifest]:
    return base_resources()


@pytest.fixture(scope="module")
def config(resources: list[Manifest]) -> dict[str, str]:
    data: dict[str, str] = find(resources, "ConfigMap", CONFIG)["data"]
    return data


# --- The Temporal Helm chart's values agree with the ConfigMap ---------------------------------


def test_helm_values_create_our_namespace_with_priority_matching(config: dict[str, str]) -> None:
    [values] = load_documents(K8S / "temporal-values.yaml")
    server = values["server"]
    [namespace] = server["config"]["namespaces"]["namespace"]
    assert server["config"]["namespaces"]["create"] is True
    assert namespace["name"] == config["ASCENSION_TEMPORAL_NAMESPACE"]
    retention_days = int(namespace["retention"].removesuffix("d"))
    # Closed runs outlive neither their payloads (bucket lifecycle) nor under a week.
    assert 7 <= retention_days < Settings.model_fields["payload_retention_days"].default
    dynamic = server["dynamicConfig"]
    assert dynamic["matching.useNewMatcher"] == [{"value": True}]
    for key in ("matching.numTaskqueueReadPartitions", "matching.numTaskqueueWritePartitions"):
        [rule] = dynamic[key]
        assert rule == {"value": 1, "constraints": {"taskQueueName": names.GPU_TASK_QUEUE}}
    # "temporal" release in namespace "temporal": the frontend the ConfigMap names.
    assert (
        config["ASCENSION_TEMPORAL_ADDRESS"] == "temporal-frontend.temporal.svc.cluster.local:7233"
    )


# --- The Temporal Cloud overlay ----------------------------------------------------------------


def test_cloud_overlay_patches_what_the_base_has(resources: list[Manifest]) -> None:
    overlay = kustomization(CLOUD)
    # kustomize refuses an overlay inside the folder of the base it builds on (a cycle).
    assert overlay["resources"][0] == "../../base"
    assert (CLOUD / "../../base").resolve() == BASE
    assert not CLOUD.is_relative_to(BASE)
    for patch in overlay["patches"]:
        [doc] = load_documents(CLOUD / patch["path"])
        find(resources, doc["kind"], doc["metadata"]["name"])


def test_cloud_overlay_authenticates_processes_and_keda_with_one_key(
    resources: list[Manifest],
) -> None:
    [config_patch] = load_documents(CLOUD / "config.yaml")
    assert set(config_patch["data"]) <= setting_variables()
    [auth] = load_documents(CLOUD / "trigger-auth.yaml")
    [ref] = auth["spec"]["secretTargetRef"]
    assert ref["parameter"] == "apiKey" and ref["name"] == SECRET
    assert ref["key"] == "ASCENSION_TEMPORAL_API_KEY"
    assert ref["key"] in secret_keys(BASE / "secret.env.example").every
    [scaled] = load_documents(CLOUD / "scaledobject.yaml")
    [trigger] = scaled["spec"]["triggers"]
    assert trigger["authenticationRef"]["name"] == auth["metadata"]["name"]
    metadata = trigger["metadata"]
    assert set(metadata) <= KEDA_TEMPORAL_METADATA
    assert metadata["endpoint"] == config_patch["data"]["ASCENSION_TEMPORAL_ADDRESS"]
    assert metadata["namespace"] == config_patch["data"]["ASCENSION_TEMPORAL_NAMESPACE"]
    base_trigger = find(resources, "ScaledObject", "worker-gpu")["spec"]["triggers"][0]
    # A list in a CRD is replaced, not merged: the patch must repeat the queue and threshold.
    for key in ("taskQueue", "targetQueueSize", "queueTypes"):
        assert metadata[key] == base_trigger["metadata"][key]
    # Kustomize hashes the generated Secret's name; this config makes it rewrite the reference.
    [rename] = load_documents(CLOUD / "kustomizeconfig.yaml")
    assert {"kind": "TriggerAuthentication", "path": "spec/secretTargetRef/name"} in rename[
        "nameReference"
    ][0]["fieldSpecs"]
