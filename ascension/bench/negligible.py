"""Activities that do negligible work, registered under the production names, for measuring the
cost of orchestration alone (`ascension bench orchestration`). Benchmark harness only: no worker
process ever registers these.
"""

from __future__ import annotations

from typing import Any

from temporalio import activity, workflow

from schema.activities import (
    CLEANUP_UPLOAD,
    COMPUTE_GHOST,
    DETECT_HOLDS,
    EXTRACT_SKELETON,
    GENERATE_ADVICE,
    PERSIST_RESULTS,
    PUBLISH_EVENT,
    RECORD_ANALYSIS_STATUS,
    SAVE_ROUTE_HOLDS,
)
from schema.analysis import (
    AdviceInput,
    AdviceResult,
    AnalysisEvent,
    CleanupUploadInput,
    CleanupUploadResult,
    DetectHoldsInput,
    DetectHoldsResult,
    ExtractSkeletonInput,
    GhostInput,
    GhostResult,
    MetricsSummary,
    PersistResultsInput,
    RecordStatusInput,
    SaveRouteHoldsInput,
    SkeletonResult,
)
from schema.holds import Hold, HoldMap


@activity.defn(name=DETECT_HOLDS.name)
async def detect_holds(params: DetectHoldsInput) -> DetectHoldsResult:
    return DetectHoldsResult(HoldMap(1920, 1080, [Hold("h1", 0.5, 0.5, "jug")]))


@activity.defn(name=EXTRACT_SKELETON.name)
async def extract_skeleton(params: ExtractSkeletonInput) -> SkeletonResult:
    return SkeletonResult(params.output_key, 900, 30.0, 30.0, 1.0)


@activity.defn(name=GENERATE_ADVICE.name)
async def generate_advice(params: AdviceInput) -> AdviceResult:
    return AdviceResult(params.output_key, 0, 0, MetricsSummary())


@activity.defn(name=COMPUTE_GHOST.name)
async def compute_ghost(params: GhostInput) -> GhostResult:
    return GhostResult(params.output_key, 0)


@activity.defn(name=SAVE_ROUTE_HOLDS.name)
async def save_route_holds(params: SaveRouteHoldsInput) -> None:
    return None


@activity.defn(name=RECORD_ANALYSIS_STATUS.name)
async def record_analysis_status(params: RecordStatusInput) -> None:
    return None


@activity.defn(name=PERSIST_RESULTS.name)
async def persist_results(params: PersistResultsInput) -> None:
    return None


@activity.defn(name=PUBLISH_EVENT.name)
async def publish_event(event: AnalysisEvent) -> None:
    return None


@activity.defn(name=CLEANUP_UPLOAD.name)
async def cleanup_upload(params: CleanupUploadInput) -> CleanupUploadResult:
    return CleanupUploadResult(deleted=False)


GPU_ACTIVITIES: list[Any] = [detect_holds, extract_skeleton, generate_advice, compute_ghost]
CPU_ACTIVITIES: list[Any] = [
    save_route_holds,
    record_analysis_status,
    persist_results,
    publish_event,
    cleanup_upload,
]


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
