"""`ascension bench orchestration`: what Temporal orchestration costs an analysis.

On a fresh in-memory dev server, N analyses of a known route (its validated hold map is reused,
so the pipeline is skeleton → advice → ghost → persist → events → cleanup) run with activities
that do negligible work. Per analysis: wall time from start to result at the client, the time
spent inside activities (from history: started → completed), and the orchestration overhead
(wall - activity time), also read from the history alone (execution started → closed, minus the
activities' started → completed: `history_timing`), with the workflow tasks it took. The
same-run baseline is a bare workflow that runs the same number of
no-op activities one after another: the floor any Temporal workflow pays on this machine.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client
from temporalio.worker import Worker

from ascension.bench import negligible
from ascension.bench.history_timing import HistoryTiming, fetch_timing
from ascension.bench.report import BenchReport, ms, summary
from ascension.fakes import FakePipeline
from ascension.servers.temporal import start_dev_server
from core.analyses import analysis_input, start_or_attach
from core.settings import Settings
from schema import names
from schema.analysis import StartAnalysisInput, Tier
from schema.holds import Hold, HoldMap
from schema.models import Analysis, Route, User
from workflows.video_analysis import VideoAnalysisWorkflow

GOAL_P50_MS = 150.0
GOAL_OVERHEAD_PCT_OF_REAL = 3.0
#: Issue 18 item 6: orchestration overhead per analysis, from the history's timestamps.
GOAL_OVERHEAD_MS = 300.0


@dataclass
class RunTiming:
    wall_s: float
    activity_s: float
    #: Activities run, regular and local.
    activities: int
    #: The same run as its history tells it.
    history: HistoryTiming

    @property
    def overhead_s(self) -> float:
        return max(0.0, self.wall_s - self.activity_s)


def _timing(wall: float, history: HistoryTiming) -> RunTiming:
    ran = history.activities + history.local_activities
    return RunTiming(wall, history.activity_s, ran, history)


def _analysis(settings: Settings) -> StartAnalysisInput:
    """A premium climber's analysis of a known route, built as the API builds it."""
    user = User(email="bench@ascension.local", password_hash="-", subscription_tier=Tier.PREMIUM)
    hold_map = HoldMap(1920, 1080, [Hold("h1", 0.5, 0.5, "jug")])
    route = Route(user_id=user.id, hold_map=dataclasses.asdict(hold_map))
    video_id = uuid.uuid4()
    analysis = Analysis(video_id=video_id, user_id=user.id, route_id=route.id, ghost_requested=True)
    video_key = names.upload_key(str(user.id), str(video_id))
    return analysis_input(analysis, user, route, settings, video_key=video_key)


async def _timed_analysis(client: Client, settings: Settings) -> RunTiming:
    params = _analysis(settings)
    begin = time.perf_counter()
    handle = await start_or_attach(client, params)
    result = await handle.result()
    wall = time.perf_counter() - begin
    assert result.status.value == "completed", result
    return _timing(wall, await fetch_timing(handle))


async def _timed_baseline(client: Client, queue: str, count: int) -> RunTiming:
    begin = time.perf_counter()
    handle = await client.start_workflow(
        negligible.SequentialActivitiesWorkflow.run,
        count,
        id=f"bench-baseline-{uuid.uuid4().hex}",
        task_queue=f"{queue}-cpu",
    )
    await handle.result()
    wall = time.perf_counter() - begin
    return _timing(wall, await fetch_timing(handle))


async def _run_many(make, count: int, concurrency: int) -> list[RunTiming]:
    gate = asyncio.Semaphore(concurrency)

    async def one() -> RunTiming:
        async with gate:
            return await make()

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def _timed_real_analysis(env_client: Client, settings: Settings, seconds: float) -> RunTiming:
    """One analysis of a known route with the production workers and engines on an embedded
    store and database (a temporary folder), on the same server as the negligible runs."""
    import tempfile

    from ascension.demo import prepare_demo_analysis
    from core.temporal_client import connect_temporal
    from engines.holds import decode_photo, detect_holds
    from worker_cpu.worker import build_cpu_worker, open_cpu_resources
    from worker_gpu.worker import build_gpu_worker

    with tempfile.TemporaryDirectory(prefix="ascension-bench-") as folder:
        local = settings.model_copy(
            update={
                "data_dir": Path(folder),
                "database_url": None,
                "object_store": "local",
                "amqp_url": None,
                "cpu_task_queue": f"real-{uuid.uuid4().hex[:6]}-cpu",
                "gpu_task_queue": f"real-{uuid.uuid4().hex[:6]}-gpu",
            }
        )
        async with open_cpu_resources(local, create_tables=True) as resources:
            target = env_client.service_client.config.target_host
            client = await connect_temporal(local, resources.store, target=target)
            params = await prepare_demo_analysis(
                local, resources.engine, resources.store, seconds=seconds
            )
            # A known route: its validated map is the detector's output on the wall photo.
            assert params.route_photo_key is not None
            photo = await resources.store.get_bytes(local.bucket, params.route_photo_key)
            params.route_hold_map = detect_holds(decode_photo(photo)).hold_map
            async with (
                build_cpu_worker(client, resources, task_queue=local.cpu_task_queue),
                build_gpu_worker(client, resources.store, local, task_queue=local.gpu_task_queue),
            ):
                begin = time.perf_counter()
                handle = await start_or_attach(client, params)
                await handle.result()
                wall = time.perf_counter() - begin
            return _timing(wall, await fetch_timing(handle))


