"""Harness for workflow tests: the shared fake activities (`ascension.fakes`) on workers, the
workflow's start input, and waiting on its status.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

import numpy as np
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.worker import Worker

from ascension.fakes import GHOST_VERDICT, FakePipeline, detected_map, walking_timeline
from core.analyses import query_status
from schema import names
from schema.analysis import StartAnalysisInput, Status, Tier
from schema.holds import Hold, HoldMap
from worker_gpu.worker import HEARTBEAT_THROTTLE
from workflows.video_analysis import VideoAnalysisWorkflow

__all__ = [
    "GHOST_VERDICT",
    "FakePipeline",
    "analysis_input",
    "corrected_map",
    "dense_hold_map",
    "detected_map",
    "gpu_worker",
    "pipeline_workers",
    "wait_for_status",
    "walking_timeline",
]


def corrected_map() -> HoldMap:
    """The climber's correction of `detected_map`: one hold retyped, one hold added."""
    corrected = detected_map()
    corrected.holds[1].type = "pinch"
    corrected.holds.append(Hold("user-1", 0.6, 0.2, "jug"))
    return corrected


def dense_hold_map(count: int = 200, outline_points: int = 24) -> HoldMap:
    """A wall photo with many outlined holds: a payload too big to keep in workflow history."""
    rng = np.random.default_rng(11)
    holds = []
    for index in range(count):
        cx, cy = rng.uniform(0.05, 0.95, size=2)
        angles = np.linspace(0, 2 * np.pi, outline_points, endpoint=False)
        radius = rng.uniform(0.005, 0.02)
        polygon = [
            (round(float(cx + radius * np.cos(a)), 6), round(float(cy + radius * np.sin(a)), 6))
            for a in angles
        ]
        holds.append(Hold(f"h{index + 1}", float(cx), float(cy), "crimp", polygon, "blue", 0.8))
    return HoldMap(image_width=4032, image_height=3024, holds=holds)


def analysis_input(task_queue: str, **overrides: object) -> StartAnalysisInput:
    analysis_id = uuid.uuid4().hex[:12]
    params = StartAnalysisInput(
        analysis_id=analysis_id,
        user_id="user-1",
        video_id=analysis_id,
        video_key=names.upload_key("user-1", analysis_id),
        route_id="route-1",
        bucket=names.VIDEOS_BUCKET,
        tier=Tier.PREMIUM,
        route_photo_key="routes/route-1.jpg",
        gpu_task_queue=f"{task_queue}-gpu",
        cpu_task_queue=f"{task_queue}-cpu",
    )
    for key, value in overrides.items():
        setattr(params, key, value)
    return params


async def wait_for_status(handle: WorkflowHandle, status: Status) -> None:
    """Poll the `status` Query until the workflow reports ``status``."""
    progress = None
    for _ in range(300):
        try:
            # Short RPC timeout: a query sent before the first workflow task completes can be
            # held by the server; asking again is cheaper than waiting for it.
            progress = await query_status(handle, rpc_timeout=timedelta(seconds=2))
        except RPCError:
            progress = None
        if progress is not None and progress.status == status:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"workflow never reached {status}; last {progress}")


@asynccontextmanager
async def gpu_worker(client: Client, task_queue: str, fake: FakePipeline, **options: object):
    """Only the GPU side, for tests that run the production CPU worker."""
    async with Worker(
        client, task_queue=f"{task_queue}-gpu", activities=fake.gpu_activities(), **options
    ) as worker:
        yield worker


@asynccontextmanager
async def pipeline_workers(
    client: Client,
    task_queue: str,
    fake: FakePipeline,
    *,
    gpu: bool = True,
    workflows: Sequence[type] = (VideoAnalysisWorkflow,),
) -> AsyncIterator[None]:
    """The CPU worker (``workflows`` + CPU activities; the production CPU worker hosts the route
    workflow too) and, unless told not to, a GPU worker."""
    cpu_worker = Worker(
        client,
        task_queue=f"{task_queue}-cpu",
        workflows=list(workflows),
        activities=fake.cpu_activities(),
    )
    async with cpu_worker:
        if not gpu:
            yield
            return
        async with Worker(
            client,
            task_queue=f"{task_queue}-gpu",
            activities=fake.gpu_activities(),
            max_heartbeat_throttle_interval=HEARTBEAT_THROTTLE,  # as in production
        ):
            yield
