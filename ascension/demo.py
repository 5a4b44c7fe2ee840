"""`ascension demo` (`make demo`): one full analysis on the embedded default stack.

Nothing to install by hand: the Temporal dev server (SQLite file, Web UI), a SQLite app database
and a local-folder object store under ``data_dir``, with both workers in this process. The
climber's side is played by this script: it uploads a wall photo and a video, starts the
analysis, accepts the detected holds through the `validate_holds` Update, follows progress and
prints the result.

The media are honest stand-ins, built offline: a synthetic wall photo with ground-truth holds,
and a clip made from a real photograph of a person (Debian's opencv-doc) filmed by a moving
camera. Every engine runs for real on them; no climbing footage ships with the project.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import cv2
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.progress import read_progress
from ascension.media import write_clip
from ascension.servers.temporal import start_dev_server
from core.analyses import analysis_input, start_or_attach, submit_hold_map
from core.db import session_scope
from core.settings import Settings
from core.storage import ObjectStore
from core.temporal_client import connect_temporal
from schema import names
from schema.analysis import (
    AnalysisResult,
    Morphology,
    StartAnalysisInput,
    Status,
    Tier,
)
from schema.models import Analysis, Route, User, Video
from worker_cpu.worker import build_cpu_worker, open_cpu_resources
from worker_gpu.worker import build_gpu_worker

T = TypeVar("T")


async def run_demo(settings: Settings, console: Console) -> AnalysisResult:
    console.print(f"[bold]Ascension demo[/] — embedded stack under {settings.data_dir}")
    return await on_embedded_stack(
        settings,
        console,
        lambda client, engine, store: _analyse_one(settings, client, engine, store, console),
    )


async def on_embedded_stack(
    settings: Settings,
    console: Console,
    work: Callable[[Any, Any, ObjectStore], Awaitable[T]],
) -> T:
    """Run ``work(client, engine, store)`` with the embedded stack up: the Temporal dev server
    (SQLite file, Web UI), the app database, the object store and both workers in-process."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    env = await start_dev_server(
        settings,
        port=settings.temporal_dev_port,
        ui=True,
        ui_port=settings.temporal_ui_port,
        db_file=settings.data_dir / "temporal.db",
    )
    console.print(f"Temporal Web UI: http://127.0.0.1:{settings.temporal_ui_port}")
    try:
        async with open_cpu_resources(settings, create_tables=True) as resources:
            store = resources.store
            client = await connect_temporal(
                settings, store, target=env.client.service_client.config.target_host
            )
            async with (
                build_cpu_worker(client, resources, task_queue=settings.cpu_task_queue),
                build_gpu_worker(client, store, settings, task_queue=settings.gpu_task_queue),
            ):
                return await work(client, resources.engine, store)
    finally:
        await env.shutdown()


