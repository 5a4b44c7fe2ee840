"""The `ascension` command: set up, check and run the stack.

Sub-commands import what they run lazily, so `ascension doctor` works (and says what is missing)
even on a machine where the heavy vision packages or the servers are not installed yet.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from core.logs import LogFormat, configure_logging
from core.redact import install_log_redaction
from core.settings import get_settings
from schema.analysis import Tier

# Wide enough for paths when the output is a log file or CI, not a terminal.
console = Console(width=None if sys.stdout.isatty() else 160)


def cmd_doctor(_: argparse.Namespace) -> int:
    """Print one row per component; exit 1 when anything is missing."""
    from ascension.toolchain.components import doctor

    reports = doctor(get_settings())
    table = Table(title="Ascension components", show_lines=False)
    for column in ("component", "status", "version", "path / how", "fix"):
        table.add_column(column, overflow="fold")
    for report in reports:
        status = "[green]found[/]" if report.found else "[red]MISSING[/]"
        where = f"{report.path or ''}\n{report.how}".strip()
        table.add_row(report.name, status, report.version or "", where, report.fix or "")
    console.print(table)
    missing = [r for r in reports if not r.found]
    if missing:
        console.print(f"[red]{len(missing)} missing:[/] " + ", ".join(r.name for r in missing))
        return 1
    console.print("[green]All components found.[/]")
    return 0


def cmd_bootstrap(_: argparse.Namespace) -> int:
    """Build or fetch every missing server binary into the cache."""
    from ascension.toolchain.build import BuildError, bootstrap

    settings = get_settings()
    print(f"ascension bootstrap: cache {settings.cache_dir}", flush=True)
    try:
        bootstrap(settings)
    except BuildError as exc:
        console.print(f"[red]bootstrap failed:[/] {exc}")
        return 1
    return 0


def cmd_migrate(_: argparse.Namespace) -> int:
    """Bring the configured database (or the embedded SQLite file) up to the latest schema."""
    from core.db import make_engine, migrate

    settings = get_settings()
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def run() -> None:
        engine = make_engine(settings.effective_database_url)
        try:
            await migrate(engine)
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except Exception as exc:  # a clear line, not a traceback, for a missing or refused database
        console.print(f"[red]migrate failed:[/] {type(exc).__name__}: {exc}")
        return 1
    console.print("database schema is up to date")
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    """Run the embedded stack in the foreground until Ctrl-C."""
    from ascension.devstack import run_dev_stack

    # A second Ctrl-C during shutdown should not print a traceback.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_dev_stack(get_settings(), api=not args.no_api))
    return 0


def cmd_api(args: argparse.Namespace) -> int:
    """Serve the FastAPI facade with uvicorn."""
    import uvicorn

    from api.app import uvicorn_options

    settings = get_settings()
    uvicorn.run(
        "api.app:app",
        host=settings.api_host,
        port=settings.api_port,
        reload=args.reload,
        # JSON logs: no config of uvicorn's own, so its records reach the root's JSON handler.
        log_config=None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG,
        **uvicorn_options(settings),
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """One full analysis on the embedded default stack (`make demo`)."""
    from ascension.demo import run_demo

    result = asyncio.run(run_demo(get_settings(), console))
    return 0 if result.status.value == "completed" else 1


def cmd_analyze(args: argparse.Namespace) -> int:
    """The production pipeline on the climber's own video and wall photo (embedded stack)."""
    from ascension.analyze import AnalyzeRequest, run_analyze
    from schema.analysis import Morphology

    request = AnalyzeRequest(
        video=args.video,
        photo=args.photo,
        out=args.out,
        morphology=Morphology(
            height_cm=args.height_cm, arm_span_cm=args.arm_span_cm, weight_kg=args.weight_kg
        ),
        tier=Tier(args.tier),
        overlay=not args.no_overlay,
    )
    return asyncio.run(run_analyze(get_settings(), request, console))


def cmd_worker(args: argparse.Namespace) -> int:
    """Run a Temporal worker until SIGINT/SIGTERM."""
    settings = get_settings()
    if args.kind == "cpu":
        from worker_cpu.main import run_cpu_worker

        asyncio.run(run_cpu_worker(settings))
    elif args.kind == "ingress":
        from ingress.main import run_ingress

        asyncio.run(run_ingress(settings))
    else:
        from worker_gpu.main import run_gpu_worker

        asyncio.run(run_gpu_worker(settings))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from ascension.bench_cli import cmd_bench as bench

    return bench(args)


def cmd_docs(args: argparse.Namespace) -> int:
    from ascension.docs import cmd_docs as docs

    return docs(args)


def cmd_users(args: argparse.Namespace) -> int:
    from ascension.users_cli import cmd_users as users

    return users(args)


def cmd_replay(args: argparse.Namespace) -> int:
    from ascension.support_cli import cmd_replay as replay

    return replay(args)


def cmd_analyses(args: argparse.Namespace) -> int:
    from ascension.support_cli import cmd_analyses as analyses

    return analyses(args)


def cmd_stack(args: argparse.Namespace) -> int:
    from ascension.stack.cli import cmd_stack as stack

    return stack(args)


def cmd_train(args: argparse.Namespace) -> int:
    from ascension.train_cli import cmd_train as train

    return train(args)


