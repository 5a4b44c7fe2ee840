"""A one-step workflow that runs the real skeleton activity with a short heartbeat timeout.

The production workflow waits 30 s for a silent worker; a test that kills the worker wants the
retry within a couple of seconds, and nothing else of the analysis in the way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from schema.activities import EXTRACT_SKELETON
    from schema.steps import ExtractSkeletonInput, SkeletonResult


@dataclass
class SkeletonProbeInput:
    skeleton: ExtractSkeletonInput
    gpu_task_queue: str
    heartbeat_timeout_s: float = 2.0


@workflow.defn
class SkeletonProbeWorkflow:
    @workflow.run
    async def run(self, params: SkeletonProbeInput) -> SkeletonResult:
        return await workflow.execute_activity(
            EXTRACT_SKELETON.name,
            params.skeleton,
            result_type=SkeletonResult,
            task_queue=params.gpu_task_queue,
            start_to_close_timeout=timedelta(minutes=10),
            heartbeat_timeout=timedelta(seconds=params.heartbeat_timeout_s),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=0.5), maximum_attempts=3),
        )
