"""Reading deploy/k8s as `kubectl apply -k` would see it, for the manifest tests.

No cluster and no kustomize binary here: the base's resources are read from the files its
kustomization lists, and the overlay's patches are checked against them by kind and name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
CLOUD = K8S / "overlays" / "temporal-cloud"

Manifest = dict[str, Any]

CONFIG = "ascension-config"
SECRET = "ascension-secrets"
WORKLOADS = ("api", "worker-cpu", "worker-gpu", "ingress")
#: The metadata KEDA's Temporal scaler reads (pkg/scalers/temporal_scaler.go, KEDA 2.17-2.22).
KEDA_TEMPORAL_METADATA = {
    "endpoint",
    "endpointFromEnv",
    "namespace",
    "taskQueue",
    "targetQueueSize",
    "activationTargetQueueSize",
    "queueTypes",
    "workerDeploymentName",
    "workerDeploymentBuildId",
    "minConnectTimeout",
    "unsafeSsl",
    "tlsServerName",
    "enableTLS",
}

_ENV_LINE = re.compile(r"^\s*(#\s*)?(ASCENSION_[A-Z0-9_]+)=(.*)$")


def load_documents(path: Path) -> list[Manifest]:
    """Every YAML document of a file, empty ones (a trailing ---) left out."""
    with path.open(encoding="utf-8") as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc is not None]


def kustomization(folder: Path) -> Manifest:
    [doc] = load_documents(folder / "kustomization.yaml")
    return doc


def base_resources() -> list[Manifest]:
    """The base's objects, in the order its kustomization lists their files."""
    return [doc for name in kustomization(BASE)["resources"] for doc in load_documents(BASE / name)]


def find(resources: list[Manifest], kind: str, name: str) -> Manifest:
    matches = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


@dataclass(frozen=True)
class SecretKeys:
    """The keys of secret.env.example: set ones the base needs, commented ones optional."""

    required: dict[str, str]
    optional: dict[str, str]

    @property
    def every(self) -> set[str]:
        return set(self.required) | set(self.optional)


def secret_keys(example: Path) -> SecretKeys:
    required: dict[str, str] = {}
    optional: dict[str, str] = {}
    for line in example.read_text(encoding="utf-8").splitlines():
        match = _ENV_LINE.match(line)
        if match:
            (optional if match.group(1) else required)[match.group(2)] = match.group(3)
    return SecretKeys(required, optional)


def setting_variables() -> set[str]:
    """The ASCENSION_* names the settings object reads."""
    return {f"ASCENSION_{name.upper()}" for name in Settings.model_fields}


def pod_spec(workload: Manifest) -> Manifest:
    spec: Manifest = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: Manifest) -> list[Manifest]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def container_env(container: Manifest) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container.get("env", [])}
