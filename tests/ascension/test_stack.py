"""`ascension stack up | status | down`: the real stack from one env file, as an operator runs it.

The integration test runs the command itself (a subprocess, as from a shell) on free ports into a
state folder of its own: every component healthy, the API answering, the secrets of the env file
in force (the database refuses another password), and after `down` not one process left.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from ascension.servers import free_port
from ascension.servers.process import port_open
from ascension.stack.config import StackConfigError, load_plan
from ascension.stack.run import StackError, up
from ascension.stack.state import Component, group_members, is_running
from ascension.stack.state import load as load_state
from ascension.toolchain import components
from core.settings import Settings

EXPECTED = {
    "postgresql",
    "rabbitmq",
    "minio",
    "temporal",
    "worker-cpu",
    "worker-gpu",
    "ingress",
    "api",
}


@pytest.fixture(autouse=True)
def _only_the_env_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment wins over the file: the run's own ASCENSION_* must not leak in."""
    for name in list(os.environ):
        if name.startswith("ASCENSION_") and name != "ASCENSION_CACHE_DIR":
            monkeypatch.delenv(name)


def _env_file(folder: Path, **changes: str | None) -> Path:
    ports = [free_port() for _ in range(6)]
    values: dict[str, str | None] = {
        "ASCENSION_DATA_DIR": str(folder / "data"),
        "ASCENSION_DATABASE_URL": (
            f"postgresql+asyncpg://climb:pg-pass-1@127.0.0.1:{ports[0]}/ascension_stack"
        ),
        "ASCENSION_AMQP_URL": f"amqp://climb:mq%2Fpass@127.0.0.1:{ports[1]}/ascension",
        "ASCENSION_OBJECT_STORE": "s3",
        "ASCENSION_S3_ENDPOINT": f"127.0.0.1:{ports[2]}",
        "ASCENSION_S3_ACCESS_KEY": "stack-root",
        "ASCENSION_S3_SECRET_KEY": "stack-root-secret",
        "ASCENSION_TEMPORAL_ADDRESS": f"127.0.0.1:{ports[3]}",
        "ASCENSION_TEMPORAL_UI_PORT": str(ports[4]),
        "ASCENSION_API_PORT": str(ports[5]),
        "ASCENSION_JWT_SECRET": "j" * 48,
        # One pose process: the machine running the suite has other work.
        "ASCENSION_POSE_WORKERS": "1",
    }
    values.update(changes)
    path = folder / "stack.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items() if v is not None))
    return path


