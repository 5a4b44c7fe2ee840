"""Connect to Temporal with the shared data converter; every client and worker comes here."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.converter import DataConverter

from core.payload_crypto import key_ring
from core.payloads import make_data_converter
from core.settings import Settings
from core.storage import ObjectStore


def temporal_target(settings: Settings) -> str:
    return settings.temporal_address or f"127.0.0.1:{settings.temporal_dev_port}"


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
    settings: Settings, store: ObjectStore, *, target: str | None = None
) -> Client:
    """A client whose payloads over the threshold go to ``settings.payload_bucket``, encrypted
    when the settings name an active payload key."""
    converter = temporal_data_converter(settings, store)
    return await Client.connect(
        target or temporal_target(settings),
        namespace=settings.temporal_namespace,
        data_converter=converter,
    )
