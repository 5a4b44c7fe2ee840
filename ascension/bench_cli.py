"""`ascension bench ...`: every benchmark's arguments and runner.

Each bench prints a readable table and, with ``--json``, one JSON object as its last line
(figures, baselines, ratios, machine), so runs can be compared. Bench modules are imported only
when their bench runs: they pull in servers, vision or the API.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from core.settings import get_settings

# Wide enough for paths when the output is a log file or CI, not a terminal.
console = Console(width=None if sys.stdout.isatty() else 160)


def add_parser(sub: Any) -> None:
    """The ``bench`` sub-command and one sub-parser per benchmark."""
    bench = sub.add_parser("bench", help="measure and print figures (see --json)")
    benches = bench.add_subparsers(dest="bench", required=True)
    orchestration = benches.add_parser(
        "orchestration", help="workflow wall time and overhead with negligible activities"
    )
    orchestration.add_argument("--analyses", type=int, default=50)
    orchestration.add_argument("--concurrency", type=int, default=1)
    orchestration.add_argument(
        "--real-video-s",
        type=float,
        default=30.0,
        help="also run one real analysis of a video this long (0: skip)",
    )
    vision = benches.add_parser(
        "vision", help="skeleton vs a bare MediaPipe loop, holds F1, ghost IK, result size"
    )
    vision.add_argument("video", nargs="?", type=Path, help="default: a generated 30 s clip")
    vision.add_argument("photo", nargs="?", type=Path, help="a wall photo to detect holds on")
    vision.add_argument("--walls", type=int, default=20, help="synthetic walls for the F1")
    vision.add_argument(
        "--clip-seconds", type=float, default=30.0, help="length of the generated clip"
    )
    api_bench = benches.add_parser(
        "api", help="API latency/throughput on real servers vs its bare /healthz; WebSocket latency"
    )
    api_bench.add_argument(
        "--clients",
        type=_client_counts,
        default=[50, 200],
        help="concurrent clients, comma-separated (default 50,200)",
    )
    api_bench.add_argument("--requests", type=int, default=1000, help="measured per row")
    api_bench.add_argument(
        "--load-processes", type=int, default=1, help="processes generating the load"
    )
    api_bench.add_argument("--ws-samples", type=int, default=50, help="0: skip the WebSocket")
    events_bench = benches.add_parser(
        "events", help="event publish rate with confirms vs raw pika, consumer latency"
    )
    events_bench.add_argument("--events", type=int, default=2000, help="events per measurement")
    holds_bench = benches.add_parser(
        "holds", help="hold detection on real photos: learned vs classical, F1, seconds, size"
    )
    holds_bench.add_argument(
        "--data",
        type=Path,
        default=None,
        help="YOLO export (train/ and valid/): score its fixed evaluation split; "
        "default: the dozen real photos committed with the tests",
    )
    holds_bench.add_argument(
        "--no-sandbox",
        action="store_true",
        help="skip the hold map's workflow-sandbox figures (they start a Temporal dev server)",
    )
    training_bench = benches.add_parser(
        "training", help="training-program generation latency over random profiles"
    )
    training_bench.add_argument("--profiles", type=int, default=1000, help="random profiles")
    training_bench.add_argument("--seed", type=int, default=0, help="the same seed, the same set")
    _add_load_parser(benches)
    for each in (orchestration, vision, api_bench, events_bench, holds_bench, training_bench):
        each.add_argument("--json", action="store_true", help="last line: one JSON object")
    from ascension.bench.all import add_all_parser

    add_all_parser(benches)


def _add_load_parser(benches: Any) -> None:
    load = benches.add_parser(
        "load",
        help="real analyses over the API: a 30 s climb's time to result vs the bare MediaPipe "
        "loop, N at once on GPU-worker processes, the API at 200 clients",
    )
    load.add_argument("--analyses", type=int, default=50, help="short analyses started at once")
    load.add_argument("--gpu-workers", type=int, default=2, help="GPU-worker processes")
    load.add_argument("--clients", type=int, default=200, help="concurrent API clients")
    load.add_argument("--requests", type=int, default=1000, help="API requests per row")
    load.add_argument("--load-processes", type=int, default=2, help="API load processes")
    load.add_argument("--climb-s", type=float, default=30.0, help="the timed climb (0: skip)")
    load.add_argument("--short-s", type=float, default=3.0, help="each short analysis's clip")
    load.add_argument("--json", action="store_true", help="last line: one JSON object")


def _client_counts(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("positive integers separated by commas, e.g. 50,200")
    return values


def cmd_bench(args: argparse.Namespace) -> int:
    """Run one benchmark; print its table and, with --json, one JSON object last."""
    if args.bench == "all":
        from ascension.bench.all import cmd_bench_all

        return cmd_bench_all(args)
    settings = get_settings()
    if args.bench == "orchestration":
        from ascension.bench.orchestration import bench_orchestration

        report = asyncio.run(
            bench_orchestration(
                settings,
                analyses=args.analyses,
                concurrency=args.concurrency,
                real_seconds=args.real_video_s,
            )
        )
    elif args.bench == "events":
        from ascension.bench.events import bench_events

        report = bench_events(settings, events=args.events)
    elif args.bench == "vision":
        from ascension.bench.vision import bench_vision

        report = bench_vision(
            args.video, args.photo, walls=args.walls, clip_seconds=args.clip_seconds
        )
    elif args.bench == "holds":
        from ascension.bench.holds import bench_holds

        report = bench_holds(args.data, None if args.no_sandbox else settings)
    elif args.bench == "api":
        from ascension.bench.api import bench_api

        report = asyncio.run(
            bench_api(
                settings,
                clients=args.clients,
                requests=args.requests,
                load_processes=args.load_processes,
                ws_samples=args.ws_samples,
            )
        )
    elif args.bench == "load":
        from ascension.bench.load import bench_load

        report = asyncio.run(
            bench_load(
                settings,
                analyses=args.analyses,
                gpu_workers=args.gpu_workers,
                clients=args.clients,
                requests=args.requests,
                load_processes=args.load_processes,
                climb_s=args.climb_s,
                short_s=args.short_s,
            )
        )
    elif args.bench == "training":
        from ascension.bench.training import bench_training

        report = bench_training(profiles=args.profiles, seed=args.seed)
    else:  # pragma: no cover - argparse restricts the choices
        raise SystemExit(f"unknown bench {args.bench}")
    report.print(as_json=args.json, console=console)
    return 0
