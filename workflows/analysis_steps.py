"""How the analysis workflow runs a step and keeps its bookkeeping: a GPU step (queue, timeouts,
heartbeat, tier priority), a CPU step, a published event, the run's status and stage as the
status Query and the search attributes show them, and the legacy jobs whose ids the events carry.

Called from `VideoAnalysisWorkflow` and `RouteHoldsWorkflow` (the step helpers take any input with
the task queues, the GPU wait and the tier: `StepQueues`); the commands they issue are the
workflow's own, in the same order, so recorded histories replay unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol, TypeVar

from temporalio import workflow
from temporalio.common import Priority
from temporalio.exceptions import ActivityError, ApplicationError, RetryState
from temporalio.exceptions import TimeoutError as ActivityTimeoutError

from workflows.analysis_policies import (
    ANALYSIS_STAGE,
    ANALYSIS_STATUS,
    CPU_RETRY,
    CPU_START_TO_CLOSE,
    DATABASE_RETRY,
    EVENT_RETRY,
    EVENT_SCHEDULE_TO_CLOSE,
    GPU_RETRY,
    HEARTBEAT,
    STAGE_LABEL,
    STAGE_PERCENT,
    STAGE_START_TO_CLOSE,
    database_windows,
    duration,
    local_database_retry,
)

with workflow.unsafe.imports_passed_through():
    from schema.activities import (
        CLEANUP_UPLOAD,
        PERSIST_RESULTS,
        PUBLISH_EVENT,
        RECORD_ANALYSIS_STATUS,
        REQUEST_TRAINING_REGENERATION,
        ActivitySpec,
    )
    from schema.analysis import LegacyJobInput, Stage, Status, Tier
    from schema.events import AnalysisEvent

InT = TypeVar("InT")
OutT = TypeVar("OutT")

#: The analysis's bookkeeping steps, run as local activities under `LOCAL_BOOKKEEPING_PATCH`.
#:
#: A regular activity costs a round trip through the server (schedule, dispatch to a poller,
#: completion, a new workflow task): ~100 ms each on the dev server of a loaded 2-core machine,
#: nine of them per analysis. A local activity runs on the workflow's own worker inside the
#: workflow task and is recorded as a marker, so consecutive ones cost no round trip. The price:
#: it is at-least-once per workflow task (a worker that dies before the task completes runs it
#: again), is invisible to `describe` while it runs, and holds the workflow task, so it must be
#: short, idempotent and on the CPU worker (which registers every CPU activity). Each one is:
#:
#: - ``record_analysis_status``: one UPDATE of the analysis row; writing it twice is the same row.
#: - ``publish_event``: inserted once per ``message_id`` (ON CONFLICT DO NOTHING), then published
#:   under that id; a re-run publishes an exact copy, as an activity retry after a lost confirm
#:   already may, and consumers deduplicate on it. Through a broker outage it keeps retrying
#:   for a day: past the SDK's local retry threshold (1 min) the backoff is a durable timer.
#: - ``persist_results``: the result document is overwritten with the same bytes, then the row
#:   and its one metrics row are updated in place.
#: - ``request_training_regeneration``: starts a workflow under an id fixed by the analysis;
#:   a second start finds it already started.
#: - ``cleanup_upload``: deleting an object already gone is success.
#:
#: The GPU steps stay regular activities: they run on other machines for seconds to minutes
#: and heartbeat. The hold map's hand-over starts or signals the route's run and stays regular
#: as well: it is once per validated map, not per analysis of a known route.
BOOKKEEPING: frozenset[str] = frozenset(
    spec.name
    for spec in (
        RECORD_ANALYSIS_STATUS,
        PUBLISH_EVENT,
        PERSIST_RESULTS,
        REQUEST_TRAINING_REGENERATION,
        CLEANUP_UPLOAD,
    )
)


#: The bookkeeping steps that write the app's PostgreSQL rows: under `DATABASE_OUTAGE_PATCH`
#: they run through `run_database_step`, which outlasts a database outage. (``publish_event``
#: also writes the event log there; it already retries for a day, `EVENT_SCHEDULE_TO_CLOSE`.)
DATABASE_STEPS: frozenset[str] = frozenset(
    spec.name for spec in (RECORD_ANALYSIS_STATUS, PERSIST_RESULTS)
)

#: What `Progress.waiting_for` says while a database step retries past its local window.
_WAITING_FOR = {
    RECORD_ANALYSIS_STATUS.name: "the database, to record the analysis' status",
    PERSIST_RESULTS.name: "the database, to store the analysis' results",
}


#: `workflow.patched` id: a bookkeeping step that fails as a local activity reaches the pipeline
#: as an `ActivityError`, as the same step did as a regular activity, so the analysis records,
#: explains and publishes its failure; runs recorded before it failed at once, unrecorded.
LOCAL_STEP_FAILURE_AS_ACTIVITY_ERROR_PATCH = "local-step-failure-as-activity-error"


class StepQueues(Protocol):
    """What a step needs of a workflow's input (`StartAnalysisInput`, `RouteHoldsInput`)."""

    gpu_task_queue: str
    cpu_task_queue: str
    gpu_schedule_to_start_s: float
    tier: Tier


