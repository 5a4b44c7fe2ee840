"""deploy/k8s holds together: schemas, settings, references, probes, shutdown and autoscaling.

No cluster runs here, so every check is one a cluster (or kubeconform) would make on apply, or
one that ties a manifest to the code it deploys: the built-in kinds against the Kubernetes API's
own JSON schemas (strict: an unknown field fails), environment names against the settings
object, references between objects, and the KEDA trigger against the GPU task queue's name.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import kubernetes_validate
import pytest

from api.routes.health import router as health_router
from ascension import container_health
from core.settings import Settings
from schema import names
from schema.analysis import Stage
from tests.deploy.k8s_manifests import (
    BASE,
    CONFIG,
    K8S,
    KEDA_TEMPORAL_METADATA,
    ROOT,
    SECRET,
    WORKLOADS,
    Manifest,
    base_resources,
    container_env,
    containers,
    find,
    kustomization,
    load_documents,
    pod_spec,
    secret_keys,
    setting_variables,
)
from workflows.analysis_policies import HEARTBEAT, STAGE_START_TO_CLOSE

pytestmark = pytest.mark.unit

#: The oldest Kubernetes release the manifests must apply to (autoscaling/v2, policy/v1 PDBs).
KUBERNETES_VERSION = "1.29.0"


@pytest.fixture(scope="module")
def resources() -> list[Manifest]:
    return base_resources()


@pytest.fixture(scope="module")
def config(resources: list[Manifest]) -> dict[str, str]:
    data: dict[str, str] = find(resources, "ConfigMap", CONFIG)["data"]
    return data


def deployment(resources: list[Manifest], name: str) -> Manifest:
    return find(resources, "Deployment", name)


# --- Every file parses; every built-in object passes its schema ------------------------------


def test_every_manifest_parses_and_names_its_kind() -> None:
    files = sorted(K8S.rglob("*.yaml"))
    assert len(files) >= 10
    for path in files:
        for doc in load_documents(path):
            assert isinstance(doc, dict), path
            if path.name in {
                "kustomizeconfig.yaml",
                "temporal-values.yaml",
                "prometheus-scrape.yaml",
            }:
                continue  # kustomize config, Helm values, a Prometheus fragment: no objects
            assert doc.get("apiVersion") and doc.get("kind"), path
            if doc["kind"] != "Kustomization":
                assert doc["metadata"]["name"], path


def test_built_in_objects_pass_the_kubernetes_schemas(resources: list[Manifest]) -> None:
    checked = set()
    for doc in resources:
        if doc["apiVersion"].startswith("keda.sh/"):
            continue  # a CRD: checked field by field below
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        checked.add(doc["kind"])
    assert checked >= {
        "Namespace",
        "ConfigMap",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    }


def test_the_schemas_catch_a_misspelt_field(resources: list[Manifest]) -> None:
    broken: dict[str, Any] = {**deployment(resources, "api")}
    broken["spec"] = {**broken["spec"], "replica": 2}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


# --- Configuration: one ConfigMap and one Secret, both the settings object's ----------------


def test_config_and_secret_keys_are_settings() -> None:
    known = setting_variables()
    [config_map] = [d for d in load_documents(BASE / "config.yaml")]
    assert set(config_map["data"]) <= known
    secret = secret_keys(BASE / "secret.env.example")
    assert secret.every <= known, secret.every - known
    assert {"ASCENSION_DATABASE_URL", "ASCENSION_JWT_SECRET"} <= set(secret.required)
    # A secret never sits in the ConfigMap, which anyone who may read the namespace can read.
    assert not set(config_map["data"]) & secret.every


def test_the_secret_is_generated_from_an_ignored_file() -> None:
    [generator] = kustomization(BASE)["secretGenerator"]
    assert generator["name"] == SECRET
    assert generator["envs"] == ["secret.env"]
    assert "deploy/k8s/base/secret.env" in (ROOT / ".gitignore").read_text().splitlines()


def test_every_container_reads_the_one_config_and_settings_names(
    resources: list[Manifest],
) -> None:
    known = setting_variables()
    for name in WORKLOADS:
        for container in containers(deployment(resources, name)):
            refs = {
                (kind, source[kind]["name"])
                for source in container["envFrom"]
                for kind in ("configMapRef", "secretRef")
                if kind in source
            }
            assert refs == {("configMapRef", CONFIG), ("secretRef", SECRET)}, name
            assert set(container_env(container)) <= known, (name, container["name"])


@pytest.mark.parametrize("name", WORKLOADS)
def test_each_process_environment_is_valid_settings(
    resources: list[Manifest],
    config: dict[str, str],
    name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What a pod's process gets (ConfigMap, the example Secret, its own env) loads as settings."""
    import os

    for variable in [v for v in os.environ if v.startswith("ASCENSION_")]:
        monkeypatch.delenv(variable)
    [main] = pod_spec(deployment(resources, name))["containers"]
    environment = {
        **config,
        **secret_keys(BASE / "secret.env.example").required,
        **container_env(main),
    }
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.temporal_address == config["ASCENSION_TEMPORAL_ADDRESS"]
    assert settings.object_store == "s3"
    assert settings.database_url and settings.database_url.startswith("postgresql+asyncpg://")
    assert settings.gpu_task_queue == names.GPU_TASK_QUEUE
    assert settings.cpu_task_queue == names.CPU_TASK_QUEUE


