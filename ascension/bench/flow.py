"""Real analyses over the API for `ascension bench load`: the production workers as processes of
their own, and a climber's whole flow (upload through the presigned URL, start, follow until the
result) as the phone runs it.

The workers are started exactly as `ascension stack` starts them (``python -m ascension.cli
worker cpu|gpu`` with ``ASCENSION_*`` variables), so what is measured is the deployed code: the
workflow on the CPU worker, the engines on each GPU worker, over the same PostgreSQL, MinIO and
Temporal dev server as the API in its own process.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from ascension.bench.api.stack import Stack, _server_env
from core.db import session_scope
from schema.analysis import Tier
from schema.holds import HoldMap
from schema.models import Route, User

PASSWORD = "bench password 123"
#: How often the timed climber's app asks for its analysis (the result is seen within this).
POLL_S = 0.2
#: How often each of the many climbers asks under load: an app that polled every 0.2 s fifty
#: times over would load the API and the status Query more than the analyses do.
LOAD_POLL_S = 1.0
#: The GPU worker imports torch and starts its pose processes before it polls.
WORKER_START_S = 240.0
V1 = "/api/v1"


@dataclass
class Climb:
    """One climber's analysis: its ids and when each step of the flow happened (perf_counter)."""

    token: str
    user_id: str
    route_id: str = ""
    video_id: str = ""
    analysis_id: str = ""
    uploaded_at: float = 0.0
    started_at: float = 0.0
    result_at: float = 0.0
    status: str = ""
    failure: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def time_to_result_s(self) -> float:
        """From the start request (the video already uploaded) to the result in the app."""
        return self.result_at - self.started_at


def wall_hold_map() -> HoldMap:
    """A validated route: the holds detected on the demo's synthetic wall, as `ascension demo`
    and `bench orchestration` analyse the same stand-in clip against (the route is known, so
    no detection and no wait for the climber: the common case once a wall is mapped)."""
    from engines.holds import detect_holds
    from engines.holds.synth import generate_wall

    return detect_holds(generate_wall(seed=7).image).hold_map


async def register_climbers(stack: Stack, api: httpx.AsyncClient, count: int) -> list[Climb]:
    """``count`` climbers on the infinity plan (ghost included), each with a validated route."""
    climbs: list[Climb] = []
    for _ in range(count):
        email = f"load-{uuid.uuid4().hex[:12]}@example.com"
        response = await api.post(
            f"{V1}/auth/register", json={"email": email, "password": PASSWORD}
        )
        response.raise_for_status()
        body = response.json()
        climbs.append(Climb(body["access_token"], body["user"]["id"]))
    hold_map = dataclasses.asdict(wall_hold_map())
    async with session_scope(stack.engine) as session:
        await session.exec(
            update(User)
            .where(User.id.in_([uuid.UUID(c.user_id) for c in climbs]))  # type: ignore[attr-defined]
            .values(subscription_tier=Tier.INFINITY)
        )
        routes = [
            Route(
                user_id=uuid.UUID(c.user_id),
                name="load wall",
                hold_map=hold_map,
                hold_map_validated_at=datetime.now(UTC),
            )
            for c in climbs
        ]
        session.add_all(routes)
        await session.commit()
        for climb, route in zip(climbs, routes, strict=True):
            climb.route_id = str(route.id)
    return climbs


async def upload(api: httpx.AsyncClient, climb: Climb, video: bytes) -> None:
    """The phone's upload: a presigned PUT straight to the object store."""
    response = await api.post(
        f"{V1}/analysis/video/request-upload",
        json={"content_type": "video/mp4", "size_bytes": len(video)},
        headers=climb.headers,
    )
    response.raise_for_status()
    grant = response.json()
    async with httpx.AsyncClient(timeout=120) as store:
        put = await store.put(
            grant["upload_url"],
            content=video,
            headers={"Content-Type": grant["headers"]["Content-Type"]},
        )
        put.raise_for_status()
    climb.video_id = grant["video_id"]
    climb.uploaded_at = time.perf_counter()


async def start(api: httpx.AsyncClient, climb: Climb) -> None:
    climb.started_at = time.perf_counter()
    response = await api.post(
        f"{V1}/analysis/video/start",
        # The whole picture the app draws: skeleton, holds and the ghost (the plan includes it).
        json={"video_id": climb.video_id, "route_id": climb.route_id, "ghost": True},
        headers=climb.headers,
    )
    if response.status_code != 202:
        raise RuntimeError(f"start answered {response.status_code}: {response.text[:300]}")
    climb.analysis_id = response.json()["analysis_id"]


async def follow(
    api: httpx.AsyncClient, climb: Climb, timeout_s: float, poll_s: float = POLL_S
) -> None:
    """Ask for the analysis as the app does until it has its result or has failed."""
    deadline = time.perf_counter() + timeout_s
    path = f"{V1}/analysis/video/{climb.analysis_id}"
    while time.perf_counter() < deadline:
        response = await api.get(path, headers=climb.headers)
        if response.status_code == 200:
            body: dict[str, Any] = response.json()
            status = body.get("status")
            if status is None or status == "completed":  # the stored result document
                climb.result_at, climb.status = time.perf_counter(), "completed"
                return
            if status in ("failed", "cancelled"):
                climb.result_at, climb.status = time.perf_counter(), status
                climb.failure = body.get("failure_reason")
                return
        await asyncio.sleep(poll_s)
    climb.status, climb.failure = "timed out", f"no result within {timeout_s:g} s"


def _worker(kind: str, env: dict[str, str], log: Path, cwd: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "ascension.cli", "worker", kind],
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def _polling(client: Client, queue: str, kind: int, pids: list[int]) -> bool:
    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=queue),
            task_queue_type=kind,  # type: ignore[arg-type]
        )
    )
    polling = {p.identity.split("@", 1)[0] for p in described.pollers}
    return all(str(pid) in polling for pid in pids)


@contextlib.asynccontextmanager
async def workers(
    stack: Stack, folder: Path, *, gpu_workers: int, pose_workers: int | None = None
) -> AsyncIterator[list[int]]:
    """One CPU worker and ``gpu_workers`` GPU workers, each its own process; yields their pids
    once every one of them polls its queue."""
    settings = stack.settings.model_copy(update={"pose_workers": pose_workers})
    env = _server_env(settings)
    env.update(settings.as_environment(("pose_workers",)))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(_worker("cpu", env, folder / "worker-cpu.log", folder))
        for index in range(gpu_workers):
            processes.append(_worker("gpu", env, folder / f"worker-gpu-{index}.log", folder))
        client = await Client.connect(
            settings.temporal_address or "", namespace=settings.temporal_namespace
        )
        cpu, gpu = [processes[0].pid], [p.pid for p in processes[1:]]
        deadline = time.monotonic() + WORKER_START_S
        while not (
            await _polling(
                client, settings.cpu_task_queue, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, cpu
            )
            and await _polling(
                client, settings.gpu_task_queue, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY, gpu
            )
        ):
            for process in processes:
                if process.poll() is not None:
                    raise RuntimeError(f"a worker exited ({process.returncode}); see {folder}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers not polling within {WORKER_START_S:g} s; see {folder}")
            await asyncio.sleep(0.5)
        yield [p.pid for p in processes]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