class Stop(Exception):
    """Leave the pipeline with a user-readable reason and a final status."""

    def __init__(self, reason: str, status: Status) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def start_gpu_step(
    params: StepQueues,
    stage: Stage,
    activity: ActivitySpec[InT, OutT],
    arg: InT,
    *,
    subject: str,
) -> workflow.ActivityHandle[OutT]:
    """Schedule ``activity`` on the GPU queue with the stage's timeouts and the tier's priority."""
    return workflow.start_activity(
        activity.name,
        arg,
        result_type=activity.result_type,
        task_queue=params.gpu_task_queue,
        # No GPU worker polling for this long fails the analysis with a clear status rather
        # than leaving the climber waiting. Schedule-to-start timeouts are never retried.
        schedule_to_start_timeout=timedelta(seconds=params.gpu_schedule_to_start_s),
        start_to_close_timeout=STAGE_START_TO_CLOSE[stage],
        heartbeat_timeout=HEARTBEAT if stage != Stage.HOLD_DETECTION else None,
        retry_policy=GPU_RETRY,
        priority=Priority(priority_key=params.tier.priority_key),
        summary=f"{STAGE_LABEL[stage]} for {subject}",
    )


async def run_cpu_step(
    params: StepQueues, activity: ActivitySpec[InT, OutT], arg: InT, *, local: bool = False
) -> OutT:
    """Run ``activity`` on the CPU queue or, with ``local``, on this worker (`BOOKKEEPING`)."""
    if local:
        assert activity.name in BOOKKEEPING, activity.name
        try:
            local_result: OutT = await workflow.execute_local_activity(
                activity.name,
                arg,
                result_type=activity.result_type,
                start_to_close_timeout=CPU_START_TO_CLOSE,
                retry_policy=CPU_RETRY,
            )
        except (ApplicationError, ActivityTimeoutError) as err:
            # The SDK raises a local activity's failure itself, where a regular activity's
            # comes inside an ActivityError: wrapped, it takes the pipeline's failure path.
            if not workflow.patched(LOCAL_STEP_FAILURE_AS_ACTIVITY_ERROR_PATCH):
                raise
            raise _as_activity_error(activity.name, err) from err
        return local_result
    result: OutT = await workflow.execute_activity(
        activity.name,
        arg,
        result_type=activity.result_type,
        task_queue=params.cpu_task_queue,
        start_to_close_timeout=CPU_START_TO_CLOSE,
        retry_policy=CPU_RETRY,
    )
    return result


