"""The `ascension stack` sub-commands: arguments, and what the operator reads.

Exit codes: 0 done (status: every component healthy), 1 something failed or is unhealthy (the
message says what), 2 the env file cannot describe a stack (nothing was started).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ascension.stack.config import (
    StackConfigError,
    StackPlan,
    default_state_dir,
    load_plan,
    load_settings,
)

# Wide enough for paths when the output is a log file or CI, not a terminal.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)


def add_parser(sub: Any) -> None:
    stack = sub.add_parser(
        "stack", help="the real servers, workers, ingress and API on this machine (no Docker)"
    )
    commands = stack.add_subparsers(dest="stack_command", required=True)
    for name, text in (
        ("up", "start everything on loopback and wait until each part is healthy"),
        ("down", "stop everything `up` started (data is kept)"),
        ("status", "each component's pid, port and health"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument(
            "--env-file",
            type=Path,
            default=Path(".env"),
            help="the stack's one configuration: ASCENSION_* variables (default: ./.env)",
        )
        command.add_argument(
            "--state-dir",
            type=Path,
            default=None,
            help="pids, logs and server data (default: $ASCENSION_DATA_DIR/stack)",
        )
        if name == "status":
            command.add_argument("--json", action="store_true", help="one JSON document")


def _up(plan: StackPlan) -> int:
    from ascension.stack.run import StackError, up

    console.print(f"state and logs in {plan.state_dir}")
    try:
        asyncio.run(up(plan, say=lambda line: console.print(escape(line))))
    except StackError as error:
        console.print(f"[red]stack up failed:[/] {escape(str(error))}")
        return 1
    except Exception as error:  # one line for the operator, never a traceback
        console.print(f"[red]stack up failed:[/] {type(error).__name__}: {escape(str(error))}")
        return 1
    console.print(
        f"[green]stack is up.[/] API {plan.api_url}  Temporal Web UI "
        f"http://127.0.0.1:{plan.temporal_ui_port}  stop: ascension stack down"
    )
    return 0


def _status(plan: StackPlan, as_json: bool) -> int:
    from ascension.stack.run import status

    rows = asyncio.run(status(plan))
    if as_json:
        document = [
            {
                "name": c.name,
                "pid": c.pid,
                "port": c.port,
                "healthy": h.healthy,
                "detail": h.detail,
                "log": c.log,
            }
            for c, h in rows
        ]
        print(json.dumps({"state_dir": str(plan.state_dir), "components": document}))
    elif not rows:
        console.print(f"no stack recorded in {plan.state_dir}")
    else:
        table = Table(title=f"stack in {plan.state_dir}")
        for column in ("component", "pid", "port", "health", "log"):
            table.add_column(column, overflow="fold")
        for c, h in rows:
            mark = "[green]healthy[/]" if h.healthy else "[red]UNHEALTHY[/]"
            table.add_row(
                c.name, str(c.pid), str(c.port or ""), f"{mark} {escape(h.detail)}", c.log
            )
        console.print(table)
    return 0 if rows and all(h.healthy for _, h in rows) else 1


def _down(env_file: Path, state_dir: Path | None) -> int:
    from ascension.stack.run import down

    if state_dir is None:
        state_dir = default_state_dir(load_settings(env_file))
    reports = down(state_dir.absolute())
    if not reports:
        console.print(f"no stack recorded in {state_dir}")
    for report in reports:
        console.print(f"{report.name:<12} {report.outcome}")
    return 0


def cmd_stack(args: argparse.Namespace) -> int:
    if not args.verbose:
        # The probes' libraries (pika, alembic) narrate every connection at INFO; the operator
        # reads one line per component instead. The components log to their own files.
        logging.getLogger().setLevel(logging.WARNING)
    # pika logs each refused connection as an ERROR with a traceback, and RabbitMQ refuses
    # them while it starts; the readiness wait says what matters.
    logging.getLogger("pika").setLevel(logging.CRITICAL)
    try:
        if args.stack_command == "down":
            # Needs no complete configuration: only where the state is.
            return _down(args.env_file, args.state_dir)
        plan = load_plan(args.env_file, args.state_dir)
    except StackConfigError as error:
        console.print(f"[red]stack {args.stack_command}:[/] {escape(str(error))}")
        return 2
    if args.stack_command == "up":
        return _up(plan)
    return _status(plan, args.json)
