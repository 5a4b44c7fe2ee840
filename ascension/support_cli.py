"""`ascension replay` and `ascension analyses retry`: support's checks and redrive from a shell.

Both use the configured stack (settings, Temporal client with the production data converter,
database, object store), so what they replay or restart is what the workers see. Answers are
one clear line each; exit status 0 when it worked, 1 when it did not (a nondeterminism, a
refused retry), 2 for a bad argument.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from core.settings import Settings

console = Console(soft_wrap=True)  # whole lines: error texts are copied into tickets


def add_parser(sub: Any) -> None:
    replay = sub.add_parser(
        "replay",
        help="replay a workflow history against today's workflow code (nondeterminism check)",
    )
    replay.add_argument(
        "file",
        nargs="?",
        type=Path,
        help="a history JSON exported from the Web UI or `temporal workflow show --output json`",
    )
    replay.add_argument(
        "--workflow-id", help="fetch this workflow's history from the configured Temporal"
    )
    replay.add_argument("--run-id", help="with --workflow-id: this run, not the latest")
    analyses = sub.add_parser("analyses", help="support's actions on analyses")
    commands = analyses.add_subparsers(dest="analyses_command", required=True)
    retry = commands.add_parser(
        "retry",
        help="run a failed (terminated, timed-out) analysis again with the same inputs",
    )
    retry.add_argument("analysis_id", help="the analysis id (AnalysisId in the Web UI)")


def cmd_replay(args: argparse.Namespace) -> int:
    from core.settings import get_settings

    if (args.file is None) == (args.workflow_id is None):
        console.print("[red]give a history FILE or --workflow-id ID (one of them)[/]")
        return 2
    return asyncio.run(
        replay(get_settings(), file=args.file, workflow_id=args.workflow_id, run_id=args.run_id)
    )


def cmd_analyses(args: argparse.Namespace) -> int:
    from core.settings import get_settings

    try:
        analysis_id = uuid.UUID(args.analysis_id)
    except ValueError:
        console.print(f"[red]{escape(args.analysis_id)!r} is not an analysis id (a UUID)[/]")
        return 2
    return asyncio.run(retry(get_settings(), analysis_id))


async def replay(
    settings: Settings,
    *,
    file: Path | None = None,
    workflow_id: str | None = None,
    run_id: str | None = None,
) -> int:
    """Replay a history fetched from the server or read from ``file``; prints OK or why not."""
    from temporalio.service import RPCError

    from core.storage import make_object_store
    from core.temporal_client import connect_temporal, temporal_data_converter
    from worker_cpu.replay import HistoryFileError, fetch_history, read_history_file, replay_history

    history = None
    if file is not None:
        try:
            history = read_history_file(file, workflow_id=workflow_id)
        except HistoryFileError as error:
            console.print(f"[red]{escape(str(error))}[/]")
            return 2
    # The workers' converter: payloads kept in the payload bucket (and their encryption, where
    # configured) read the same way. A file needs no server; a workflow id asks the server.
    store = make_object_store(settings)
    try:
        converter = temporal_data_converter(settings, store)
        if history is None:
            assert workflow_id is not None
            try:
                client = await connect_temporal(settings, store)
                history = await fetch_history(client, workflow_id, run_id)
            except RPCError as error:
                console.print(
                    f"[red]cannot fetch {escape(workflow_id)}:[/] {escape(error.message)}"
                )
                return 1
            except RuntimeError as error:  # the SDK's connect error: a server that is down
                console.print(f"[red]cannot reach Temporal:[/] {escape(str(error))}")
                return 1
        outcome = await replay_history(history, data_converter=converter)
    finally:
        await store.close()
    where = f"{escape(outcome.workflow_id)} run {outcome.run_id} ({outcome.events} events)"
    if outcome.ok:
        console.print(f"[green]OK[/] {where} replays with today's workflow code")
        return 0
    console.print(f"[red]REPLAY FAILED[/] {where}:\n{escape(outcome.failure or '')}")
    return 1


async def retry(settings: Settings, analysis_id: uuid.UUID) -> int:
    """`retry_analysis` from a shell: the same checks and answers as the support API."""
    from temporalio.service import RPCError

    from core.analyses import RetryRefused, UnknownAnalysis, retry_analysis
    from core.db import make_engine, session_scope
    from core.storage import make_object_store
    from core.temporal_client import connect_temporal
    from schema import names

    engine = make_engine(settings.effective_database_url)
    store = make_object_store(settings)
    try:
        client = await connect_temporal(settings, store)
        async with session_scope(engine) as session:
            handle = await retry_analysis(client, session, analysis_id, store=store)
    except UnknownAnalysis:
        console.print(f"[red]no analysis {analysis_id}[/]")
        return 1
    except RetryRefused as refused:
        console.print(f"[red]not retried ({refused.code}):[/] {escape(refused.message)}")
        return 1
    except (RPCError, OSError, RuntimeError) as error:
        console.print(
            f"[red]cannot reach the stack:[/] {type(error).__name__}: {escape(str(error))}"
        )
        return 1
    finally:
        await store.close()
        await engine.dispose()
    workflow_id = names.analysis_workflow_id(str(analysis_id))
    console.print(
        f"[green]retried[/] analysis {analysis_id}: new run {handle.result_run_id} of "
        f"{workflow_id} (the failed run stays in its history list)"
    )
    return 0
