"""docker-compose.yml checked without a Docker engine (none runs on these machines).

What a `docker compose up` would find out late, these find now: the file parses; every
ASCENSION_* variable a container gets is a field of the settings module and the whole
environment validates as `Settings`; every URL names a service and a port that service listens
on; depends_on conditions name services that can satisfy them; images are pinned; the
Dockerfile's COPY sources, targets and the mounted files exist; and what the one-shots create
(search attributes, dynamic config, lifecycle rules, buckets) matches what the code expects.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy.engine import make_url

from api.routes.uploads import UPLOAD_RETENTION
from ascension.cli import build_parser
from ascension.container_health import COMPONENTS
from ascension.servers.temporal import DEV_SERVER_DYNAMIC_CONFIG
from core.settings import Settings
from schema.names import SEARCH_ATTRIBUTE_TYPES

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / "deploy" / "compose.env.example"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
SCRIPTS = ROOT / "deploy" / "compose"
FIELDS = {f"ASCENSION_{name.upper()}" for name in Settings.model_fields}
_VARIABLE = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")


class _ComposeLoader(yaml.SafeLoader):
    """PyYAML plus Compose's `!reset` / `!override` tags (used by the CPU override file)."""


_ComposeLoader.add_constructor("!reset", lambda loader, node: None)
_ComposeLoader.add_constructor(
    "!override", lambda loader, node: loader.construct_object(node, deep=True)
)


def _load(path: Path) -> dict[str, Any]:
    data = yaml.load(path.read_text(), Loader=_ComposeLoader)  # a SafeLoader
    assert isinstance(data, dict)
    return data


def _env_example(include_commented: bool = False) -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if include_commented and line.startswith("# ") and "=" in line:
            line = line[2:]
        match = re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line)
        if match:
            values[match[1]] = match[2]
    return values


