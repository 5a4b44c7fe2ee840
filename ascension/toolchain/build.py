"""Builds the server binaries from package registries into the version-keyed cache.

Each build writes into a temporary sibling folder and renames it into place only when it
succeeded, so an interrupted bootstrap never leaves a half-built binary that later runs trust.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from ascension.toolchain import components
from core.settings import Settings

log = logging.getLogger(__name__)

TEST_SERVER_MAIN = "io.temporal.testserver.TestServer"


class BuildError(RuntimeError):
    """A component could not be obtained; the message names the missing tool and the fix."""


def _require(tool: str, fix: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise BuildError(f"`{tool}` is not installed. Fix: {fix}")
    return path


def _run_with_progress(cmd: list[str], label: str, *, env: dict[str, str] | None = None) -> None:
    """Run a long build step, reporting elapsed time so a cold bootstrap never looks hung."""
    started = time.monotonic()
    tail: deque[str] = deque(maxlen=30)
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    done = threading.Event()

    def ticker() -> None:
        while not done.wait(15):
            last = tail[-1] if tail else ""
            print(f"  … {label}: {time.monotonic() - started:.0f}s  {last[:90]}", flush=True)

    threading.Thread(target=ticker, daemon=True).start()
    assert proc.stdout is not None
    for line in proc.stdout:
        tail.append(line.rstrip())
    code = proc.wait()
    done.set()
    if code != 0:
        detail = "\n".join(tail)
        raise BuildError(f"{label} failed (exit {code}):\n{detail}")
    print(f"  ✓ {label} in {time.monotonic() - started:.0f}s", flush=True)


def _install_atomically(target: Path, build: Callable[[Path], None]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        build(staging)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _go_install(module: str, label: str, target_dir: Path, settings: Settings) -> None:
    go = _require("go", "install Go >= 1.24 (Debian: apt-get install golang; or go.dev)")

    def build(staging: Path) -> None:
        env = dict(os.environ)
        env["GOBIN"] = str(staging)
        # Go keeps its own module and build caches (GOMODCACHE, GOCACHE); only the finished
        # binary lives in our version-keyed cache.
        # -v names each package as it is compiled: the progress lines a cold build needs.
        _run_with_progress([go, "install", "-v", module], label, env=env)

    _install_atomically(target_dir, build)


def build_temporal_cli(settings: Settings) -> Path:
    """`go install` the Temporal CLI (dev server with embedded Web UI)."""
    target = components.temporal_cli_cached_path(settings)
    if not target.is_file():
        version = settings.temporal_cli_version
        _go_install(
            f"github.com/temporalio/cli/cmd/temporal@v{version}",
            f"temporal CLI v{version} (Go build, several minutes on 2 cores)",
            target.parent,
            settings,
        )
    return target


def build_minio(settings: Settings) -> Path:
    """`go install` MinIO at the pinned module version."""
    target = components.minio_cached_path(settings)
    if not target.is_file():
        _go_install(
            f"github.com/minio/minio@{settings.minio_version}",
            "minio (Go build, several minutes on 2 cores)",
            target.parent,
            settings,
        )
    return target


def _write_launcher(path: Path, lib_dir: Path) -> None:
    # The SDK stops the test server by killing the PID it started, so the launcher must
    # `exec` java rather than run it as a child. No --enable-time-skipping: the Python SDK
    # expects the server to start with skipping locked and unlocks it itself.
    path.write_text(
        "#!/bin/sh\n"
        "# Temporal time-skipping test server launcher written by `ascension bootstrap`.\n"
        f'exec java ${{JAVA_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1}} -cp "{lib_dir}/*" '
        f'{TEST_SERVER_MAIN} "$@"\n'
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def build_test_server(settings: Settings) -> Path:
    """Resolve the test server jars from Maven Central and write its launcher."""
    target = components.test_server_dir(settings)
    launcher = target / "temporal-test-server"
    if launcher.is_file():
        return launcher
    mvn = _require("mvn", "apt-get install -y maven")
    _require("java", "apt-get install -y default-jre-headless")
    version = settings.temporal_test_server_version

    def build(staging: Path) -> None:
        pom = resources.files("ascension.toolchain") / "temporal-test-server.pom.xml"
        with resources.as_file(pom) as pom_path:
            _run_with_progress(
                [
                    mvn,
                    "-q",
                    "-B",
                    "-f",
                    str(pom_path),
                    f"-Dtemporal.version={version}",
                    "dependency:copy-dependencies",
                    f"-DoutputDirectory={staging / 'lib'}",
                    "-DincludeScope=runtime",
                ],
                f"temporal test server {version} (Maven Central)",
            )
        # The launcher names the final folder, not the staging one.
        _write_launcher(staging / "temporal-test-server", target / "lib")

    _install_atomically(target, build)
    return launcher


def bootstrap(settings: Settings) -> None:
    """Obtain every built component that is missing; cached ones are reused as they are."""
    steps = (
        ("temporal CLI", build_temporal_cli, settings.temporal_cli_path),
        ("temporal test server", build_test_server, settings.temporal_test_server_path),
        ("minio", build_minio, settings.minio_path),
    )
    for name, step, override in steps:
        if override:
            print(f"  = {name}: using {override} from settings", flush=True)
            continue
        started = time.monotonic()
        path = step(settings)
        if time.monotonic() - started < 1:
            print(f"  = {name}: cached at {path}", flush=True)