# --- References between objects --------------------------------------------------------------


def test_selectors_match_their_pods(resources: list[Manifest]) -> None:
    pod_labels = {
        name: deployment(resources, name)["spec"]["template"]["metadata"]["labels"]
        for name in WORKLOADS
    }
    for name in WORKLOADS:
        selector = deployment(resources, name)["spec"]["selector"]["matchLabels"]
        assert selector.items() <= pod_labels[name].items(), name
    for kind in ("Service", "PodDisruptionBudget"):
        for obj in (r for r in resources if r["kind"] == kind):
            spec = obj["spec"]
            selector = spec["selector"] if kind == "Service" else spec["selector"]["matchLabels"]
            selected = [n for n, labels in pod_labels.items() if selector.items() <= labels.items()]
            assert selected == [obj["metadata"]["name"]], (kind, obj["metadata"]["name"])


def test_every_workload_has_a_disruption_budget(resources: list[Manifest]) -> None:
    budgets = {r["metadata"]["name"] for r in resources if r["kind"] == "PodDisruptionBudget"}
    assert budgets == set(WORKLOADS)


def test_autoscaled_deployments_leave_the_count_to_their_scaler(
    resources: list[Manifest],
) -> None:
    scaled = {
        r["spec"]["scaleTargetRef"]["name"]
        for r in resources
        if r["kind"] in {"HorizontalPodAutoscaler", "ScaledObject"}
    }
    assert scaled == {"api", "worker-gpu"}
    for name in WORKLOADS:
        # A fixed count on a scaled Deployment is reset by every `kubectl apply`.
        assert ("replicas" in deployment(resources, name)["spec"]) == (name not in scaled), name


def test_the_api_service_probes_and_hpa_reach_the_api(resources: list[Manifest]) -> None:
    api = deployment(resources, "api")
    [container] = pod_spec(api)["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"http": 8000}
    service = find(resources, "Service", "api")
    assert [port["targetPort"] for port in service["spec"]["ports"]] == ["http"]
    routes = {route.path for route in health_router.routes}  # type: ignore[attr-defined]
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        check = container[probe]["httpGet"]
        assert check["port"] in ports and check["path"] in routes, probe
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    hpa = find(resources, "HorizontalPodAutoscaler", "api")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "api",
    }
    [migrate] = pod_spec(api)["initContainers"]
    assert migrate["args"] == ["migrate"]


@pytest.mark.parametrize("name", ["worker-cpu", "worker-gpu", "ingress"])
def test_the_other_processes_are_ready_when_they_do_their_job(
    resources: list[Manifest], name: str
) -> None:
    [container] = pod_spec(deployment(resources, name))["containers"]
    command = container["readinessProbe"]["exec"]["command"]
    assert command == ["python", "-m", "ascension.container_health", name]
    assert name in container_health.COMPONENTS
    # It asks Temporal or the broker: as liveness, their outage would restart every pod.
    assert "livenessProbe" not in container
    assert container["readinessProbe"]["timeoutSeconds"] >= 2 * container_health.TIMEOUT_S


def test_processes_and_images(resources: list[Manifest]) -> None:
    commands = {
        name: (c["image"], c["args"])
        for name in WORKLOADS
        for c in pod_spec(deployment(resources, name))["containers"]
    }
    assert commands == {
        "api": ("ascension", ["api"]),
        "worker-cpu": ("ascension", ["worker", "cpu"]),
        "worker-gpu": ("ascension-gpu", ["worker", "gpu"]),
        "ingress": ("ascension", ["worker", "ingress"]),
    }
    pinned = {image["name"]: image["newTag"] for image in kustomization(BASE)["images"]}
    assert set(pinned) == {"ascension", "ascension-gpu"}
    assert all(tag and tag != "latest" for tag in pinned.values())


