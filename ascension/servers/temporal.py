"""Temporal servers through the SDK's own launchers, fed with binaries we built.

`start_local` runs the `temporal` CLI dev server (with the Web UI when asked) and
`start_time_skipping` the Java test server. When no binary is cached and none is configured, the
SDK downloads its own (machines with normal internet); on registry-only machines run
`make bootstrap` first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from ascension.servers.process import ManagedProcess, port_open
from ascension.toolchain import components
from core.settings import Settings
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


_INDEXED_TYPES = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Text": IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
    "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
}


async def register_search_attributes(client: Client, namespace: str) -> None:
    """Register our search attributes on a running server (idempotent for the same types)."""
    try:
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        known = set(existing.custom_attributes)
    except RPCError as err:
        # The Java time-skipping server can add search attributes but not list them.
        if err.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        known = set()
    missing = {
        name: _INDEXED_TYPES[kind]
        for name, kind in SEARCH_ATTRIBUTE_TYPES.items()
        if name not in known
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )


#: Task priority (the infinity tier first on the GPU queue) is enforced within one task-queue
#: partition; across partitions it is approximate. A single-node dev server gains nothing from
#: four partitions, so it uses one and serves tasks in exact priority order. The new matcher is
#: what implements priority (default on in recent servers; said explicitly here).
DEV_SERVER_DYNAMIC_CONFIG = [
    "--dynamic-config-value",
    "matching.useNewMatcher=true",
    "--dynamic-config-value",
    "matching.numTaskqueueReadPartitions=1",
    "--dynamic-config-value",
    "matching.numTaskqueueWritePartitions=1",
    # DeleteWorkflowExecution waits until the run's close task is acknowledged, and the
    # transfer queue acknowledges every 30 s by default: a deleted analysis' history lingered
    # that long. A dev server has one shard; acknowledging every second costs nothing.
    "--dynamic-config-value",
    'history.transferProcessorUpdateAckInterval="1s"',
]


def search_attribute_args() -> list[str]:
    """The CLI dev server's flags registering our search attributes at start (idempotent)."""
    args: list[str] = []
    for name, kind in SEARCH_ATTRIBUTE_TYPES.items():
        args += ["--search-attribute", f"{name}={kind}"]
    return args


@dataclass
class TemporalDevServer:
    """`temporal server start-dev` as a process of its own, for `ascension stack`.

    `start_dev_server` hands the process to the SDK's environment, which stops it when this
    Python process ends; the stack's server must outlive the command that started it. Both pass
    the same search attributes and dynamic config. State is kept in a SQLite file in
    ``base_dir``, so workflows survive a restart.
    """

    cli: Path
    base_dir: Path
    port: int
    namespace: str
    ui_port: int | None = None
    #: The codec server the Web UI sends payloads to for display (the API's ``/codec``).
    ui_codec_endpoint: str | None = None
    _process: ManagedProcess | None = None

    @property
    def log_path(self) -> Path:
        return self.base_dir / "temporal.log"

    @property
    def pid(self) -> int | None:
        return self._process.proc.pid if self._process else None

    def command(self) -> list[str]:
        cmd = [
            str(self.cli),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--namespace",
            self.namespace,
            "--db-filename",
            str(self.base_dir / "temporal.db"),
            "--log-format",
            "pretty",
            "--log-level",
            "warn",
        ]
        cmd += ["--ui-port", str(self.ui_port)] if self.ui_port else ["--headless"]
        if self.ui_port and self.ui_codec_endpoint:
            cmd += ["--ui-codec-endpoint", self.ui_codec_endpoint]
        return cmd + search_attribute_args() + DEV_SERVER_DYNAMIC_CONFIG

    def start(self, timeout: float = 90) -> None:
        """Start it and wait for its ports; the caller checks the frontend with a client."""
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self._process = ManagedProcess("temporal", self.command(), self.log_path)
        ports = [self.port] + ([self.ui_port] if self.ui_port else [])
        self._process.wait_ready(lambda: all(port_open(port) for port in ports), timeout)

    def stop(self) -> None:
        if self._process:
            self._process.stop()

    def restart(self, timeout: float = 90) -> None:
        """Stop and start again on the same port and SQLite file: workflows carry on."""
        self.stop()
        self.start(timeout)


async def start_dev_server(
    settings: Settings,
    *,
    port: int | None = None,
    ui: bool = False,
    ui_port: int | None = None,
    db_file: Path | None = None,
    namespace: str | None = None,
    ui_codec_endpoint: str | None = None,
) -> WorkflowEnvironment:
    """Start the Temporal CLI dev server on loopback (in memory unless ``db_file`` is given).

    ``ui_codec_endpoint`` is the codec server the Web UI sends payloads to for display (the
    API's ``/codec``); the browser calls it, so it must be a URL the browser reaches.
    """
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
        dev_server_extra_args=[
            *DEV_SERVER_DYNAMIC_CONFIG,
            *(["--ui-codec-endpoint", ui_codec_endpoint] if ui_codec_endpoint else []),
        ],
    )


async def start_time_skipping_server(settings: Settings) -> WorkflowEnvironment:
    """Start the Java time-skipping test server (tests only)."""
    launcher = components.test_server_launcher(settings)
    if launcher is None:
        log.warning("no temporal test server cached or configured; the SDK will try to download")
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(launcher) if launcher else None,
        # A cold JVM on a loaded 2-core machine can take well over the SDK's default.
        test_server_startup_timeout=timedelta(seconds=90),
    )
    # The workflow upserts these; the Java server knows none until they are added.
    await register_search_attributes(env.client, env.client.namespace)
    return env
