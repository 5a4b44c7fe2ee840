"""VideoAnalysisWorkflow with honest activity doubles.

Timers, deadlines, retries and timeouts run on the time-skipping test server. Updates run on the
real dev server: the Java test server can hang on Update results and does not skip time while a
client waits for one.
"""

from __future__ import annotations

import asyncio
import itertools

import pytest
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import CancelledError
from temporalio.testing import WorkflowEnvironment

from api.progress import read_progress
from schema import names
from schema.activities import COMPUTE_GHOST, DETECT_HOLDS, EXTRACT_SKELETON
from schema.analysis import (
    AnalysisResult,
    CancelInput,
    LegacyJobInput,
    Stage,
    Status,
    Tier,
    ValidateHoldsInput,
    ValidationTimeoutPolicy,
)
from schema.holds import Hold, HoldMap
from tests.utils.histories import record_history
from tests.utils.pipeline import (
    FakePipeline,
    analysis_input,
    corrected_map,
    detected_map,
    gpu_worker,
    pipeline_workers,
    wait_for_status,
)
from workflows.analysis_policies import STAGE_PERCENT
from workflows.video_analysis import VideoAnalysisWorkflow

pytestmark = pytest.mark.integration


async def _start(env: WorkflowEnvironment, params) -> WorkflowHandle:
    return await env.client.start_workflow(
        VideoAnalysisWorkflow.run,
        params,
        id=names.analysis_workflow_id(params.analysis_id),
        task_queue=params.cpu_task_queue,
    )


