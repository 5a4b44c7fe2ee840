"""`ascension replay` and `ascension analyses retry` as an operator types them: the arguments
reach the commands, and bad ones are refused with exit 2 before anything is contacted. The
commands themselves run against the real stack in `tests/api/routes/test_support.py`."""

from __future__ import annotations

from pathlib import Path

import pytest

from ascension.cli import main
from tests.utils.histories import HISTORY_DIR

pytestmark = pytest.mark.unit


def test_replay_needs_exactly_one_of_a_file_and_a_workflow_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["replay"]) == 2
    assert main(["replay", "h.json", "--workflow-id", "analysis-1"]) == 2
    assert "one of them" in capsys.readouterr().out


def test_a_recorded_history_replays_from_its_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(HISTORY_DIR / "happy_path_update_validation.json")]) == 0
    assert "OK happy_path_update_validation" in capsys.readouterr().out


def test_a_file_that_is_no_history_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert main(["replay", str(broken)]) == 2
    assert "is not JSON" in capsys.readouterr().out
    assert main(["replay", str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().out


def test_retry_refuses_an_id_that_is_not_a_uuid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyses", "retry", "not-an-id"]) == 2
    assert "is not an analysis id" in capsys.readouterr().out