async def bench_orchestration(
    settings: Settings, *, analyses: int, concurrency: int, warmup: int = 3, real_seconds: float = 0
) -> BenchReport:
    env = await start_dev_server(settings)
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    bench = settings.model_copy(
        update={
            "bucket": "bench",
            "cpu_task_queue": f"{queue}-cpu",
            "gpu_task_queue": f"{queue}-gpu",
        }
    )
    fake = FakePipeline(heartbeats=False)  # negligible work; no store, so nothing written
    try:
        client = env.client
        async with (
            Worker(
                client,
                task_queue=bench.cpu_task_queue,
                workflows=[VideoAnalysisWorkflow, negligible.SequentialActivitiesWorkflow],
                activities=[*fake.cpu_activities(), negligible.noop],
            ),
            Worker(client, task_queue=bench.gpu_task_queue, activities=fake.gpu_activities()),
        ):
            for _ in range(warmup):  # first runs pay for worker and sandbox start-up
                await _timed_analysis(client, bench)
            probe = await _timed_analysis(client, bench)
            steps, regular = probe.activities, probe.history.activities
            runs = await _run_many(lambda: _timed_analysis(client, bench), analyses, concurrency)
            base = await _run_many(
                lambda: _timed_baseline(client, queue, steps), analyses, concurrency
            )
            # The floor of any workflow with as many regular activities as the analysis keeps
            # (its GPU steps): what no bookkeeping change can go below.
            floor = await _run_many(
                lambda: _timed_baseline(client, queue, regular), analyses, concurrency
            )
        real = await _timed_real_analysis(client, settings, real_seconds) if real_seconds else None
    finally:
        await env.shutdown()
    report = _report(runs, base, steps, concurrency, real, real_seconds)
    _floor_row(report, runs, floor, regular)
    return report


def _floor_row(
    report: BenchReport, runs: list[RunTiming], floor: list[RunTiming], regular: int
) -> None:
    ours = summary([r.history.overhead_s for r in runs])
    bare = summary([f.history.overhead_s for f in floor])
    report.rows.append(
        [
            f"overhead from history vs a bare workflow of {regular} no-op activities",
            ms(ours["p50"]),
            ms(ours["p95"]),
            ms(ours["p99"]),
            ms(bare["p50"]),
            f"{ours['p50'] / max(bare['p50'], 1e-9):.2f}",
        ]
    )
    report.baselines["bare_workflow_same_regular_activities_history_overhead_ms"] = _in_ms(bare)
    report.ratios["history_overhead_p50_vs_same_regular_activities"] = ours["p50"] / max(
        bare["p50"], 1e-9
    )