def cmd_holds(args: argparse.Namespace) -> int:
    """One JSON hold map per photo and line (the API's schema), or a table per photo."""
    import json
    from dataclasses import asdict

    from engines.errors import EngineInputError
    from engines.holds import (
        SHIPPED_WEIGHTS,
        HoldModelError,
        decode_photo,
        detect_holds,
        load_hold_model,
    )

    settings = get_settings()
    detector = args.detector or settings.hold_detector
    model = None
    if detector == "learned":
        try:
            model = load_hold_model(settings.hold_model_path or SHIPPED_WEIGHTS)
        except HoldModelError as error:
            console.print(f"[red]cannot load the hold detector:[/] {error}")
            return 2
    failed = 0
    for path in args.photos:
        try:
            image = decode_photo(path.read_bytes())
            hold_map = detect_holds(image, model=model).hold_map
        except (OSError, EngineInputError) as error:
            failed += 1
            message = error.strerror if isinstance(error, OSError) else str(error)
            if args.json:
                print(json.dumps({"photo": str(path), "error": message}), flush=True)
            else:
                console.print(f"[red]{path}[/]: {message}")
            continue
        if args.json:
            document = {"photo": str(path), "hold_map": asdict(hold_map)}
            print(json.dumps(document, separators=(",", ":")), flush=True)
            continue
        table = Table(title=f"{path}: {len(hold_map.holds)} holds ({detector})")
        for column in ("id", "type", "confidence", "colour", "route", "x", "y"):
            table.add_column(column)
        for hold in hold_map.holds:
            table.add_row(
                hold.id,
                hold.type,
                f"{hold.confidence:.2f}",
                hold.color,
                hold.route,
                f"{hold.x:.3f}",
                f"{hold.y:.3f}",
            )
        console.print(table)
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ascension", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="check every component and say how to fix what is missing")
    sub.add_parser("bootstrap", help="build/fetch the server binaries into the cache")
    sub.add_parser("migrate", help="apply the database migrations (Alembic) to the app database")
    dev = sub.add_parser("dev", help="run the embedded stack (Temporal + Web UI, API)")
    dev.add_argument("--no-api", action="store_true", help="do not serve the API")
    api = sub.add_parser("api", help="serve the HTTP API")
    api.add_argument("--reload", action="store_true")
    sub.add_parser("demo", help="run one full analysis on the embedded default stack")
    analyze = sub.add_parser(
        "analyze", help="analyse your own climbing video against a photo of the wall"
    )
    analyze.add_argument("video", type=Path, help="the climbing video")
    analyze.add_argument("--photo", type=Path, required=True, help="photo of the wall")
    analyze.add_argument("--height-cm", type=float, default=None)
    analyze.add_argument("--arm-span-cm", type=float, default=None)
    analyze.add_argument("--weight-kg", type=float, default=None)
    analyze.add_argument(
        "--tier", default="infinity", choices=[tier.value for tier in Tier], help="plan to use"
    )
    analyze.add_argument("--out", type=Path, required=True, help="folder for the outputs")
    analyze.add_argument("--no-overlay", action="store_true", help="skip the overlay video")
    worker = sub.add_parser("worker", help="run a Temporal worker (cpu: workflows + bookkeeping)")
    worker.add_argument(
        "kind",
        choices=["cpu", "gpu", "ingress"],
        help="ingress: the legacy RabbitMQ job queues mapped to workflow starts",
    )
    from ascension import bench_cli

    bench_cli.add_parser(sub)
    from ascension import train_cli

    train_cli.add_parser(sub)
    from ascension import users_cli

    users_cli.add_parser(sub)
    from ascension import docs

    docs.add_parser(sub)
    from ascension.stack import cli as stack_cli

    stack_cli.add_parser(sub)
    from ascension import support_cli

    support_cli.add_parser(sub)
    holds = sub.add_parser("holds", help="hold maps of wall photos")
    hold_commands = holds.add_subparsers(dest="holds_command", required=True)
    detect = hold_commands.add_parser(
        "detect", help="detect holds on photos with the production code path"
    )
    detect.add_argument("photos", nargs="+", type=Path, help="wall photos (JPEG, PNG, ...)")
    detect.add_argument(
        "--detector", choices=["learned", "classical"], default=None, help="default: settings"
    )
    detect.add_argument("--json", action="store_true", help="last line: one JSON object")
    return parser


COMMANDS = {
    "doctor": cmd_doctor,
    "bootstrap": cmd_bootstrap,
    "migrate": cmd_migrate,
    "dev": cmd_dev,
    "api": cmd_api,
    "worker": cmd_worker,
    "demo": cmd_demo,
    "analyze": cmd_analyze,
    "bench": cmd_bench,
    "train": cmd_train,
    "users": cmd_users,
    "docs": cmd_docs,
    "stack": cmd_stack,
    "replay": cmd_replay,
    "analyses": cmd_analyses,
    "holds": cmd_holds,
}


def _log_format() -> LogFormat:
    """``ASCENSION_LOG_FORMAT``; text while the settings cannot be read (the command itself then
    reports what is wrong with them)."""
    try:
        return get_settings().log_format
    except ValueError:
        return "text"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(_log_format(), level=logging.DEBUG if args.verbose else logging.INFO)
    install_log_redaction()  # no token, password hash or presigned signature in any log
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
