"""`ascension bench load`: real analyses through the API, one at a time and many at once.

On throwaway PostgreSQL, MinIO and a Temporal dev server (`bench.api.stack.real_stack`), the API
runs in its own process, the CPU worker in another and ``--gpu-workers`` GPU workers (default 2)
in one process each (`bench.flow.workers`). Climbers upload through presigned URLs, start and
poll the API as the app does, on validated routes (no detection, no wait for the climber).

1. **Time to result** of one ``--climb-s`` clip (default 30 s; the stand-in the demo and
   `bench orchestration` film, `ascension.media.write_clip`): from the start request to the
   result in the app, and the workflow's orchestration overhead from its history
   (`history_timing`). Same-run baseline: the bare single-process MediaPipe loop over the same
   file (`engines.pose.bare_loop`), the floor of a naive pipeline that does nothing else.
2. **Load**: ``--analyses`` short clips (default 50, ``--short-s`` each) started at once:
   throughput, p50/p95 time to result, and that every one completed (nothing lost: each
   completed in the app, its row completed, its result document stored).
3. **API under load**: ``--clients`` (default 200) closed-loop clients spread over
   ``--load-processes`` spawned processes (`bench.api.load`) reading the completed analyses,
   against the bare ``/healthz`` at the same concurrency.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from ascension.bench.api.climbers import Climber as ApiClimber
from ascension.bench.api.climbers import calls_for
from ascension.bench.api.load import LoadGenerator
from ascension.bench.api.measure import Measured
from ascension.bench.api.stack import api_server, real_stack
from ascension.bench.flow import (
    LOAD_POLL_S,
    Climb,
    follow,
    register_climbers,
    start,
    upload,
    workers,
)
from ascension.bench.history_timing import HistoryTiming, fetch_timing
from ascension.bench.load_report import load_report
from ascension.bench.report import BenchReport
from core.settings import Settings
from schema import names


def _clip(folder: Path, seconds: float, name: str) -> Path:
    from ascension.media import write_clip

    return write_clip(
        folder / name, image="basketball1.png", seconds=seconds, size=(720, 1280), motion="pan"
    )


async def _stored(stack, climbs: list[Climb]) -> int:
    """How many of ``climbs`` have their result document in the store."""
    found = 0
    for climb in climbs:
        key = names.result_key(climb.analysis_id, "result")
        if await stack.store.size(stack.settings.bucket, key):
            found += 1
    return found


async def _history(stack, climb: Climb) -> HistoryTiming:
    from temporalio.client import Client

    client = await Client.connect(
        stack.settings.temporal_address or "", namespace=stack.settings.temporal_namespace
    )
    handle = client.get_workflow_handle(names.analysis_workflow_id(climb.analysis_id))
    return await fetch_timing(handle)


async def bench_load(
    settings: Settings,
    *,
    analyses: int = 50,
    gpu_workers: int = 2,
    clients: int = 200,
    requests: int = 1000,
    load_processes: int = 2,
    climb_s: float = 30.0,
    short_s: float = 3.0,
    timeout_s: float = 900.0,
) -> BenchReport:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    folder = Path(tempfile.mkdtemp(prefix="ascension-bench-load-"))
    folder.chmod(0o755)  # PostgreSQL runs as `postgres` and must reach its folder
    single: Climb | None = None
    single_history: HistoryTiming | None = None
    bare_s = bare_frames = 0.0
    try:
        short_video = _clip(folder, short_s, "short.mp4").read_bytes()
        long_path = _clip(folder, climb_s, "climb.mp4") if climb_s > 0 else None
        async with (
            real_stack(settings, folder, broker=False) as stack,
            api_server(stack.settings, folder) as (base_url, pid),
            workers(stack, folder, gpu_workers=gpu_workers),
            httpx.AsyncClient(base_url=base_url, timeout=120) as api,
        ):
            climbs = await register_climbers(stack, api, analyses + (1 if long_path else 0))
            if long_path is not None:
                single = climbs.pop()
                await upload(api, single, long_path.read_bytes())
                await start(api, single)
                await follow(api, single, timeout_s)
                single_history = await _history(stack, single)
                bare_s, bare_frames = await asyncio.to_thread(_bare_loop, long_path)
            await asyncio.gather(*(upload(api, c, short_video) for c in climbs))
            began = time.perf_counter()
            await asyncio.gather(*(_one(api, c, timeout_s) for c in climbs))
            ended = max((c.result_at for c in climbs), default=began)
            completed = [c for c in climbs if c.status == "completed"]
            stored = await _stored(stack, completed)
            rows = await _completed_rows(stack, climbs)
            histories = [await _history(stack, c) for c in completed]
            readers = [
                ApiClimber(c.user_id, c.token, c.video_id, c.route_id, c.analysis_id)
                for c in completed
            ] or None
            api_rows: list[tuple[str, Measured]] = []
            if readers:
                with LoadGenerator(base_url, load_processes) as load:
                    for operation in ("healthz", "get_result"):
                        measured = await load.run(
                            calls_for(operation, readers, min(requests, 200)),
                            calls_for(operation, readers, requests),
                            clients,
                            pid,
                        )
                        api_rows.append((operation, measured))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return load_report(
        climbs=climbs,
        span_s=ended - began,
        stored=stored,
        rows=rows,
        histories=histories,
        single=single,
        single_history=single_history,
        bare=(bare_s, bare_frames),
        climb_s=climb_s,
        short_s=short_s,
        gpu_workers=gpu_workers,
        api_rows=api_rows,
        clients=clients,
        load_processes=load_processes,
    )


async def _one(api: httpx.AsyncClient, climb: Climb, timeout_s: float) -> None:
    try:
        await start(api, climb)
    except (RuntimeError, httpx.HTTPError) as exc:
        climb.status, climb.failure = "not started", str(exc)[:300]
        return
    await follow(api, climb, timeout_s, LOAD_POLL_S)


def _bare_loop(path: Path) -> tuple[float, float]:
    from engines.pose import bare_loop

    begin = time.perf_counter()
    timeline = bare_loop(path)
    return time.perf_counter() - begin, float(len(timeline))


async def _completed_rows(stack, climbs: list[Climb]) -> int:
    from sqlmodel import func, select

    from core.db import session_scope
    from schema.analysis import Status
    from schema.models import Analysis

    ids = [uuid.UUID(c.analysis_id) for c in climbs if c.analysis_id]
    async with session_scope(stack.engine) as session:
        query = (
            select(func.count())
            .select_from(Analysis)
            .where(Analysis.id.in_(ids))  # type: ignore[attr-defined]
            .where(Analysis.status == Status.COMPLETED)
        )
        return int((await session.exec(query)).one())
