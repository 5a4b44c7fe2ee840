"""GPU utilisation: read from the driver's tool when there is one, absent when there is none.

No GPU here: the "present" case runs an executable named ``nvidia-smi`` that answers as the
driver's does (``--format=csv,noheader,nounits``: one integer percent per GPU, ``[N/A]`` where a
device does not report it); the real one is exercised on GPU workers.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from core import telemetry

pytestmark = pytest.mark.unit


def _smi(folder: Path, output: str, code: int = 0) -> None:
    script = folder / "nvidia-smi"
    script.write_text(f"#!/bin/sh\nprintf '{output}'\nexit {code}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def no_nvml(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def without_pynvml(name: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name == "pynvml":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_pynvml)


@pytest.mark.usefixtures("no_nvml")
def test_no_driver_means_no_figure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert telemetry.gpu_utilization() is None


@pytest.mark.usefixtures("no_nvml")
def test_each_gpu_reports_a_ratio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _smi(tmp_path, "37\\n100\\n")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin:/bin")
    assert telemetry.gpu_utilization() == [0.37, 1.0]


@pytest.mark.usefixtures("no_nvml")
@pytest.mark.parametrize(("output", "code"), [("[N/A]\\n", 0), ("", 0), ("NVIDIA-SMI failed", 9)])
def test_a_driver_without_a_figure_reports_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, output: str, code: int
) -> None:
    _smi(tmp_path, output, code)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin:/bin")
    assert telemetry.gpu_utilization() is None