def _interpolate(value: str, env: dict[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name, kind, default = match[1], match[2], match[3]
        if name in env:
            return env[name]
        assert kind == "-", f"${{{name}}} has no value in compose.env.example and no default"
        return default

    return _VARIABLE.sub(substitute, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return _load(COMPOSE)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(compose["services"])


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    assert isinstance(env, dict), "environment as a mapping, so YAML merges can extend it"
    return {key: _interpolate(str(value), _env_example()) for key, value in env.items()}


def _app_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in services.items() if "build" in s}


def _listens_on(service: dict[str, Any]) -> set[int]:
    ports = {int(str(p).split(":")[-1].split("/")[0]) for p in service.get("ports", [])}
    return ports | {int(p) for p in service.get("expose", [])}


def test_every_file_parses() -> None:
    for path in (COMPOSE, ROOT / "deploy/docker-compose.cpu.yml"):
        assert _load(path)["services"]
    assert _load(ROOT / "deploy/docker-compose.servers.yml")["services"]


def test_the_application_runs_in_its_containers(services: dict[str, dict[str, Any]]) -> None:
    expected = {"api", "worker-cpu", "worker-gpu", "ingress", "migrate"}
    assert set(_app_services(services)) == expected
    parser = build_parser()
    for name, service in _app_services(services).items():
        parser.parse_args(service["command"])  # a real `ascension` sub-command
        assert service["env_file"] == ["deploy/compose.env"], name
    for name in COMPONENTS:
        test = services[name]["healthcheck"]["test"]
        assert test[-2:] == ["ascension.container_health", name]


def test_every_ascension_variable_is_a_setting(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        unknown = {k for k in _environment(service) if k.startswith("ASCENSION_")} - FIELDS
        assert not unknown, f"{name}: not fields of core/settings.py: {sorted(unknown)}"
    documented = {k for k in _env_example(include_commented=True) if k.startswith("ASCENSION_")}
    assert not documented - FIELDS, sorted(documented - FIELDS)


def test_each_application_environment_validates_as_settings(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, service in _app_services(services).items():
        env = {k: v for k, v in _env_example().items() if k.startswith("ASCENSION_")}
        env.update(_environment(service))  # environment wins over env_file, as in Compose
        with monkeypatch.context() as patch:
            for key, value in env.items():
                patch.setenv(key, value)
            settings = Settings(_env_file=None)  # type: ignore[call-arg]
        assert settings.object_store == "s3", name
        assert settings.database_url and settings.amqp_url and settings.temporal_address, name


def test_urls_name_services_and_their_ports(services: dict[str, dict[str, Any]]) -> None:
    for name, service in _app_services(services).items():
        env = _environment(service)
        db = make_url(env["ASCENSION_DATABASE_URL"])
        amqp = urlsplit(env["ASCENSION_AMQP_URL"])
        targets = [
            (db.host, db.port),
            (amqp.hostname, amqp.port),
            tuple(env["ASCENSION_S3_ENDPOINT"].split(":")),
            tuple(env["ASCENSION_TEMPORAL_ADDRESS"].split(":")),
        ]
        for host, port in targets:
            assert host in services, f"{name}: {host} is no service"
            assert int(str(port)) in _listens_on(services[str(host)]), f"{name}: {host}:{port}"
    ui = _environment(services["temporal-ui"])
    host, port = ui["TEMPORAL_ADDRESS"].split(":")
    assert int(port) in _listens_on(services[host])
    # The browser's view: the codec is the API's published port, the API allows the UI's.
    api = _environment(services["api"])
    codec = urlsplit(ui["TEMPORAL_CODEC_ENDPOINT"])
    assert codec.path == "/codec"
    assert f"127.0.0.1:{codec.port}:{api['ASCENSION_API_PORT']}" in services["api"]["ports"]
    origin = urlsplit(api["ASCENSION_TEMPORAL_UI_ORIGIN"])
    assert f"127.0.0.1:{origin.port}:8080" in services["temporal-ui"]["ports"]


def test_scripts_reach_services_on_their_ports(services: dict[str, dict[str, Any]]) -> None:
    scripts = {path.name: path.read_text() for path in SCRIPTS.glob("*.sh")}
    reached = {
        "postgres-setup.sh": (
            'PGHOST="${PGHOST:-postgres}" PGPORT="${PGPORT:-5432}"',
            "postgres",
            5432,
        ),
        "temporal-schema.sh": ("--ep postgres -p 5432", "postgres", 5432),
        "temporal-setup.sh": ('address="${TEMPORAL_ADDRESS:-temporal:7233}"', "temporal", 7233),
        "minio-setup.sh": ("http://minio:9000", "minio", 9000),
    }
    assert set(scripts) == set(reached)
    for script, (text, host, port) in reached.items():
        assert text in scripts[script], script
        assert port in _listens_on(services[host]), script
        runner = next(s for s in services.values() if script in " ".join(s.get("entrypoint", [])))
        mounted = [v.split(":")[0] for v in runner["volumes"]]
        assert f"./deploy/compose/{script}" in mounted


def test_depends_on_conditions_can_be_met(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for target, rule in (service.get("depends_on") or {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            condition = rule["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{name}: {target} has no healthcheck"
            else:
                assert condition == "service_completed_successfully", (name, condition)
                assert "restart" not in services[target], f"{target} is no one-shot"
    # Every long-running service but the UI (no probe tool in its image) has a healthcheck.
    for name, service in services.items():
        if "restart" in service and name != "temporal-ui":
            assert "healthcheck" in service, name


def test_images_are_pinned(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest", f"{name}: {image} is not pinned"
        if "build" not in service:
            assert re.search(r"\d", tag), f"{name}: {image} names no version"


def test_dockerfile_builds_from_what_exists(services: dict[str, dict[str, Any]]) -> None:
    stages = set()
    for line in DOCKERFILE.read_text().replace("\\\n", " ").splitlines():
        words = shlex.split(line) if line and not line.startswith("#") else []
        if words[:1] == ["FROM"] and len(words) >= 4:
            stages.add(words[3])
        if words[:1] == ["COPY"] and not any(w.startswith("--from") for w in words):
            for source in words[1:-1]:
                assert (ROOT / source).exists(), f"COPY {source}: no such path"
    for name, service in _app_services(services).items():
        assert (ROOT / service["build"]["dockerfile"]) == DOCKERFILE, name
        assert service["build"]["target"] in stages, name
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".data", ".env"} <= set(ignored)


def test_mounted_files_exist(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name}: {source} does not exist"


def test_temporal_gets_what_the_dev_server_gets() -> None:
    script = (SCRIPTS / "temporal-setup.sh").read_text()
    names = re.search(r"for name in ([\w ]+); do", script)
    assert names and set(names[1].split()) == set(SEARCH_ATTRIBUTE_TYPES)
    assert set(SEARCH_ATTRIBUTE_TYPES.values()) == {"Keyword"} and "--type Keyword" in script
    config = yaml.safe_load((SCRIPTS / "temporal-dynamicconfig.yaml").read_text())
    for flag in DEV_SERVER_DYNAMIC_CONFIG[1::2]:
        key, value = flag.split("=", 1)
        if key.startswith("matching."):
            assert config[key] == [{"value": yaml.safe_load(value)}], key


def test_buckets_and_lifecycle_match_the_api(services: dict[str, dict[str, Any]]) -> None:
    env = _environment(services["minio-setup"])
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert env["ASCENSION_BUCKET"] == defaults.bucket
    assert env["ASCENSION_PAYLOAD_BUCKET"] == defaults.payload_bucket
    script = (SCRIPTS / "minio-setup.sh").read_text()
    # The rule ids core/storage/s3.py expire_prefix writes, so either writer leaves one rule.
    assert '"ID": "expire-uploads"' in script and '"ID": "expire-all"' in script
    assert '"Prefix": "uploads/"' in script
    assert f'"Days": {UPLOAD_RETENTION.days}' in script


def test_cpu_override_drops_only_the_device_reservation() -> None:
    override = _load(ROOT / "deploy/docker-compose.cpu.yml")["services"]
    assert set(override) == {"worker-gpu"}
    text = (ROOT / "deploy/docker-compose.cpu.yml").read_text()
    assert "deploy: !reset null" in text
    assert override["worker-gpu"]["environment"] == {"ASCENSION_VISION_DEVICE": "cpu"}


def test_prometheus_scrapes_services_where_they_listen(
    services: dict[str, dict[str, Any]],
) -> None:
    config = yaml.safe_load((ROOT / "deploy/observability/prometheus.yml").read_text())
    prometheus = services["prometheus"]
    mounted = {v.split(":")[1] for v in prometheus["volumes"]}
    assert set(config.get("rule_files", [])) <= mounted
    secrets = {s["target"] for s in prometheus["secrets"]}
    for job in config["scrape_configs"]:
        credentials = job.get("authorization", {}).get("credentials_file")
        assert credentials is None or credentials in secrets, job["job_name"]
        for target in (t for group in job["static_configs"] for t in group["targets"]):
            host, port = target.split(":")
            assert host in services, f"{job['job_name']}: {host} is no service"
            assert int(port) in _listens_on(services[host]), target
            binds = [v for k, v in _environment(services[host]).items() if k.endswith("_BIND")]
            assert not binds or binds == [f"0.0.0.0:{port}"], (target, binds)
    secret = _load(COMPOSE)["secrets"]["metrics_token"]
    assert secret == {"environment": "ASCENSION_METRICS_TOKEN"}


def test_grafana_provisions_the_dashboard(services: dict[str, dict[str, Any]]) -> None:
    mounts = dict(v.split(":")[:2] for v in services["grafana"]["volumes"] if v.startswith("./"))
    assert mounts["./deploy/observability/grafana/provisioning"] == "/etc/grafana/provisioning"
    providers = yaml.safe_load(
        (ROOT / "deploy/observability/grafana/provisioning/dashboards/ascension.yml").read_text()
    )["providers"]
    dashboard = mounts["./deploy/observability/grafana/ascension.json"]
    assert any(dashboard.startswith(p["options"]["path"] + "/") for p in providers)


def test_workers_drain_before_docker_kills_them(services: dict[str, dict[str, Any]]) -> None:
    for name in ("worker-cpu", "worker-gpu"):
        drain = float(_environment(services[name])["ASCENSION_WORKER_GRACEFUL_SHUTDOWN_S"])
        grace = services[name]["stop_grace_period"]
        assert grace.endswith("s") and float(grace[:-1]) > drain, name
