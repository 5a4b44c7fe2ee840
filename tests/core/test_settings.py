"""Settings need no configuration and honour the documented environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from schema import names

pytestmark = pytest.mark.unit


def test_embedded_defaults_need_no_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ASCENSION_DATABASE_URL", "ASCENSION_TEMPORAL_ADDRESS", "ASCENSION_AMQP_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.temporal_address is None
    assert settings.effective_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.object_store == "local"
    assert settings.bucket == names.VIDEOS_BUCKET
    assert settings.data_dir.is_absolute()


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ASCENSION_DATABASE_URL", "postgresql+asyncpg://u@db:5432/a")
    monkeypatch.setenv("ASCENSION_TEMPORAL_CLI_PATH", str(tmp_path / "temporal"))
    monkeypatch.setenv("ASCENSION_GPU_TASK_QUEUE", "gpu-h200")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.effective_database_url == "postgresql+asyncpg://u@db:5432/a"
    assert settings.temporal_cli_path == tmp_path / "temporal"
    assert settings.gpu_task_queue == "gpu-h200"


def test_bad_value_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASCENSION_OBJECT_STORE", "ftp")
    with pytest.raises(ValueError, match="object_store"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_env_example_documents_every_setting() -> None:
    """`.env.example` is where operators look; a setting missing there is a setting nobody finds."""
    text = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    missing = [
        f"ASCENSION_{name.upper()}"
        for name in Settings.model_fields
        if f"ASCENSION_{name.upper()}=" not in text
    ]
    assert missing == []


def test_settings_travel_to_a_child_process_as_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pydantic import SecretStr

    settings = Settings(
        data_dir=tmp_path, s3_secure=True, jwt_secret=SecretStr("s" * 40), cors_origins=["a"]
    )
    env = settings.as_environment(["data_dir", "s3_secure", "jwt_secret", "cors_origins"])
    assert env["ASCENSION_JWT_SECRET"] == "s" * 40  # the value, not "**********"
    assert "ASCENSION_DATABASE_URL" not in settings.as_environment(["database_url"])  # unset
    for name, value in env.items():  # what the child process reads
        monkeypatch.setenv(name, value)
    child = Settings()
    assert (child.data_dir, child.s3_secure, child.cors_origins) == (tmp_path, True, ["a"])
