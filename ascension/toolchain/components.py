"""Where each real server and system piece comes from, and whether this machine has it.

Development and CI machines reach package registries only, so every server binary is either a
Debian package or built from a registry (Go module proxy, Maven Central) into
``<cache_dir>/<component>/<version>/``. A settings path (``ASCENSION_TEMPORAL_CLI_PATH`` and
friends) always wins, so users can point at their own binaries.
"""

from __future__ import annotations

import ctypes.util
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.settings import Settings

OPENCV_DOC_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
APT_PACKAGES = ("postgresql", "rabbitmq-server", "opencv-doc", "libgl1", "libglib2.0-0")


@dataclass(frozen=True)
class ComponentReport:
    """What `ascension doctor` says about one component."""

    name: str
    found: bool
    version: str | None
    path: Path | None
    #: How the component is obtained or started when it is present.
    how: str
    #: The command that fixes a missing component; None when found.
    fix: str | None = None


def _run_version(cmd: list[str], pattern: str = r"(\d+\.\d+(?:\.\d+)?)") -> str | None:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(pattern, out.stdout + out.stderr)
    return match.group(1) if match else None


def _explicit(name: str, path: Path, setting: str) -> ComponentReport | None:
    """A settings path that points nowhere is an error, never silently replaced."""
    if path.is_file():
        return None
    return ComponentReport(
        name=name,
        found=False,
        version=None,
        path=path,
        how=f"from {setting}",
        fix=f"{setting}={path} does not exist: point it at the binary, or unset it "
        "and run `make bootstrap`",
    )


# --- Temporal CLI (dev server + Web UI) -----------------------------------------------------


def temporal_cli_cached_path(settings: Settings) -> Path:
    return settings.cache_dir / "temporal-cli" / settings.temporal_cli_version / "temporal"


def temporal_cli_path(settings: Settings) -> Path | None:
    """The `temporal` binary to run, or None when it must still be built or downloaded."""
    path = settings.temporal_cli_path or temporal_cli_cached_path(settings)
    return path if path.is_file() else None


def report_temporal_cli(settings: Settings) -> ComponentReport:
    name = "temporal CLI (dev server, Web UI)"
    if settings.temporal_cli_path and (
        bad := _explicit(name, settings.temporal_cli_path, "ASCENSION_TEMPORAL_CLI_PATH")
    ):
        return bad
    path = temporal_cli_path(settings)
    if path:
        # `go install` builds report their own version as 0.0.0-DEV; the server and UI
        # versions they embed are what matters to a reader.
        embedded = _run_version(
            [str(path), "--version"], r"(Server \d+\.\d+\.\d+, UI \d+\.\d+\.\d+)"
        )
        cli = settings.temporal_cli_version if settings.temporal_cli_path is None else "custom"
        version = f"{cli} ({embedded})"
        return ComponentReport(name, True, version, path, "started by `ascension dev` / tests")
    return ComponentReport(
        name,
        False,
        None,
        temporal_cli_cached_path(settings),
        f"built from the Go module proxy (v{settings.temporal_cli_version})",
        fix="make bootstrap   # go install github.com/temporalio/cli/cmd/temporal@v"
        f"{settings.temporal_cli_version}",
    )


# --- Temporal time-skipping test server (Java) -----------------------------------------------


def test_server_dir(settings: Settings) -> Path:
    return settings.cache_dir / "temporal-test-server" / settings.temporal_test_server_version


def test_server_launcher(settings: Settings) -> Path | None:
    path = settings.temporal_test_server_path or test_server_dir(settings) / "temporal-test-server"
    return path if path.is_file() else None


def report_test_server(settings: Settings) -> ComponentReport:
    name = "temporal test server (time-skipping)"
    if settings.temporal_test_server_path and (
        bad := _explicit(
            name, settings.temporal_test_server_path, "ASCENSION_TEMPORAL_TEST_SERVER_PATH"
        )
    ):
        return bad
    path = test_server_launcher(settings)
    if path:
        return ComponentReport(
            name, True, settings.temporal_test_server_version, path, "java launcher, tests only"
        )
    return ComponentReport(
        name,
        False,
        None,
        test_server_dir(settings),
        "io.temporal:temporal-test-server from Maven Central",
        fix="make bootstrap   # needs java and mvn (apt-get install default-jdk-headless maven)",
    )


# --- MinIO ----------------------------------------------------------------------------------


def minio_cached_path(settings: Settings) -> Path:
    return settings.cache_dir / "minio" / settings.minio_version / "minio"


def minio_path(settings: Settings) -> Path | None:
    path = settings.minio_path or minio_cached_path(settings)
    return path if path.is_file() else None


