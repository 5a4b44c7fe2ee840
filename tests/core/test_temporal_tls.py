"""How every process reaches Temporal: in the clear inside a cluster, TLS with an API key or a
client certificate for Temporal Cloud (README: Deploying on Kubernetes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio.service import TLSConfig
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from core.storage import make_object_store
from core.temporal_client import connect_temporal, temporal_tls


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_a_cluster_internal_frontend_is_reached_in_the_clear() -> None:
    assert temporal_tls(_settings()) is False


def test_an_api_key_turns_tls_on_with_the_system_roots() -> None:
    assert temporal_tls(_settings(temporal_api_key="key")) is True
    # ...unless TLS is turned off explicitly (a proxy that terminates it, a test server).
    assert temporal_tls(_settings(temporal_api_key="key", temporal_tls=False)) is False


def test_a_client_certificate_is_mtls_read_from_its_files(tmp_path: Path) -> None:
    cert, key, ca = tmp_path / "tls.crt", tmp_path / "tls.key", tmp_path / "ca.crt"
    cert.write_bytes(b"CERT")
    key.write_bytes(b"KEY")
    ca.write_bytes(b"CA")
    tls = temporal_tls(
        _settings(
            temporal_tls_cert_path=cert,
            temporal_tls_key_path=key,
            temporal_tls_ca_path=ca,
            temporal_tls_server_name="ns.acct.tmprl.cloud",
        )
    )
    assert tls == TLSConfig(
        server_root_ca_cert=b"CA",
        domain="ns.acct.tmprl.cloud",
        client_cert=b"CERT",
        client_private_key=b"KEY",
    )


def test_half_a_client_identity_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="go together"):
        _settings(temporal_tls_cert_path=tmp_path / "tls.crt")


def test_the_api_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASCENSION_TEMPORAL_API_KEY", "from-the-secret")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.temporal_api_key is not None
    assert settings.temporal_api_key.get_secret_value() == "from-the-secret"
    assert "from-the-secret" not in repr(settings)


async def test_the_connection_follows_the_settings(
    temporal_dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """Against a real frontend that answers in the clear: an API key alone means TLS, so the
    handshake fails; with TLS off the same key is sent as a header and the calls work."""
    target = temporal_dev_env.client.service_client.config.target_host
    namespace = temporal_dev_env.client.namespace
    base: dict[str, Any] = {
        "data_dir": tmp_path,
        "temporal_namespace": namespace,
        "temporal_api_key": "k",
    }
    store = make_object_store(_settings(**base))
    try:
        with pytest.raises(RuntimeError):
            await connect_temporal(_settings(**base), store, target=target)
        client = await connect_temporal(_settings(**base, temporal_tls=False), store, target=target)
        assert client.api_key == "k"
        assert await client.service_client.check_health()
    finally:
        await store.close()