def _ascension(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    # Only the env file configures the stack: none of the test run's ASCENSION_* settings.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASCENSION_")}
    if "ASCENSION_CACHE_DIR" in os.environ:
        env["ASCENSION_CACHE_DIR"] = os.environ["ASCENSION_CACHE_DIR"]
    return subprocess.run(
        [sys.executable, "-m", "ascension.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.unit
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ASCENSION_JWT_SECRET": None}, "ASCENSION_JWT_SECRET"),
        ({"ASCENSION_OBJECT_STORE": "local"}, "ASCENSION_OBJECT_STORE=s3"),
        (
            {"ASCENSION_DATABASE_URL": "postgresql+asyncpg://a:b@db.internal:5432/x"},
            "runs PostgreSQL on 127.0.0.1",
        ),
        ({"ASCENSION_DATABASE_URL": "postgresql+asyncpg://a@127.0.0.1:5432/x"}, "a password"),
        ({"ASCENSION_AMQP_URL": "amqp://127.0.0.1:5672/"}, "a user and a password"),
        ({"ASCENSION_TEMPORAL_ADDRESS": "temporal:7233"}, "on loopback"),
        ({"ASCENSION_S3_SECURE": "true"}, "plain HTTP on loopback"),
    ],
)
def test_an_env_file_that_cannot_describe_a_stack_says_what_to_set(
    tmp_path: Path, change: dict[str, str | None], message: str
) -> None:
    with pytest.raises(StackConfigError, match=message):
        load_plan(_env_file(tmp_path, **change))


@pytest.mark.unit
def test_the_env_file_is_the_configuration_of_every_process(tmp_path: Path) -> None:
    plan = load_plan(_env_file(tmp_path), tmp_path / "state")
    assert plan.postgres.role == "climb" and plan.postgres.password == "pg-pass-1"
    assert plan.rabbitmq.password == "mq/pass"  # URL-decoded, as pika reads it
    assert plan.rabbitmq.vhost == "ascension"
    assert plan.env["ASCENSION_S3_ACCESS_KEY"] == "stack-root"
    # The processes run in the state folder: the data folder reaches them as an absolute path.
    assert plan.env["ASCENSION_DATA_DIR"] == str(tmp_path / "data")
    assert plan.state_dir == tmp_path / "state"
    missing = _ascension("stack", "up", "--env-file", str(tmp_path / "nope.env"), timeout=60)
    assert missing.returncode == 2
    assert "no env file" in missing.stdout and "Traceback" not in missing.stdout + missing.stderr


@pytest.mark.unit
def test_the_shipped_example_describes_a_stack(tmp_path: Path) -> None:
    """`deploy/stack.env.example` is what the README tells an operator to copy."""
    example = Path(__file__).resolve().parents[2] / "deploy" / "stack.env.example"
    plan = load_plan(example, tmp_path)
    assert plan.postgres.role == "ascension" and plan.postgres.database == "ascension"
    assert plan.rabbitmq.vhost == "ascension"
    assert plan.minio_port == 9000 and plan.temporal_port == 7233
    assert plan.api_url == "http://127.0.0.1:8000"


@pytest.mark.unit
@pytest.mark.skipif(os.geteuid() != 0, reason="PostgreSQL changes user only under root")
async def test_as_root_a_state_folder_postgres_cannot_reach_is_refused_before_starting(
    tmp_path: Path,
) -> None:
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    plan = load_plan(_env_file(tmp_path), closed / "state")
    with pytest.raises(StackError, match="closed to other users"):
        await up(plan, say=lambda _: None)
    assert not (closed / "state").exists()


def _require_servers() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    for report in (
        components.report_postgres(settings),
        components.report_rabbitmq(settings),
        components.report_minio(settings),
        components.report_temporal_cli(settings),
    ):
        if not report.found:
            pytest.fail(f"{report.name} is missing. Fix: {report.fix}", pytrace=False)


async def _password_refused(url: str) -> bool:
    host_port = url.split("@", 1)[1].split("/", 1)[0]
    port = int(host_port.rsplit(":", 1)[1])
    try:
        connection = await asyncpg.connect(
            host="127.0.0.1", port=port, user="climb", password="wrong", database="ascension_stack"
        )
    except asyncpg.InvalidPasswordError:
        return True
    await connection.close()
    return False


async def _upload_through_the_public_endpoint(api_url: str, public: str) -> None:
    """A climber of the stack's API uploads a video as the phone does: a bare PUT to the
    presigned URL, which names the public host."""
    video = b"\x00\x00\x00\x18ftypmp42" + b"v" * 4000
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as api:
        registered = await api.post(
            "/api/v1/auth/register",
            json={"email": f"op-{uuid.uuid4().hex[:8]}@example.com", "password": "long-Pass-w0rd!"},
        )
        assert registered.status_code == 201, registered.text
        token = registered.json()["access_token"]
        requested = await api.post(
            "/api/v1/analysis/video/request-upload",
            json={"content_type": "video/mp4", "size_bytes": len(video)},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert requested.status_code == 201, requested.text
        upload = requested.json()
    assert urlsplit(upload["upload_url"]).netloc == public
    async with httpx.AsyncClient(timeout=30) as phone:
        put = await phone.put(upload["upload_url"], content=video, headers=upload["headers"])
    assert put.status_code == 200, put.text


@pytest.mark.integration
@pytest.mark.slow
async def test_stack_up_status_down(run_dir: Path) -> None:
    _require_servers()
    # Under the run's folder in /tmp: PostgreSQL runs as `postgres` and must reach it.
    folder = run_dir / f"stack-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    folder.chmod(0o755)
    # The phone's name for MinIO differs from the workers' (127.0.0.1): presigned URLs use it.
    minio_port = free_port()
    env_file = _env_file(
        folder,
        ASCENSION_S3_ENDPOINT=f"127.0.0.1:{minio_port}",
        ASCENSION_S3_PUBLIC_ENDPOINT=f"localhost:{minio_port}",
    )
    state_dir = folder / "state"
    where = ["--env-file", str(env_file), "--state-dir", str(state_dir)]
    recorded: list[Component] = []
    try:
        started = _ascension("stack", "up", *where)
        assert started.returncode == 0, started.stdout + started.stderr
        assert "stack is up" in started.stdout
        recorded = load_state(state_dir)

        listed = _ascension("stack", "status", "--json", *where, timeout=120)
        assert listed.returncode == 0, listed.stdout + listed.stderr
        components_seen = json.loads(listed.stdout)["components"]
        assert {c["name"] for c in components_seen} == EXPECTED
        unhealthy = [c for c in components_seen if not c["healthy"]]
        assert unhealthy == []
        for component in components_seen:
            assert Path(str(component["log"])).is_file()

        plan = load_plan(env_file, state_dir)
        with urllib.request.urlopen(f"{plan.api_url}/healthz", timeout=10) as response:
            assert response.status == 200
        with urllib.request.urlopen(f"{plan.api_url}/readyz", timeout=10) as response:
            assert response.status == 200
        assert plan.settings.database_url
        assert await _password_refused(plan.settings.database_url)
        await _upload_through_the_public_endpoint(plan.api_url, f"localhost:{minio_port}")
    finally:
        stopped = _ascension("stack", "down", *where, timeout=300)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert {c.name for c in recorded} == EXPECTED
    for component in recorded:
        assert not is_running(component), component.name
        assert group_members(component.pid) == [], component.name
        if component.port is not None:
            assert not port_open(component.port), component.name
        if component.epmd_port is not None:
            assert not port_open(component.epmd_port), "epmd"
    after = _ascension("stack", "status", *where, timeout=120)
    assert after.returncode == 1
    assert "no stack recorded" in after.stdout
