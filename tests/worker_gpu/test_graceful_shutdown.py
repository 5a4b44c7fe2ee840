"""SIGTERM on a GPU worker (a pod evicted or scaled in): a running step may finish first.

`ascension worker gpu` stops polling when told to stop, then gives running activities
``worker_graceful_shutdown_s`` before cancelling them; Kubernetes' terminationGracePeriodSeconds
is sized above it (deploy/k8s/worker-gpu.yaml). The step here is a stand-in that runs until the
test releases it, so what is checked is the order of events, not how long anything takes.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity, workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

import worker_gpu.worker as gpu_worker_module
from core.settings import Settings
from worker_gpu.main import run_gpu_worker


class _Step:
    """A GPU step that starts, then waits for the test; it records a cancellation."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.cancelled = False

    @activity.defn(name="graceful_test_step")
    async def run(self) -> str:
        self.started.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return "finished"


@workflow.defn(sandboxed=False)
class _OneGpuStep:
    @workflow.run
    async def run(self, gpu_queue: str) -> str:
        result: str = await workflow.execute_activity(
            "graceful_test_step",
            task_queue=gpu_queue,
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
        return result


async def _run(
    env: WorkflowEnvironment,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    task_queue: str,
    graceful_s: float,
) -> tuple[_Step, Any, asyncio.Task[None]]:
    """The production GPU worker loop serving the stand-in step, started and then stopped."""
    step = _Step()
    monkeypatch.setattr(gpu_worker_module, "gpu_activities", lambda *a, **k: [step.run])
    gpu_queue = f"gpu-{uuid.uuid4().hex[:12]}"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        temporal_address=env.client.service_client.config.target_host,
        temporal_namespace=env.client.namespace,
        gpu_task_queue=gpu_queue,
        pose_workers=1,
        worker_graceful_shutdown_s=graceful_s,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(run_gpu_worker(settings, stop=stop))
    handle = await env.client.start_workflow(
        _OneGpuStep.run, gpu_queue, id=f"graceful-{uuid.uuid4()}", task_queue=task_queue
    )
    await asyncio.wait_for(step.started.wait(), timeout=60)
    stop.set()  # what SIGTERM does (core.signals)
    return step, handle, running


async def test_a_running_step_finishes_within_the_grace(
    temporal_dev_env: WorkflowEnvironment,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    task_queue: str,
) -> None:
    async with Worker(
        temporal_dev_env.client,
        task_queue=task_queue,
        workflows=[_OneGpuStep],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        step, handle, running = await _run(
            temporal_dev_env, tmp_path, monkeypatch, task_queue, graceful_s=60
        )
        # Told to stop, the worker still waits for its step: let the step end only now.
        await asyncio.sleep(0.2)
        assert not running.done()
        step.release.set()
        assert await handle.result() == "finished"
        await asyncio.wait_for(running, timeout=60)
    assert not step.cancelled


async def test_without_a_grace_the_step_is_cancelled_at_once(
    temporal_dev_env: WorkflowEnvironment,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    task_queue: str,
) -> None:
    async with Worker(
        temporal_dev_env.client,
        task_queue=task_queue,
        workflows=[_OneGpuStep],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        step, handle, running = await _run(
            temporal_dev_env, tmp_path, monkeypatch, task_queue, graceful_s=0
        )
        # Never released: the worker's stop alone ends the step...
        await asyncio.wait_for(running, timeout=60)
        assert step.cancelled
        # ...and the server hears of it at once: the attempt failed (with retries left, another
        # worker would run it now rather than after a timeout).
        with pytest.raises(WorkflowFailureError) as failure:
            await handle.result()
        assert isinstance(failure.value.cause, ActivityError)
        reason = failure.value.cause.cause
        assert isinstance(reason, ApplicationError) and not reason.non_retryable
        assert "shutting down" in str(reason)