async def test_happy_path_with_update_validation(
    temporal_dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePipeline()
    params = analysis_input(task_queue)
    async with pipeline_workers(temporal_dev_env.client, task_queue, fake):
        handle = await _start(temporal_dev_env, params)
        await wait_for_status(handle, Status.AWAITING_HOLD_VALIDATION)
        progress = await handle.query(VideoAnalysisWorkflow.status)
        assert progress.holds_awaiting_validation == detected_map()
        assert progress.validation_deadline is not None

        accepted = await handle.execute_update(
            VideoAnalysisWorkflow.validate_holds, ValidateHoldsInput(corrected_map())
        )
        assert accepted == corrected_map()
        result: AnalysisResult = await handle.result()
        final = await handle.query(VideoAnalysisWorkflow.status)
        await record_history(handle, "happy_path_update_validation")

    assert result.status == Status.COMPLETED
    assert result.hold_count == 4
    assert result.ghost_key == names.result_key(params.analysis_id, "ghost")
    assert not result.used_detected_holds_after_deadline
    job = params.analysis_id
    assert fake.routing_keys == [
        f"hold_detection.completed.{job}",
        f"skeleton.completed.{job}",
        f"advice.completed.{job}",
        f"ghost.completed.{job}",
        f"analysis.completed.{job}",
    ]
    assert fake.saved_routes[0].hold_map == corrected_map()
    assert fake.persisted[0].metrics.hold_count == 4
    assert fake.persisted[0].metrics.max_reach_cm == 171.0
    assert fake.cleaned == [params.video_key]
    # Completed: the climber's training program is asked to take the analysis in.
    assert [(r.user_id, r.analysis_id) for r in fake.regenerations] == [
        (params.user_id, params.analysis_id)
    ]
    assert [s.status for s in fake.statuses] == [
        Status.PROCESSING,
        Status.AWAITING_HOLD_VALIDATION,
        Status.PROCESSING,
    ]
    assert (final.status, final.percent) == (Status.COMPLETED, 100.0)


async def test_validator_rejects_bad_map_and_workflow_keeps_waiting(
    temporal_dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    from temporalio.client import WorkflowUpdateFailedError

    fake = FakePipeline()
    params = analysis_input(task_queue)
    bad = detected_map()
    bad.holds.append(Hold("h1", 1.4, 0.5, "banana"))  # duplicate id, outside image, bad type
    bad.holds.append(Hold("zz", 0.5, 0.5, "jug"))  # unknown id
    async with pipeline_workers(temporal_dev_env.client, task_queue, fake):
        handle = await _start(temporal_dev_env, params)
        await wait_for_status(handle, Status.AWAITING_HOLD_VALIDATION)
        with pytest.raises(WorkflowUpdateFailedError) as rejected:
            await handle.execute_update(
                VideoAnalysisWorkflow.validate_holds, ValidateHoldsInput(bad)
            )
        message = str(rejected.value.cause)
        assert "'h1' appears twice" in message
        assert "outside the image" in message
        assert "unknown type 'banana'" in message
        assert "'zz' is unknown" in message
        empty = HoldMap(1920, 1080, [])
        with pytest.raises(WorkflowUpdateFailedError) as empty_rejected:
            await handle.execute_update(
                VideoAnalysisWorkflow.validate_holds, ValidateHoldsInput(empty)
            )
        assert "the hold map is empty" in str(empty_rejected.value.cause)
        # Still waiting: nothing after detection ran.
        assert (await handle.query(VideoAnalysisWorkflow.status)).status == (
            Status.AWAITING_HOLD_VALIDATION
        )
        assert fake.calls == [DETECT_HOLDS.name]
        await handle.execute_update(
            VideoAnalysisWorkflow.validate_holds, ValidateHoldsInput(detected_map())
        )
        assert (await handle.result()).status == Status.COMPLETED


async def test_validation_by_signal_and_invalid_signal_surfaces_in_status(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePipeline()
    params = analysis_input(task_queue)
    async with pipeline_workers(time_skipping_env.client, task_queue, fake):
        handle = await _start(time_skipping_env, params)
        await wait_for_status(handle, Status.AWAITING_HOLD_VALIDATION)
        await handle.signal(
            VideoAnalysisWorkflow.submit_holds, ValidateHoldsInput(HoldMap(1920, 1080, []))
        )
        progress = await handle.query(VideoAnalysisWorkflow.status)
        assert progress.status == Status.AWAITING_HOLD_VALIDATION
        assert progress.last_error and "empty" in progress.last_error
        await handle.signal(VideoAnalysisWorkflow.submit_holds, ValidateHoldsInput(corrected_map()))
        result = await handle.result()
        await record_history(handle, "signal_validation_after_invalid_signal")
    assert result.status == Status.COMPLETED
    assert result.hold_count == 4


async def test_deadline_proceeds_with_detected_map(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePipeline()
    params = analysis_input(task_queue)
    async with pipeline_workers(time_skipping_env.client, task_queue, fake):
        handle = await _start(time_skipping_env, params)
        # Nobody validates: time skipping jumps over the 24 h deadline.
        result = await handle.result()
        await record_history(handle, "deadline_proceeds_with_detected_map")
    assert result.status == Status.COMPLETED
    assert result.used_detected_holds_after_deadline
    assert fake.saved_routes[0].hold_map == detected_map()


async def test_deadline_can_expire_the_analysis(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePipeline()
    params = analysis_input(task_queue, on_validation_timeout=ValidationTimeoutPolicy.EXPIRE)
    async with pipeline_workers(time_skipping_env.client, task_queue, fake):
        handle = await _start(time_skipping_env, params)
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
    assert "not validated within 24 h" in str(failed.value.cause)
    assert fake.routing_keys[-1] == f"analysis.failed.{params.analysis_id}"
    assert fake.statuses[-1].status == Status.FAILED
    assert fake.cleaned == [params.video_key]


async def test_known_route_map_skips_detection_and_freemium_skips_ghost(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePipeline()
    params = analysis_input(task_queue, tier=Tier.FREEMIUM, route_hold_map=detected_map())
    async with pipeline_workers(time_skipping_env.client, task_queue, fake):
        result = await (await _start(time_skipping_env, params)).result()
    assert result.status == Status.COMPLETED
    assert result.ghost_key is None
    assert DETECT_HOLDS.name not in fake.calls
    assert COMPUTE_GHOST.name not in fake.calls
    assert not any(key.startswith("ghost.") for key in fake.routing_keys)


async def test_transient_failure_is_retried_then_succeeds(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePipeline(skeleton_failures_left=2)
    params = analysis_input(task_queue, route_hold_map=detected_map())
    async with pipeline_workers(time_skipping_env.client, task_queue, fake):
        result = await (await _start(time_skipping_env, params)).result()
    assert result.status == Status.COMPLETED
    assert fake.calls.count(EXTRACT_SKELETON.name) == 3


async def test_bad_input_fails_at_once_with_clear_reason_and_event(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePipeline(skeleton_bad_input=True)
    params = analysis_input(task_queue, route_hold_map=detected_map(), keep_video=True)
    async with pipeline_workers(time_skipping_env.client, task_queue, fake):
        handle = await _start(time_skipping_env, params)
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
        progress = await handle.query(VideoAnalysisWorkflow.status)
        await record_history(handle, "bad_input_failure")
    reason = "we could not read this video: the file is not a video"
    assert failed.value.cause.message == reason
    assert fake.calls.count(EXTRACT_SKELETON.name) == 1  # not retried
    assert fake.routing_keys[-1] == f"skeleton.failed.{params.analysis_id}"
    assert fake.events[-1].reason == reason
    assert fake.statuses[-1].status == Status.FAILED and fake.statuses[-1].reason == reason
    assert (progress.status, progress.stage, progress.last_error) == (
        Status.FAILED,
        Stage.SKELETON,
        reason,
    )
    assert fake.cleaned == []  # the climber saved this video
    assert fake.regenerations == []  # a failed analysis changes no training program


async def test_no_gpu_worker_fails_with_clear_status(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePipeline()
    # The Java test server does not skip time for schedule-to-start timeouts, so use a short one.
    params = analysis_input(task_queue, route_hold_map=detected_map(), gpu_schedule_to_start_s=2)
    async with pipeline_workers(time_skipping_env.client, task_queue, fake, gpu=False):
        handle = await _start(time_skipping_env, params)
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
    assert failed.value.cause.message == (
        "no analysis server picked up the skeleton extraction step within 2 s; "
        "please try again later"
    )
    assert fake.routing_keys[-1] == f"skeleton.failed.{params.analysis_id}"


async def test_dead_worker_is_detected_by_heartbeat_timeout_and_retried(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePipeline(skeleton_hangs_first_attempt=True)
    params = analysis_input(task_queue, route_hold_map=detected_map())
    async with pipeline_workers(time_skipping_env.client, task_queue, fake):
        result = await (await _start(time_skipping_env, params)).result()
    assert result.status == Status.COMPLETED
    assert fake.calls.count(EXTRACT_SKELETON.name) == 2


async def test_cancel_signal_stops_and_cleans_up(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePipeline()
    params = analysis_input(task_queue)
    async with pipeline_workers(time_skipping_env.client, task_queue, fake):
        handle = await _start(time_skipping_env, params)
        await wait_for_status(handle, Status.AWAITING_HOLD_VALIDATION)
        await handle.signal(VideoAnalysisWorkflow.cancel, CancelInput("changed my mind"))
        result = await handle.result()
        await record_history(handle, "cancel_while_awaiting_validation")
    assert result.status == Status.CANCELLED
    assert EXTRACT_SKELETON.name not in fake.calls
    # `hold_validation` is no stage of the documented contract: the end is the analysis'.
    assert fake.routing_keys[-1] == f"analysis.failed.{params.analysis_id}"
    assert (fake.events[-1].status, fake.events[-1].reason) == (
        Status.CANCELLED,
        "changed my mind",
    )
    assert fake.cleaned == [params.video_key]


async def test_cancellation_ends_the_run_as_canceled_after_recording_and_publishing(
    temporal_dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    """The API cancels through Temporal: the run records, publishes, cleans up, and shows as
    Canceled (not Completed) in the Web UI, whether it waited for holds or ran a GPU step."""
    gate = asyncio.Event()
    fake = FakePipeline(skeleton_gate=gate)
    waiting = analysis_input(task_queue)
    running = analysis_input(task_queue, route_hold_map=detected_map())
    async with pipeline_workers(temporal_dev_env.client, task_queue, fake):
        first = await _start(temporal_dev_env, waiting)
        await wait_for_status(first, Status.AWAITING_HOLD_VALIDATION)
        await first.cancel(reason="cancelled by the climber")
        with pytest.raises(WorkflowFailureError) as ended:
            await first.result()
        assert isinstance(ended.value.cause, CancelledError)
        assert (await first.describe()).status == WorkflowExecutionStatus.CANCELED
        await record_history(first, "cancel_requested_while_awaiting_validation")

        second = await _start(temporal_dev_env, running)
        await asyncio.wait_for(fake.skeleton_started.wait(), 30)
        await second.cancel(reason="cancelled by the climber")
        with pytest.raises(WorkflowFailureError) as ended:
            await second.result()
        assert isinstance(ended.value.cause, CancelledError)
        assert (await second.describe()).status == WorkflowExecutionStatus.CANCELED
        progress = await second.query(VideoAnalysisWorkflow.status)
        gate.set()
        await record_history(second, "cancel_requested_during_skeleton")
    assert (progress.status, progress.last_error) == (Status.CANCELLED, "cancelled by the climber")
    by_analysis = {event.analysis_id: event for event in fake.events if event.outcome == "failed"}
    assert by_analysis[waiting.analysis_id].routing_key == f"analysis.failed.{waiting.analysis_id}"
    assert by_analysis[running.analysis_id].routing_key == (
        f"skeleton.failed.{running.analysis_id}"
    )
    for event in by_analysis.values():
        assert (event.status, event.reason) == (Status.CANCELLED, "cancelled by the climber")
    cancelled = [s for s in fake.statuses if s.status == Status.CANCELLED]
    assert {s.analysis_id for s in cancelled} == {waiting.analysis_id, running.analysis_id}
    assert sorted(fake.cleaned) == sorted([waiting.video_key, running.video_key])


async def test_repeated_start_returns_the_running_analysis(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    from temporalio.common import WorkflowIDConflictPolicy

    fake = FakePipeline()
    params = analysis_input(task_queue)
    async with pipeline_workers(time_skipping_env.client, task_queue, fake):
        first = await _start(time_skipping_env, params)
        await wait_for_status(first, Status.AWAITING_HOLD_VALIDATION)
        second = await time_skipping_env.client.start_workflow(
            VideoAnalysisWorkflow.run,
            params,
            id=names.analysis_workflow_id(params.analysis_id),
            task_queue=params.cpu_task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        assert second.result_run_id == first.result_run_id
        await first.signal(VideoAnalysisWorkflow.cancel, CancelInput())
        await first.result()
    assert fake.calls.count(DETECT_HOLDS.name) == 1


async def test_support_finds_the_analysis_by_search_attributes(
    temporal_dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePipeline()
    params = analysis_input(task_queue, route_hold_map=detected_map(), user_id="climber-42")
    async with pipeline_workers(temporal_dev_env.client, task_queue, fake):
        handle = await _start(temporal_dev_env, params)
        await handle.result()

    # The query support staff type into the Web UI's search box.
    query = (
        f"AnalysisId = '{params.analysis_id}' AND UserId = 'climber-42' "
        "AND AnalysisStatus = 'completed' AND AnalysisStage = 'analysis'"
    )
    found: list[str] = []
    for _ in range(50):  # visibility is eventually consistent
        found = [wf.id async for wf in temporal_dev_env.client.list_workflows(query)]
        if found:
            break
        await asyncio.sleep(0.1)
    assert found == [names.analysis_workflow_id(params.analysis_id)]


async def test_infinity_tier_is_served_first_on_a_busy_gpu_queue(
    temporal_dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    """Analyses queue up while no GPU worker polls; the infinity one is picked first."""
    client = temporal_dev_env.client
    fake = FakePipeline()
    freemium = [
        analysis_input(task_queue, tier=Tier.FREEMIUM, route_hold_map=detected_map())
        for _ in range(4)
    ]
    infinity = analysis_input(task_queue, tier=Tier.INFINITY, route_hold_map=detected_map())
    async with pipeline_workers(client, task_queue, fake, gpu=False):
        # The infinity analysis arrives last: ordering by arrival would serve it last.
        handles = [await _start(temporal_dev_env, params) for params in [*freemium, infinity]]
        await _wait_for_backlog(client, f"{task_queue}-gpu", len(handles))
        # One slot: the GPU worker takes one task at a time, in the server's order.
        async with gpu_worker(client, task_queue, fake, max_concurrent_activities=1):
            for handle in handles:
                await handle.result()
    assert fake.started_order[0] == infinity.analysis_id
    assert sorted(fake.started_order) == sorted(p.analysis_id for p in [*freemium, infinity])


async def _wait_for_backlog(client: Client, task_queue: str, count: int) -> None:
    """Until ``count`` activity tasks wait in the queue's backlog (matching has them all)."""
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        report_stats=True,
    )
    backlog = 0
    for _ in range(200):
        response = await client.workflow_service.describe_task_queue(request)
        backlog = response.stats.approximate_backlog_count
        if backlog >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"only {backlog} of {count} tasks reached the GPU queue")


async def test_progress_moves_with_the_running_steps_heartbeats(
    temporal_dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePipeline(frames=300, skeleton_gate=asyncio.Event())
    params = analysis_input(task_queue, route_hold_map=detected_map())
    client = temporal_dev_env.client
    async with pipeline_workers(client, task_queue, fake):
        handle = await _start(temporal_dev_env, params)
        await asyncio.wait_for(fake.skeleton_started.wait(), 30)
        progress = None
        for _ in range(100):
            progress = await read_progress(handle, client.data_converter)
            if progress.step_done is not None:
                break
            await asyncio.sleep(0.05)
        assert progress is not None and progress.stage is Stage.SKELETON
        assert (progress.step_done, progress.step_total, progress.step_attempt) == (150, 300, 1)
        # Halfway through skeleton extraction: halfway between its start and the next stage's.
        start, end = STAGE_PERCENT[Stage.SKELETON], STAGE_PERCENT[Stage.ADVICE]
        assert progress.percent == pytest.approx((start + end) / 2, abs=0.1)
        fake.skeleton_gate.set()
        await handle.result()
        final = await read_progress(handle, client.data_converter)
    assert (final.status, final.percent) == (Status.COMPLETED, 100.0)


async def test_progress_reaches_the_app_at_least_every_two_seconds_during_the_skeleton(
    temporal_dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePipeline(frames=600, skeleton_seconds=5.0)
    params = analysis_input(task_queue, route_hold_map=detected_map())
    client = temporal_dev_env.client
    seen: list[tuple[float, int]] = []
    async with pipeline_workers(client, task_queue, fake):
        handle = await _start(temporal_dev_env, params)
        await asyncio.wait_for(fake.skeleton_started.wait(), 30)
        loop = asyncio.get_running_loop()
        while True:
            progress = await read_progress(handle, client.data_converter)
            if progress.stage is not Stage.SKELETON:
                break
            if progress.step_done is not None and (not seen or seen[-1][1] != progress.step_done):
                seen.append((loop.time(), progress.step_done))
            await asyncio.sleep(0.1)
        await handle.result()
    # The SDK's default throttle (0.8 x the 30 s heartbeat timeout) showed one value in 5 s.
    assert len(seen) >= 4, seen
    gaps = [later[0] - earlier[0] for earlier, later in itertools.pairwise(seen)]
    assert max(gaps) <= 2.0, seen


async def _start_for_legacy_job(
    env: WorkflowEnvironment, params, job: LegacyJobInput
) -> WorkflowHandle:
    """As the legacy ingress starts (or attaches to) a run: signal-with-start."""
    return await env.client.start_workflow(
        VideoAnalysisWorkflow.run,
        params,
        id=names.analysis_workflow_id(params.analysis_id),
        task_queue=params.cpu_task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        start_signal="attach_legacy_job",
        start_signal_args=[job],
    )


async def test_legacy_jobs_get_their_events_under_their_own_ids(
    temporal_dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePipeline()
    params = analysis_input(task_queue)
    skeleton_job = LegacyJobInput("job-skeleton", [Stage.SKELETON, Stage.ANALYSIS])
    async with pipeline_workers(temporal_dev_env.client, task_queue, fake):
        handle = await _start_for_legacy_job(temporal_dev_env, params, skeleton_job)
        await wait_for_status(handle, Status.AWAITING_HOLD_VALIDATION)
        # Hold detection is done: a job asking for it now is answered at once.
        late = LegacyJobInput("job-holds", [Stage.HOLD_DETECTION])
        await _start_for_legacy_job(temporal_dev_env, params, late)
        advice = LegacyJobInput("job-advice", [Stage.ADVICE])
        await _start_for_legacy_job(temporal_dev_env, params, advice)
        await handle.signal(VideoAnalysisWorkflow.submit_holds, ValidateHoldsInput(detected_map()))
        result = await handle.result()
        await record_history(handle, "legacy_jobs")
    assert result.status == Status.COMPLETED
    assert fake.routing_keys == [
        "hold_detection.completed.job-skeleton",  # stages without a job of their own: the first
        "hold_detection.completed.job-holds",
        "skeleton.completed.job-skeleton",
        "advice.completed.job-advice",
        "ghost.completed.job-skeleton",
        "analysis.completed.job-skeleton",
    ]
    # The late job's answer repeats what the app was told: for the broker alone.
    assert [event.for_app for event in fake.events] == [True, False, True, True, True, True]
    # Each answer is its own message for consumers that deduplicate on message ids.
    assert len({event.message_id for event in fake.events}) == len(fake.events)


async def test_a_failure_answers_every_waiting_legacy_job(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePipeline(skeleton_bad_input=True)
    params = analysis_input(task_queue, route_hold_map=detected_map(), keep_video=True)
    first = LegacyJobInput("job-skeleton", [Stage.SKELETON, Stage.ANALYSIS])
    async with pipeline_workers(time_skipping_env.client, task_queue, fake):
        handle = await _start_for_legacy_job(time_skipping_env, params, first)
        await _start_for_legacy_job(
            time_skipping_env, params, LegacyJobInput("job-ghost", [Stage.GHOST])
        )
        with pytest.raises(WorkflowFailureError):
            await handle.result()
    assert fake.routing_keys == ["skeleton.failed.job-skeleton", "ghost.failed.job-ghost"]
    assert {event.reason for event in fake.events} == {
        "we could not read this video: the file is not a video"
    }
