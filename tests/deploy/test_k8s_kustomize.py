"""`kubectl kustomize` builds the base and the Temporal Cloud overlay as they will be applied.

The other deploy tests read the files one by one; this one lets kustomize itself resolve them:
the overlay's place beside the base (not inside it: a cycle kustomize refuses), the generated
Secret's hashed name written into every reference, the TriggerAuthentication's included, and
every object in one namespace. kubectl is not a Python package: where it is not installed the
test says so and is skipped, and the file-level checks still hold.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.k8s_manifests import BASE, K8S, SECRET, Manifest

pytestmark = pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl (with its built-in kustomize) not installed"
)


def _build(tmp_path: Path, folder: str) -> list[Manifest]:
    tree = tmp_path / "k8s"
    shutil.copytree(K8S, tree)
    # What the operator writes from the example (git ignores the real one).
    shutil.copy(BASE / "secret.env.example", tree / "base" / "secret.env")
    built = subprocess.run(
        ["kubectl", "kustomize", str(tree / folder)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    return [doc for doc in yaml.safe_load_all(built.stdout) if doc]


def _secret_references(resources: list[Manifest]) -> set[str]:
    names = set()
    for doc in resources:
        if doc["kind"] == "Deployment":
            spec = doc["spec"]["template"]["spec"]
            for container in [*spec.get("initContainers", []), *spec["containers"]]:
                names |= {s["secretRef"]["name"] for s in container["envFrom"] if "secretRef" in s}
        if doc["kind"] == "TriggerAuthentication":
            names |= {ref["name"] for ref in doc["spec"]["secretTargetRef"]}
    return names


@pytest.mark.parametrize("folder", ["base", "overlays/temporal-cloud"])
def test_kustomize_builds_with_every_reference_to_the_generated_secret(
    tmp_path: Path, folder: str
) -> None:
    resources = _build(tmp_path, folder)
    [secret] = [doc for doc in resources if doc["kind"] == "Secret"]
    generated = secret["metadata"]["name"]
    assert generated.startswith(f"{SECRET}-")  # hashed: a changed secret rolls the pods
    assert _secret_references(resources) == {generated}
    assert {
        doc["metadata"].get("namespace") for doc in resources if doc["kind"] != "Namespace"
    } == {"ascension"}
    images = {
        c["image"]
        for doc in resources
        if doc["kind"] == "Deployment"
        for c in doc["spec"]["template"]["spec"]["containers"]
    }
    assert images == {"ascension:0.1.0", "ascension-gpu:0.1.0"}
    kinds = {doc["kind"] for doc in resources}
    assert ("TriggerAuthentication" in kinds) == (folder != "base")