def _report(
    runs: list[RunTiming],
    base: list[RunTiming],
    steps: int,
    concurrency: int,
    real: RunTiming | None = None,
    real_seconds: float = 0,
) -> BenchReport:
    wall = summary([r.wall_s for r in runs])
    overhead = summary([r.overhead_s for r in runs])
    base_wall = summary([b.wall_s for b in base])
    base_overhead = summary([b.overhead_s for b in base])
    report = BenchReport(
        name="orchestration",
        title=(
            f"Orchestration: {len(runs)} analyses ({steps} activities each, negligible work), "
            f"concurrency {concurrency}"
        ),
        columns=["figure", "p50 ms", "p95 ms", "p99 ms", "baseline p50 ms", "ratio p50"],
    )
    for label, ours, floor in (
        ("workflow wall time", wall, base_wall),
        ("orchestration overhead", overhead, base_overhead),
    ):
        report.rows.append(
            [
                label,
                ms(ours["p50"]),
                ms(ours["p95"]),
                ms(ours["p99"]),
                ms(floor["p50"]),
                f"{ours['p50'] / floor['p50']:.2f}",
            ]
        )
    history_overhead = summary([r.history.overhead_s for r in runs])
    base_history_overhead = summary([b.history.overhead_s for b in base])
    report.rows.append(
        [
            "overhead from history (started→closed - activities)",
            ms(history_overhead["p50"]),
            ms(history_overhead["p95"]),
            ms(history_overhead["p99"]),
            ms(base_history_overhead["p50"]),
            f"{history_overhead['p50'] / max(base_history_overhead['p50'], 1e-9):.2f}",
        ]
    )
    queued = summary([r.history.queued_s for r in runs])
    task_work = summary([r.history.task_s for r in runs])
    trips = summary([r.history.round_trips_s for r in runs])
    report.rows.append(
        [
            "  of it: dispatch / workflow tasks (local activities inside) / round trips",
            f"{ms(queued['p50'])} / {ms(task_work['p50'])} / {ms(trips['p50'])}",
            "",
            "",
            "",
            "",
        ]
    )
    tasks = sorted(r.history.workflow_tasks for r in runs)[len(runs) // 2]
    local = sorted(r.history.local_activities for r in runs)[len(runs) // 2]
    report.rows.append(
        ["workflow tasks / local activities per analysis (p50)", str(tasks), str(local), "", "", ""]
    )
    per_step = wall["p50"] / steps
    report.rows.append(["per activity step (p50)", ms(per_step), "", "", "", ""])
    report.figures = {
        "analyses": len(runs),
        "concurrency": concurrency,
        "activities_per_analysis": steps,
        "wall_ms": {k: v * 1000 if k != "n" else v for k, v in wall.items()},
        "overhead_ms": {k: v * 1000 if k != "n" else v for k, v in overhead.items()},
        "history_overhead_ms": _in_ms(history_overhead),
        "history_dispatch_ms": _in_ms(queued),
        "history_workflow_task_ms": _in_ms(task_work),
        "history_round_trips_ms": _in_ms(trips),
        "workflow_tasks_per_analysis": tasks,
        "local_activities_per_analysis": local,
    }
    report.baselines = {
        "sequential_noop_workflow_wall_ms": {
            k: v * 1000 if k != "n" else v for k, v in base_wall.items()
        },
        "sequential_noop_workflow_history_overhead_ms": _in_ms(base_history_overhead),
    }
    report.ratios = {
        "wall_p50_vs_baseline": wall["p50"] / base_wall["p50"],
        "wall_p95_vs_baseline": wall["p95"] / base_wall["p95"],
    }
    report.goals = {
        "wall_p50_ms": GOAL_P50_MS,
        "wall_p50_met": wall["p50"] * 1000 <= GOAL_P50_MS,
        "overhead_pct_of_real_analysis": GOAL_OVERHEAD_PCT_OF_REAL,
        "history_overhead_p50_ms": GOAL_OVERHEAD_MS,
        "history_overhead_p50_met": history_overhead["p50"] * 1000 <= GOAL_OVERHEAD_MS,
    }
    if real is not None:
        share = 100 * real.overhead_s / real.wall_s
        report.rows.append(
            [
                f"real analysis, {real_seconds:g} s video: wall / overhead",
                ms(real.wall_s),
                ms(real.overhead_s),
                f"{share:.2f} %",
                "",
                "",
            ]
        )
        report.figures["real_analysis"] = {
            "video_s": real_seconds,
            "wall_ms": real.wall_s * 1000,
            "activity_ms": real.activity_s * 1000,
            "overhead_ms": real.overhead_s * 1000,
            "overhead_pct": share,
            "history_overhead_ms": real.history.overhead_s * 1000,
            "workflow_tasks": real.history.workflow_tasks,
            "local_activities": real.history.local_activities,
        }
        report.ratios["real_overhead_pct_of_total"] = share
        report.goals["overhead_pct_met"] = share <= GOAL_OVERHEAD_PCT_OF_REAL
    report.notes.append(
        "overhead from history: local activities leave only a marker, so their own time counts "
        "as overhead (exact for these negligible ones, an upper bound for a real analysis)"
    )
    report.notes.append(
        "baseline: a bare workflow running the same number of no-op activities in sequence "
        "on the same server and workers, in this run"
    )
    return report


def _in_ms(figures: dict[str, float]) -> dict[str, float]:
    return {k: v * 1000 if k != "n" else v for k, v in figures.items()}
