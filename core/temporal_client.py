"""Connect to Temporal with the shared data converter; every client and worker comes here."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.service import TLSConfig

from core.payload_crypto import key_ring
from core.payloads import make_data_converter
from core.settings import Settings
from core.storage import ObjectStore
from core.telemetry import process_runtime


def temporal_target(settings: Settings) -> str:
    return settings.temporal_address or f"127.0.0.1:{settings.temporal_dev_port}"


def temporal_tls(settings: Settings) -> TLSConfig | bool:
    """The TLS the frontend needs: off for a cluster-internal frontend (the Helm chart's), on with
    the system's roots for Temporal Cloud with an API key, mTLS with a client certificate.

    Files are read here, at connection time, so a rotated certificate (a remounted Kubernetes
    Secret) is picked up by the next process start without any other change.
    """
    cert, key = settings.temporal_tls_cert_path, settings.temporal_tls_key_path
    ca, name = settings.temporal_tls_ca_path, settings.temporal_tls_server_name
    wanted = settings.temporal_tls
    if wanted is None:
        wanted = settings.temporal_api_key is not None or cert is not None
    if not wanted:
        return False
    if cert is None and ca is None and name is None:
        return True
    return TLSConfig(
        server_root_ca_cert=ca.read_bytes() if ca else None,
        domain=name,
        client_cert=cert.read_bytes() if cert else None,
        client_private_key=key.read_bytes() if key else None,
    )


def temporal_data_converter(settings: Settings, store: ObjectStore) -> DataConverter:
    """The converter of every client and worker; also what `ascension replay FILE` decodes a
    history with, without a server."""
    return make_data_converter(
        store,
        settings.payload_bucket,
        threshold=settings.payload_threshold_bytes,
        retention_days=settings.payload_retention_days,
        keys=key_ring(settings),
    )


async def connect_temporal(
    settings: Settings,
    store: ObjectStore,
    *,
    target: str | None = None,
    metrics_bind: str | None = None,
) -> Client:
    """A client whose payloads over the threshold go to ``settings.payload_bucket``, encrypted
    when the settings name an active payload key.

    ``metrics_bind`` (a worker's ``*_worker_metrics_bind``) connects through the process's one
    runtime that serves Prometheus there (`core.telemetry`): the workers built on this client
    report the SDK's metrics and Ascension's own on it. Without it, the SDK's default runtime."""
    converter = temporal_data_converter(settings, store)
    return await Client.connect(
        target or temporal_target(settings),
        namespace=settings.temporal_namespace,
        data_converter=converter,
        runtime=process_runtime(metrics_bind),
        tls=temporal_tls(settings),
        api_key=(
            settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
        ),
    )
