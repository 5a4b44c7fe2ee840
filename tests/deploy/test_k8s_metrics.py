"""deploy/k8s and Prometheus: each worker serves its metrics where its pod says, and the scrape
config finds every pod under the job names deploy/observability uses."""

from __future__ import annotations

import re

import pytest

from core.settings import Settings
from tests.deploy.k8s_manifests import (
    K8S,
    ROOT,
    Manifest,
    base_resources,
    container_env,
    find,
    load_documents,
    pod_spec,
)

pytestmark = pytest.mark.unit

#: Each worker and the setting that binds its metrics endpoint.
WORKER_BINDS = {
    "worker-cpu": "ASCENSION_CPU_WORKER_METRICS_BIND",
    "worker-gpu": "ASCENSION_GPU_WORKER_METRICS_BIND",
}


@pytest.fixture(scope="module")
def resources() -> list[Manifest]:
    return base_resources()


@pytest.fixture(scope="module")
def scrape_jobs() -> dict[str, Manifest]:
    [config] = load_documents(K8S / "prometheus-scrape.yaml")
    return {job["job_name"]: job for job in config["scrape_configs"]}


def _keep(job: Manifest, source: str) -> re.Pattern[str]:
    """The regex of the job's `keep` rule on one discovery label."""
    [rule] = [
        r
        for r in job["relabel_configs"]
        if r.get("action") == "keep" and r["source_labels"] == [source]
    ]
    return re.compile(rule["regex"])


@pytest.mark.parametrize("name", sorted(WORKER_BINDS))
def test_each_worker_serves_metrics_on_its_announced_port(
    resources: list[Manifest], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    workload = find(resources, "Deployment", name)
    [container] = pod_spec(workload)["containers"]
    bind = container_env(container)[WORKER_BINDS[name]]
    monkeypatch.setenv(WORKER_BINDS[name], bind)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    host, port = getattr(settings, WORKER_BINDS[name].removeprefix("ASCENSION_").lower()).rsplit(
        ":", 1
    )
    assert host == "0.0.0.0"  # the pod's address, where Prometheus connects
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"metrics": int(port)}
    annotations = workload["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == port
    assert annotations["prometheus.io/path"] == "/metrics"
    # Metrics are never a liveness probe here (a saturated pod would be killed mid-step).
    assert "livenessProbe" not in container


def test_the_api_job_scrapes_every_api_pod_with_the_token(
    resources: list[Manifest], scrape_jobs: dict[str, Manifest]
) -> None:
    job = scrape_jobs["ascension-api"]
    assert job["authorization"]["credentials_file"]
    labels = find(resources, "Deployment", "api")["spec"]["template"]["metadata"]["labels"]
    component = labels["app.kubernetes.io/component"]
    assert _keep(job, "__meta_kubernetes_pod_label_app_kubernetes_io_component").fullmatch(
        component
    )
    [api] = pod_spec(find(resources, "Deployment", "api"))["containers"]
    port_names = [p["name"] for p in api["ports"]]
    assert [
        n
        for n in port_names
        if _keep(job, "__meta_kubernetes_pod_container_port_name").fullmatch(n)
    ] == ["http"]


def test_the_worker_job_finds_both_workers_under_the_observability_job_names(
    resources: list[Manifest], scrape_jobs: dict[str, Manifest]
) -> None:
    job = scrape_jobs["ascension-workers"]
    port_rule = _keep(job, "__meta_kubernetes_pod_container_port_name")
    [rename] = [r for r in job["relabel_configs"] if r.get("target_label") == "job"]
    [observability] = load_documents(ROOT / "deploy" / "observability" / "prometheus.yml")
    known_jobs = {j["job_name"] for j in observability["scrape_configs"]}
    named = set()
    for workload in (r for r in resources if r["kind"] == "Deployment"):
        component = workload["spec"]["template"]["metadata"]["labels"][
            "app.kubernetes.io/component"
        ]
        match = re.fullmatch(rename["regex"], component)
        ports = [p["name"] for c in pod_spec(workload)["containers"] for p in c.get("ports", [])]
        scraped = any(port_rule.fullmatch(p) for p in ports)
        assert scraped == (component in WORKER_BINDS), component
        if match:
            named.add(match.expand(rename["replacement"].replace("$1", r"\1")))
    assert named == {"ascension-worker-cpu", "ascension-worker-gpu"} <= known_jobs