async def run_database_step(
    params: StepQueues,
    activity: ActivitySpec[InT, OutT],
    arg: InT,
    *,
    outage_s: float,
    progress: Progress,
) -> OutT:
    """Run a `DATABASE_STEPS` activity through a PostgreSQL outage of up to ``outage_s``: first
    as a local activity for a short window, then, while the database still fails, as a regular
    activity on the CPU queue for the rest (`analysis_policies.database_windows` says why).

    Bad input and an unknown row (`DATABASE_RETRY`'s non-retryable types) fail at once, as an
    `ActivityError` like any step's. While the regular activity retries, ``progress`` says what
    the run waits for (the status Query's ``waiting_for``); its stage and status are left as
    they are, so nothing claims a step is running that is not.
    """
    assert activity.name in DATABASE_STEPS, activity.name
    local_window, outage = database_windows(outage_s)
    try:
        local_result: OutT = await workflow.execute_local_activity(
            activity.name,
            arg,
            result_type=activity.result_type,
            start_to_close_timeout=CPU_START_TO_CLOSE,
            schedule_to_close_timeout=local_window,
            retry_policy=local_database_retry(local_window),
        )
        return local_result
    except (ApplicationError, ActivityTimeoutError) as err:
        if isinstance(err, ApplicationError) and (
            err.non_retryable or err.type in (DATABASE_RETRY.non_retryable_error_types or ())
        ):
            raise _as_activity_error(activity.name, err) from err
        workflow.logger.warning(
            "%s failed for %s as a local activity (%s); retrying it for up to %s",
            activity.name,
            duration(local_window),
            err,
            duration(outage),
        )
    progress.waiting_for = _WAITING_FOR[activity.name]
    try:
        result: OutT = await workflow.execute_activity(
            activity.name,
            arg,
            result_type=activity.result_type,
            task_queue=params.cpu_task_queue,
            start_to_close_timeout=CPU_START_TO_CLOSE,
            schedule_to_close_timeout=outage,
            retry_policy=DATABASE_RETRY,
            summary=f"{activity.name}, waiting for the database (up to {duration(outage)})",
        )
    finally:
        progress.waiting_for = None
    return result


def _as_activity_error(name: str, err: ApplicationError | ActivityTimeoutError) -> ActivityError:
    """A local activity's failure as the `ActivityError` a regular activity's comes in."""
    return ActivityError(
        "Local activity task failed",
        scheduled_event_id=0,
        started_event_id=0,
        identity="",
        activity_type=name,
        activity_id="",
        retry_state=RetryState.NON_RETRYABLE_FAILURE
        if isinstance(err, ApplicationError) and err.non_retryable
        else RetryState.MAXIMUM_ATTEMPTS_REACHED,
    )


async def publish_event(params: StepQueues, event: AnalysisEvent, *, local: bool = False) -> None:
    """Publish ``event`` through the CPU queue or, with ``local``, on this worker (`BOOKKEEPING`),
    retrying through a broker outage either way."""
    if local:
        await workflow.execute_local_activity(
            PUBLISH_EVENT.name,
            _typed(PUBLISH_EVENT, event),
            start_to_close_timeout=CPU_START_TO_CLOSE,
            schedule_to_close_timeout=EVENT_SCHEDULE_TO_CLOSE,
            retry_policy=EVENT_RETRY,
        )
        return
    await workflow.execute_activity(
        PUBLISH_EVENT.name,
        _typed(PUBLISH_EVENT, event),
        task_queue=params.cpu_task_queue,
        start_to_close_timeout=CPU_START_TO_CLOSE,
        schedule_to_close_timeout=EVENT_SCHEDULE_TO_CLOSE,
        retry_policy=EVENT_RETRY,
    )


@dataclass
class Progress:
    """The run's status and stage, as its Query and search attributes show them."""

    status: Status = Status.PENDING
    stage: Stage = Stage.HOLD_DETECTION
    percent: float = 0.0
    last_error: str | None = None
    #: What the run waits for besides its steps (`run_database_step`), else None.
    waiting_for: str | None = None

    def enter(self, stage: Stage) -> None:
        self.stage = stage
        self.percent = STAGE_PERCENT[stage]
        workflow.upsert_search_attributes([ANALYSIS_STAGE.value_set(stage.value)])

    def upsert(self) -> None:
        workflow.upsert_search_attributes(
            [
                ANALYSIS_STATUS.value_set(self.status.value),
                ANALYSIS_STAGE.value_set(self.stage.value),
            ]
        )


@dataclass
class LegacyJobs:
    """Legacy jobs answered by this run: their ids become the events' job ids."""

    first_job: str | None = None
    job_ids: dict[Stage, str] = field(default_factory=dict)
    completed: set[Stage] = field(default_factory=set)

    def attach(self, job: LegacyJobInput) -> None:
        if self.first_job is None:
            self.first_job = job.job_id
        for stage in job.stages:
            self.job_ids[stage] = job.job_id

    def job_for(self, stage: Stage, analysis_id: str) -> str:
        return self.job_ids.get(stage) or self.first_job or analysis_id


def _typed(activity: ActivitySpec[InT, OutT], arg: InT) -> InT:
    """``arg``, checked by mypy against what ``activity`` takes."""
    return arg