async def prepare_demo_analysis(
    settings: Settings, engine: Any, store: ObjectStore, *, seconds: float = 12.0
) -> StartAnalysisInput:
    """Rows (infinity user, video, route, analysis), the synthetic wall photo and the stand-in
    video, uploaded."""
    from engines.holds.synth import generate_wall

    wall = generate_wall(seed=7)
    ok, photo = cv2.imencode(".jpg", wall.image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    with tempfile.TemporaryDirectory() as folder:
        clip = write_clip(
            Path(folder) / "climb.mp4",
            image="basketball1.png",
            seconds=seconds,
            size=(720, 1280),
            motion="pan",
        )
        return await prepare_analysis(
            settings,
            engine,
            store,
            photo=photo.tobytes(),
            video=clip,
            morphology=Morphology(height_cm=178, arm_span_cm=182),
            route_name="demo wall",
        )


async def prepare_analysis(
    settings: Settings,
    engine: Any,
    store: ObjectStore,
    *,
    photo: bytes,
    video: Path,
    morphology: Morphology,
    tier: Tier = Tier.INFINITY,
    route_name: str = "my wall",
) -> StartAnalysisInput:
    """Rows (a local user of ``tier``, video, route, analysis) for one analysis, and the photo
    and video uploaded where the API would have put them."""
    user = User(email=f"local-{uuid.uuid4().hex[:6]}@ascension.local", password_hash="-")
    user.subscription_tier = tier
    row = Video(user_id=user.id, storage_url="")
    row.storage_url = names.upload_key(str(user.id), str(row.id))
    route = Route(user_id=user.id, name=route_name)
    route.photo_key = names.route_photo_key(str(user.id), str(route.id))
    # The ghost whenever the plan has it, as the demo always showed it.
    analysis = Analysis(
        video_id=row.id, user_id=user.id, route_id=route.id, ghost_requested=tier.includes_ghost
    )
    async with session_scope(engine) as session:
        session.add(user)
        await session.flush()
        session.add_all([row, route])
        await session.flush()
        session.add(analysis)
        await session.commit()

    await store.ensure_bucket(settings.bucket)
    await store.put_bytes(settings.bucket, route.photo_key, photo)
    await store.upload_file(settings.bucket, row.storage_url, video, content_type="video/mp4")
    return analysis_input(
        analysis, user, route, settings, video_key=row.storage_url, morphology=morphology
    )


async def _analyse_one(settings, client, engine, store, console) -> AnalysisResult:
    with console.status("Preparing the wall photo and the video..."):
        params = await prepare_demo_analysis(settings, engine, store)
    started = time.perf_counter()
    result = await follow_analysis(client, params, console)
    elapsed = time.perf_counter() - started
    await _print_result(settings, store, result, elapsed, console)
    return result


async def follow_analysis(
    client: Any, params: StartAnalysisInput, console: Console
) -> AnalysisResult:
    """Start the analysis workflow, show its progress, accept the detected holds as the
    climber would (Update ``validate_holds``) and return its result."""
    handle = await start_or_attach(client, params)
    console.print(f"Started workflow [cyan]{handle.id}[/] (find it in the Web UI)")

    validated = False
    columns = (
        TextColumn("{task.description:<28}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("starting", total=100)
        result_future = asyncio.ensure_future(handle.result())
        while not result_future.done():
            with contextlib.suppress(Exception):
                progress = await read_progress(handle, client.data_converter)
                label = progress.stage.value.replace("_", " ")
                if progress.step_total:
                    label += f" {progress.step_done}/{progress.step_total}"
                bar.update(task, completed=progress.percent, description=label)
                if progress.holds_awaiting_validation is not None and not validated:
                    held = progress.holds_awaiting_validation
                    console.print(
                        f"{len(held.holds)} holds detected; the climber accepts them "
                        "(Update validate_holds)"
                    )
                    await submit_hold_map(handle, held)
                    validated = True
            await asyncio.wait({result_future}, timeout=0.5)
        bar.update(task, completed=100, description="done")
    return result_future.result()


async def _print_result(settings, store, result, elapsed: float, console) -> None:
    table = Table(title="Analysis")
    table.add_column("item")
    table.add_column("value")
    table.add_row("status", result.status.value)
    table.add_row("wall time", f"{elapsed:.1f} s")
    table.add_row("holds", str(result.hold_count))
    if result.status == Status.COMPLETED and result.result_key:
        data = await store.get_bytes(settings.bucket, result.result_key)
        document = json.loads(gzip.decompress(data))
        metrics = document.get("metrics", {})
        for key in ("max_reach_cm", "avg_tension", "movement_efficiency", "hold_count"):
            value = metrics.get(key)
            table.add_row(key, "-" if value is None else f"{value:.3g}")
        table.add_row("moves", str(len(document.get("moves", []))))
        table.add_row("advice items", str(len(document.get("advice", []))))
        ghost = "skipped: " + result.ghost_skipped_reason if result.ghost_skipped_reason else "yes"
        table.add_row("ghost", ghost if result.ghost_key or result.ghost_skipped_reason else "no")
        table.add_row("result document", f"{result.result_key} ({len(data) / 1024:.1f} KB gzip)")
        for item in document.get("advice", [])[:5]:
            console.print(f"  • [{item.get('severity')}] {item.get('message_en')}")
    console.print(table)
    console.print(f"Objects: {settings.local_store_dir / settings.bucket}")