def report_minio(settings: Settings) -> ComponentReport:
    name = "minio (S3 object store)"
    if settings.minio_path and (
        bad := _explicit(name, settings.minio_path, "ASCENSION_MINIO_PATH")
    ):
        return bad
    path = minio_path(settings)
    if path:
        return ComponentReport(name, True, settings.minio_version, path, "started by tests")
    return ComponentReport(
        name,
        False,
        None,
        minio_cached_path(settings),
        "built from the Go module proxy",
        fix=f"make bootstrap   # go install github.com/minio/minio@{settings.minio_version}",
    )


# --- Debian packages --------------------------------------------------------------------------


def postgres_bin_dir(settings: Settings) -> Path | None:
    """Folder holding initdb/pg_ctl/postgres: the setting, else Debian's newest major version."""
    if settings.postgres_bin_dir:
        candidates = [settings.postgres_bin_dir]
    else:
        found = Path("/usr/lib/postgresql").glob("*/bin")
        candidates = sorted(found, key=lambda p: int(p.parent.name), reverse=True)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "postgres").is_file():
            return directory
    return None


def report_postgres(settings: Settings) -> ComponentReport:
    name = "postgresql"
    directory = postgres_bin_dir(settings)
    if directory:
        version = _run_version([str(directory / "postgres"), "--version"])
        return ComponentReport(name, True, version, directory, "initdb + postgres on loopback")
    return ComponentReport(
        name,
        False,
        None,
        settings.postgres_bin_dir,
        "Debian package",
        fix="apt-get install -y postgresql   (or set ASCENSION_POSTGRES_BIN_DIR)",
    )


def rabbitmq_server_path(settings: Settings) -> Path | None:
    if settings.rabbitmq_server_path:
        return settings.rabbitmq_server_path if settings.rabbitmq_server_path.is_file() else None
    debian = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
    if debian.is_file():
        return debian
    found = shutil.which("rabbitmq-server")
    return Path(found) if found else None


def report_rabbitmq(settings: Settings) -> ComponentReport:
    name = "rabbitmq"
    path = rabbitmq_server_path(settings)
    if path:
        releases = sorted(Path("/usr/lib/rabbitmq/lib").glob("rabbitmq_server-*"))
        version = releases[-1].name.split("-", 1)[1] if releases else None
        return ComponentReport(name, True, version, path, "own node on loopback ports")
    return ComponentReport(
        name,
        False,
        None,
        settings.rabbitmq_server_path,
        "Debian package",
        fix="apt-get install -y rabbitmq-server   (or set ASCENSION_RABBITMQ_SERVER_PATH)",
    )


def report_opencv_libs(settings: Settings) -> ComponentReport:
    name = "libGL / glib (needed by cv2)"
    missing = [lib for lib in ("GL", "glib-2.0") if ctypes.util.find_library(lib) is None]
    if not missing:
        return ComponentReport(name, True, None, None, "system libraries")
    return ComponentReport(
        name, False, None, None, "Debian packages", fix="apt-get install -y libgl1 libglib2.0-0"
    )


def report_footage(settings: Settings) -> ComponentReport:
    name = "test footage (opencv-doc)"
    sample = OPENCV_DOC_DATA / "vtest.avi"
    if sample.is_file():
        return ComponentReport(name, True, None, OPENCV_DOC_DATA, "real images/video of people")
    return ComponentReport(
        name, False, None, OPENCV_DOC_DATA, "Debian package", fix="apt-get install -y opencv-doc"
    )


def _report_tool(name: str, command: str, fix: str) -> ComponentReport:
    path = shutil.which(command)
    if not path:
        return ComponentReport(name, False, None, None, "build tool", fix=fix)
    flag = "version" if command == "go" else "--version"
    version = _run_version([path, flag], r"(\d+\.\d+(?:\.\d+)?)")
    return ComponentReport(name, True, version, Path(path), "build tool")


def report_build_tools(settings: Settings) -> list[ComponentReport]:
    return [
        _report_tool("go", "go", "install Go >= 1.24 (https://go.dev/doc/install) or apt-get"),
        _report_tool("java", "java", "apt-get install -y default-jre-headless"),
        _report_tool("maven", "mvn", "apt-get install -y maven"),
    ]


REPORTERS: tuple[Callable[[Settings], ComponentReport], ...] = (
    report_temporal_cli,
    report_test_server,
    report_minio,
    report_postgres,
    report_rabbitmq,
    report_opencv_libs,
    report_footage,
)


def doctor(settings: Settings) -> list[ComponentReport]:
    """Every component, in the order a reader needs them."""
    return [reporter(settings) for reporter in REPORTERS] + report_build_tools(settings)
