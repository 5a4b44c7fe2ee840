"""Temporal servers through the SDK's own launchers, fed with binaries we built.

`start_local` runs the `temporal` CLI dev server (with the Web UI when asked) and
`start_time_skipping` the Java test server. When no binary is cached and none is configured, the
SDK downloads its own (machines with normal internet); on registry-only machines run
`make bootstrap` first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.common import SearchAttributeKey
from temporalio.testing import WorkflowEnvironment

from ascension.settings import Settings
from ascension.toolchain import components
from schema.names import SEARCH_ATTRIBUTE_TYPES

log = logging.getLogger(__name__)

_KEY_FACTORIES: dict[str, Callable[[str], SearchAttributeKey[Any]]] = {
    "Keyword": SearchAttributeKey.for_keyword,
    "Text": SearchAttributeKey.for_text,
    "Int": SearchAttributeKey.for_int,
    "Datetime": SearchAttributeKey.for_datetime,
}


def search_attribute_keys() -> list[SearchAttributeKey[Any]]:
    """The custom search attributes the dev server must know before workflows upsert them."""
    return [_KEY_FACTORIES[kind](name) for name, kind in SEARCH_ATTRIBUTE_TYPES.items()]


async def start_dev_server(
    settings: Settings,
    *,
    port: int | None = None,
    ui: bool = False,
    ui_port: int | None = None,
    db_file: Path | None = None,
    namespace: str | None = None,
) -> WorkflowEnvironment:
    """Start the Temporal CLI dev server on loopback (in memory unless ``db_file`` is given)."""
    cli = components.temporal_cli_path(settings)
    if cli is None:
        log.warning("no temporal CLI cached or configured; the SDK will try to download one")
    return await WorkflowEnvironment.start_local(
        namespace=namespace or settings.temporal_namespace,
        ip="127.0.0.1",
        port=port,
        ui=ui,
        ui_port=ui_port,
        search_attributes=search_attribute_keys(),
        dev_server_existing_path=str(cli) if cli else None,
        dev_server_database_filename=str(db_file) if db_file else None,
        dev_server_startup_timeout=timedelta(seconds=60),
    )


async def start_time_skipping_server(settings: Settings) -> WorkflowEnvironment:
    """Start the Java time-skipping test server (tests only)."""
    launcher = components.test_server_launcher(settings)
    if launcher is None:
        log.warning("no temporal test server cached or configured; the SDK will try to download")
    return await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(launcher) if launcher else None,
        # A cold JVM on a loaded 2-core machine can take well over the SDK's default.
        test_server_startup_timeout=timedelta(seconds=90),
    )
