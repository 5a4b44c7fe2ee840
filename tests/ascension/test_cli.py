"""`ascension doctor` tells a user what is missing and how to fix it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit


def _doctor(env_overrides: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **env_overrides}
    return subprocess.run(
        [sys.executable, "-m", "ascension.cli", "doctor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_doctor_names_a_missing_component_and_its_fix(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "temporal"
    result = _doctor({"ASCENSION_TEMPORAL_CLI_PATH": str(missing), "COLUMNS": "250"})
    assert result.returncode == 1
    out = " ".join(result.stdout.split())
    assert "temporal CLI" in out and "MISSING" in out
    assert "ASCENSION_TEMPORAL_CLI_PATH" in out and "does not exist" in out
    assert "Traceback" not in result.stdout + result.stderr


def test_doctor_reports_every_component(tmp_path: Path) -> None:
    # An empty cache dir: the built components are missing, with the command that builds them.
    result = _doctor({"ASCENSION_CACHE_DIR": str(tmp_path), "COLUMNS": "250"})
    out = " ".join(result.stdout.split())
    for name in ("temporal CLI", "temporal test server", "minio", "postgresql", "rabbitmq"):
        assert name in out
    assert "make bootstrap" in out
    assert result.returncode == 1
