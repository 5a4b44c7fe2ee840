"""`ascension analyze VIDEO --photo PHOTO`: the production pipeline on your own footage.

The same workflow, activities and engines as the API, on the embedded stack (`ascension demo`'s),
with the climber's part played here: the detected holds are accepted as they are. Writes the
result document, an overlay video and a contact sheet, and prints what a coach would check first.
"""

from __future__ import annotations

import gzip
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from temporalio.client import WorkflowFailureError

from ascension.demo import follow_analysis, on_embedded_stack, prepare_analysis
from core.settings import Settings
from engines.document.decode import DecodedResult, decode_result_document
from schema.analysis import AnalysisResult, Morphology, Status, Tier


@dataclass
class AnalyzeRequest:
    video: Path
    photo: Path
    out: Path
    morphology: Morphology
    tier: Tier = Tier.INFINITY
    overlay: bool = True


async def run_analyze(settings: Settings, request: AnalyzeRequest, console: Console) -> int:
    """Analyse ``request.video`` against ``request.photo``; 0 when the analysis completed."""
    for path in (request.video, request.photo):
        if not path.is_file():
            console.print(f"[red]{path} is not a file[/]")
            return 2
    request.out.mkdir(parents=True, exist_ok=True)

    async def work(client: Any, engine: Any, store: Any) -> tuple[AnalysisResult, bytes | None]:
        params = await prepare_analysis(
            settings,
            engine,
            store,
            photo=request.photo.read_bytes(),
            video=request.video,
            morphology=request.morphology,
            tier=request.tier,
            route_name=request.photo.stem,
        )
        result = await follow_analysis(client, params, console)
        if result.status != Status.COMPLETED or not result.result_key:
            return result, None
        return result, await store.get_bytes(settings.bucket, result.result_key)

    started = time.perf_counter()
    try:
        result, document_gz = await on_embedded_stack(settings, console, work)
    except WorkflowFailureError as failure:
        console.print(f"[red]analysis failed[/]: {_reason(failure)}")
        return 1
    elapsed = time.perf_counter() - started
    if document_gz is None:
        console.print(f"[red]analysis {result.status.value}[/]")
        return 1
    (request.out / "result.json.gz").write_bytes(document_gz)
    decoded = decode_result_document(json.loads(gzip.decompress(document_gz)))
    _print_summary(decoded, len(document_gz), elapsed, console)
    write_pictures(request.video, decoded, request.out, console, overlay=request.overlay)
    return 0


def write_pictures(
    video: Path, decoded: DecodedResult, out: Path, console: Console, *, overlay: bool = True
) -> None:
    """The contact sheet and (unless ``overlay`` is False) the overlay video in ``out``."""
    from ascension.render import contact_sheet, render_overlay_video

    times = contact_sheet(video, decoded, out / "contact_sheet.png")
    console.print(
        f"contact sheet: {out / 'contact_sheet.png'} ({len(times)} frames, "
        f"{times[0]:.1f}-{times[-1]:.1f} s)"
    )
    if not overlay:
        return
    with Progress(
        TextColumn("overlay video"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("overlay", total=decoded.video.frame_count or None)
        frames = render_overlay_video(
            video,
            decoded,
            out / "overlay.mp4",
            on_progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    console.print(f"overlay video: {out / 'overlay.mp4'} ({frames} frames)")


def _reason(failure: BaseException) -> str:
    """The innermost cause's message: what the climber would be told."""
    while failure.__cause__ is not None:
        failure = failure.__cause__
    return str(failure)


def _print_summary(decoded: DecodedResult, size: int, elapsed: float, console: Console) -> None:
    climb = decoded.extra.get("climb") or {}
    table = Table(title="Analysis")
    table.add_column("item")
    table.add_column("value")
    table.add_row("wall time", f"{elapsed:.1f} s")
    video = decoded.video
    table.add_row(
        "video", f"{video.duration_s:.1f} s, {video.frame_width}x{video.frame_height}, "
        f"pose in {video.pose_coverage:.0%} of frames"
    )  # fmt: skip
    if climb:
        finish = str(climb.get("finish", climb["end"])).replace("_", " ")
        table.add_row(
            "climb",
            f"{climb['start_s']:.1f}-{climb['end_s']:.1f} s (starts: "
            f"{climb['start'].replace('_', ' ')}, finish: {finish}, "
            f"highest hold: {climb.get('top_hold') or '-'})",
        )
    table.add_row("holds", str(len(decoded.hold_map.holds)))
    table.add_row("moves", str(len(decoded.moves)))
    for key, value in decoded.metrics.__dict__.items():
        table.add_row(key, "-" if value is None else f"{value:.3g}")
    table.add_row("advice items", str(len(decoded.advice)))
    if decoded.ghost is not None:
        verdict = (decoded.ghost_verdict or {}).get("message")
        table.add_row(
            "ghost", f"{len(decoded.ghost_moves)} moves" + (f": {verdict}" if verdict else "")
        )
    else:
        table.add_row("ghost", f"skipped: {decoded.ghost_skipped_reason or 'not on this tier'}")
    table.add_row("result document", f"{size / 1024:.1f} KB gzip")
    console.print(table)
    for move in decoded.moves:
        console.print(
            f"  move {move['index'] + 1}: {move['limb']} {move.get('from_hold')} -> "
            f"{move['to_hold']}  {move['start_s']:.2f}-{move['end_s']:.2f} s"
        )
    for item in decoded.advice:
        console.print(f"  • [{item.get('severity')}] {item.get('message_en')}")