def test_every_container_requests_cpu_and_memory_and_caps_memory(
    resources: list[Manifest],
) -> None:
    for name in WORKLOADS:
        for container in containers(deployment(resources, name)):
            limits = container["resources"]["limits"]
            requests = container["resources"]["requests"]
            assert {"cpu", "memory"} <= set(requests) and "memory" in limits, name


# --- The GPU worker: a GPU, a GPU node, a graceful end -----------------------------------------


def test_the_gpu_worker_gets_a_gpu_node(resources: list[Manifest]) -> None:
    spec = pod_spec(deployment(resources, "worker-gpu"))
    [container] = spec["containers"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec[
        "tolerations"
    ]
    env = container_env(container)
    assert env["ASCENSION_VISION_DEVICE"] == "cuda"
    # The pose pool sizes itself from the node's cores unless told: tell it the pod's request.
    assert int(env["ASCENSION_POSE_WORKERS"]) == int(container["resources"]["requests"]["cpu"])
    # Nobody else needs a GPU or a GPU node.
    for name in ("api", "worker-cpu", "ingress"):
        other = pod_spec(deployment(resources, name))
        assert "nodeSelector" not in other
        assert all(
            "nvidia.com/gpu" not in c["resources"]["limits"]
            for c in containers(deployment(resources, name))
        )


@pytest.mark.parametrize("name", ["worker-cpu", "worker-gpu"])
def test_workers_drain_before_the_kubelet_kills(resources: list[Manifest], name: str) -> None:
    workload = deployment(resources, name)
    [container] = pod_spec(workload)["containers"]
    graceful_s = float(container_env(container)["ASCENSION_WORKER_GRACEFUL_SHUTDOWN_S"])
    grace_s = pod_spec(workload)["terminationGracePeriodSeconds"]
    # The kubelet's SIGKILL comes after the worker's own deadline, with time to close.
    assert grace_s >= graceful_s + 15
    # ...and no sooner than a lost step would be noticed anyway (its heartbeat timeout).
    assert grace_s >= HEARTBEAT.total_seconds()


def test_the_gpu_grace_covers_a_whole_hold_detection(resources: list[Manifest]) -> None:
    [container] = pod_spec(deployment(resources, "worker-gpu"))["containers"]
    graceful = timedelta(
        seconds=float(container_env(container)["ASCENSION_WORKER_GRACEFUL_SHUTDOWN_S"])
    )
    assert graceful >= STAGE_START_TO_CLOSE[Stage.HOLD_DETECTION]


# --- KEDA: the GPU worker on the GPU queue's backlog -------------------------------------------


def test_keda_scales_the_gpu_worker_on_its_queue_backlog(
    resources: list[Manifest], config: dict[str, str]
) -> None:
    scaled = find(resources, "ScaledObject", "worker-gpu")
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    target = scaled["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target.get("kind", "Deployment"), target["name"]) == (
        "apps/v1",
        "Deployment",
        "worker-gpu",
    )
    deployment(resources, "worker-gpu")  # exists
    # KEDA owns the replica count; a fixed one would be fought over on every apply.
    assert "replicas" not in deployment(resources, "worker-gpu")["spec"]
    assert 1 <= scaled["spec"]["minReplicaCount"] < scaled["spec"]["maxReplicaCount"]
    [trigger] = scaled["spec"]["triggers"]
    assert trigger["type"] == "temporal"
    metadata = trigger["metadata"]
    assert set(metadata) <= KEDA_TEMPORAL_METADATA
    assert all(isinstance(value, str) for value in metadata.values())  # map[string]string
    assert metadata["targetQueueSize"] == "50"  # the seed's trigger: backlog > 50
    assert metadata["taskQueue"] == names.GPU_TASK_QUEUE == config["ASCENSION_GPU_TASK_QUEUE"]
    assert metadata["endpoint"] == config["ASCENSION_TEMPORAL_ADDRESS"]
    assert metadata["namespace"] == config["ASCENSION_TEMPORAL_NAMESPACE"]
    assert metadata["queueTypes"] == "activity"
