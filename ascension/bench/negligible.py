"""The orchestration bench's floor: a bare workflow running the same number of no-op activities
one after another (`ascension bench orchestration`). The analysis itself runs on the shared fake
activities, `ascension.fakes.FakePipeline`. Benchmark harness only: no worker process registers
these.
"""

from __future__ import annotations

from temporalio import activity, workflow


@activity.defn(name="bench_noop")
async def noop(step: int) -> int:
    return step


@workflow.defn
class SequentialActivitiesWorkflow:
    """The floor: the same number of sequential no-op activities and nothing else."""

    @workflow.run
    async def run(self, count: int) -> int:
        from datetime import timedelta

        total = 0
        for step in range(count):
            total += await workflow.execute_activity(
                noop, step, start_to_close_timeout=timedelta(seconds=30)
            )
        return total
