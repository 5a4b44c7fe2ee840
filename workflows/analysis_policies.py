"""The analysis workflow's fixed choices: activity retry policies and timeouts, the search
attributes it keeps up to date, each stage's progress percent and label, and the messages a
climber reads when a step fails.

Pure data and functions: no workflow state, nothing that touches history.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    FailureError,
    TimeoutType,
)
from temporalio.exceptions import (
    TimeoutError as ActivityTimeoutError,
)
from temporalio.workflow import unsafe

with unsafe.imports_passed_through():
    from schema import names
    from schema.analysis import Stage

ANALYSIS_ID = SearchAttributeKey.for_keyword(names.ANALYSIS_ID_ATTRIBUTE)
USER_ID = SearchAttributeKey.for_keyword(names.USER_ID_ATTRIBUTE)
ANALYSIS_STATUS = SearchAttributeKey.for_keyword(names.ANALYSIS_STATUS_ATTRIBUTE)
ANALYSIS_STAGE = SearchAttributeKey.for_keyword(names.ANALYSIS_STAGE_ATTRIBUTE)

# --- Activity policies --------------------------------------------------------------------------
#: Bounded retries with backoff; bad input is excluded because no retry can fix it.
GPU_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=4,
    non_retryable_error_types=list(names.BAD_INPUT_ERRORS),
)
#: Long steps heartbeat; a worker that dies is noticed within this and the step moves on.
HEARTBEAT = timedelta(seconds=30)
STAGE_START_TO_CLOSE = {
    Stage.HOLD_DETECTION: timedelta(minutes=2),
    Stage.SKELETON: timedelta(minutes=20),
    Stage.ADVICE: timedelta(minutes=5),
    Stage.GHOST: timedelta(minutes=10),
}
CPU_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=10,
)
CPU_START_TO_CLOSE = timedelta(seconds=30)
#: Events must outlast a broker outage: retry (unbounded attempts) for up to a day.
EVENT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)
EVENT_SCHEDULE_TO_CLOSE = timedelta(days=1)
#: Bookkeeping steps that write the app's PostgreSQL rows (`analysis_steps.DATABASE_STEPS`),
#: under `DATABASE_OUTAGE_PATCH`: unbounded attempts, backoff capped at 30 s (a database that is
#: back is used within 30 s), for as long as the run's `StartAnalysisInput.database_outage_s`
#: allows (`database_windows`). Bad input and an unknown row still fail at once: no retry can
#: fix them (the activities also raise them non-retryable).
DATABASE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=[*names.BAD_INPUT_ERRORS, names.UNKNOWN_RECORD],
)
#: The longest a database step retries as a local activity before it continues as a regular
#: one: the SDK's local retry threshold (retries inside it are in-process backoffs on the
#: worker, which holds the workflow task meanwhile).
LOCAL_DATABASE_WINDOW = timedelta(minutes=1)


def database_windows(outage_s: float) -> tuple[timedelta, timedelta]:
    """The local activity's window and the regular activity's, for a run that waits
    ``outage_s`` for its database (`StartAnalysisInput.database_outage_s`).

    Why a regular activity past the first minute, rather than one local activity whose
    schedule-to-close covers the whole outage (Temporal's two answers for a local activity that
    may need longer than its retry window): a long local retry either holds the workflow task
    (heartbeated every few seconds, three history events each time) or backs off on workflow
    timers (events per attempt), and its attempts show nowhere while they run. A regular
    activity retries on the server's durable timers with nothing added to history, shows in the
    Web UI and in DescribeWorkflowExecution as a pending activity with its attempt and its last
    failure (the database's own error), and survives a worker restart mid-outage; its one round
    trip is paid only during an outage. The local tenth (at most a minute) still absorbs a
    restart or a failover without any round trip.
    """
    outage = timedelta(seconds=outage_s)
    return min(LOCAL_DATABASE_WINDOW, outage / 10), outage


def local_database_retry(window: timedelta) -> RetryPolicy:
    """`DATABASE_RETRY` for the local part: as many attempts as its backoff fits in ``window``.

    Bounded by attempts, not by the local activity's schedule-to-close alone: the SDK (1.35)
    kept retrying a failing local activity in the worker past its schedule-to-close.
    """
    attempts, waited, backoff = 1, 0.0, DATABASE_RETRY.initial_interval.total_seconds()
    ceiling = (DATABASE_RETRY.maximum_interval or timedelta(seconds=30)).total_seconds()
    while waited + backoff <= window.total_seconds():
        attempts, waited = attempts + 1, waited + backoff
        backoff = min(backoff * DATABASE_RETRY.backoff_coefficient, ceiling)
    return dataclasses.replace(DATABASE_RETRY, maximum_attempts=attempts)


#: Percent done when each stage starts, for the app's progress bar.
STAGE_PERCENT = {
    Stage.HOLD_DETECTION: 0.0,
    Stage.HOLD_VALIDATION: 10.0,
    Stage.SKELETON: 15.0,
    Stage.ADVICE: 60.0,
    Stage.GHOST: 75.0,
    Stage.ANALYSIS: 95.0,
}
STAGE_LABEL = {
    Stage.HOLD_DETECTION: "hold detection",
    Stage.HOLD_VALIDATION: "hold validation",
    Stage.SKELETON: "skeleton extraction",
    Stage.ADVICE: "coaching advice",
    Stage.GHOST: "ghost climber",
    Stage.ANALYSIS: "analysis",
}
#: `workflow.patched` id: a cancellation requested through Temporal while an activity runs ends
#: the run as Canceled (runs recorded before it failed with the cancelled step).
CANCELLED_DURING_A_STEP_PATCH = "cancelled-during-a-step-ends-canceled"
#: `workflow.patched` id: a completed analysis asks for its climber's training program to be
#: regenerated (`activities.regeneration`); runs recorded before it end without asking.
REGENERATE_TRAINING_PATCH = "completed-analysis-regenerates-training"
#: `workflow.patched` id: an analysis started while its route's own run detects or awaits the
#: climber waits for that run's map (`StartAnalysisInput.route_holds_workflow_id`).
WAIT_FOR_ROUTE_HOLDS_PATCH = "analysis-waits-for-route-holds"
#: `workflow.patched` id: an analysis hands the map its climber validated to the route's run,
#: the one writer of ``routes.hold_map``, instead of storing it itself.
ONE_ROUTE_MAP_WRITER_PATCH = "route-holds-run-writes-route-map"
#: `workflow.patched` id: the analysis's bookkeeping steps (status rows, events, the result's
#: persistence, the training-regeneration request, the upload's cleanup) run as local
#: activities on the workflow's own worker (`analysis_steps.BOOKKEEPING`); runs recorded before
#: it schedule each through the CPU task queue.
LOCAL_BOOKKEEPING_PATCH = "bookkeeping-as-local-activities"
#: `workflow.patched` id (both workflows that wait for the climber): ``hold_detection.completed``
#: is published once the run awaits the validation (status, row and deadline), so a correction
#: sent the moment the holds are announced is taken; runs recorded before announced first and
#: refused a correction that came before their wait.
HOLDS_AWAITED_BEFORE_ANNOUNCED_PATCH = "holds-awaited-before-announced"
#: `workflow.patched` id: the bookkeeping steps that write PostgreSQL (statuses, the results,
#: the failure's record) outlast a database outage of ``database_outage_s`` (`DATABASE_RETRY`,
#: `database_windows`) instead of failing the analysis after ten local attempts (about 2.5
#: min), and a failure or cancel whose record cannot be written in that time is still
#: published before the run fails (`names.ANALYSIS_END_NOT_RECORDED`); runs recorded before it
#: keep the ten local attempts.
DATABASE_OUTAGE_PATCH = "bookkeeping-outlasts-database-outage"


def explain(err: ActivityError, stage: Stage, gpu_schedule_to_start_s: float) -> str:
    """A message the climber understands, from the activity failure Temporal reports."""
    label = STAGE_LABEL[stage]
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type in names.BAD_INPUT_ERRORS:
        return cause.message
    if isinstance(cause, ActivityTimeoutError):
        if cause.type == TimeoutType.SCHEDULE_TO_START:
            waited = timedelta(seconds=gpu_schedule_to_start_s)
            return (
                f"no analysis server picked up the {label} step within {duration(waited)}; "
                "please try again later"
            )
        return f"the {label} step took too long and was stopped"
    message = cause.message if isinstance(cause, FailureError) else str(err)
    return f"the {label} step failed after several attempts: {message}"


def duration(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"
