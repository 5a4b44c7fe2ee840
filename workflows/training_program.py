"""TrainingProgramWorkflow: one durable run per training-program request, on the CPU queue.

Generate (profile + the climber's latest analysed climbs → plan document in the bucket), persist
(a `training_programs` row unless the latest program is the same plan), then publish
``training.completed.{job_id}``. A failure publishes ``training.failed.{job_id}`` with a reason the
climber understands and fails the run, so support staff see it in the Web UI. A profile the
generator refuses (unknown goal, grade, ...) is never retried.

The workflow id is `names.training_workflow_id(job_id)`: one run per request, not per user. Each
request (an API call, a legacy ``training.program`` job) is owed its own completion event, which
attaching a second request to a user's running run could not give; a redelivered legacy job finds
its own run by the same id. Two requests of one climber at once cost one more millisecond-scale
generation, and the identical plan is stored once.

Regeneration: a completed analysis starts one for its climber (`activities.regeneration`, with
the job id derived from the analysis, so it is started once); the API's "create a program" also
regenerates from the latest history.

Deterministic and light by construction: this module imports only data classes and names.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from schema import names
    from schema.training import (
        GeneratedProgram,
        GenerateProgramInput,
        PersistProgramInput,
        PersistProgramResult,
        TrainingEvent,
        TrainingProgramInput,
        TrainingProgramResult,
    )

CPU_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=10,
    non_retryable_error_types=[names.INVALID_TRAINING_PROFILE],
)
#: Events must outlast a broker outage: retry (unbounded attempts) for up to a day.
EVENT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)
EVENT_SCHEDULE_TO_CLOSE = timedelta(days=1)


@workflow.defn(name=names.TRAINING_WORKFLOW)
class TrainingProgramWorkflow:
    @workflow.run
    async def run(self, params: TrainingProgramInput) -> TrainingProgramResult:
        try:
            generated: GeneratedProgram = await workflow.execute_activity(
                names.GENERATE_TRAINING_PROGRAM,
                GenerateProgramInput(
                    params.user_id,
                    params.job_id,
                    params.profile,
                    params.bucket,
                    params.history_limit,
                ),
                result_type=GeneratedProgram,
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=CPU_RETRY,
                summary=f"generate the training program of job {params.job_id}",
            )
            persisted: PersistProgramResult = await workflow.execute_activity(
                names.PERSIST_TRAINING_PROGRAM,
                PersistProgramInput(params.user_id, params.job_id, generated),
                result_type=PersistProgramResult,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=CPU_RETRY,
            )
        except ActivityError as err:
            reason = _explain(err)
            await self._publish(params, "failed", reason=reason)
            raise ApplicationError(reason, type=names.TRAINING_FAILED, non_retryable=True) from None
        await self._publish(params, "completed", program_id=persisted.program_id)
        return TrainingProgramResult(
            job_id=params.job_id,
            program_id=persisted.program_id,
            stored=persisted.stored,
            document_key=generated.document_key,
            conflicts=list(generated.conflicts),
        )

    async def _publish(
        self,
        params: TrainingProgramInput,
        outcome: str,
        *,
        program_id: str | None = None,
        reason: str | None = None,
    ) -> None:
        event = TrainingEvent(
            job_id=params.job_id,
            user_id=params.user_id,
            outcome=outcome,
            occurred_at=workflow.now().isoformat(),
            program_id=program_id,
            reason=reason,
        )
        await workflow.execute_activity(
            names.PUBLISH_TRAINING_EVENT,
            event,
            start_to_close_timeout=timedelta(seconds=30),
            schedule_to_close_timeout=EVENT_SCHEDULE_TO_CLOSE,
            retry_policy=EVENT_RETRY,
        )


def _explain(err: ActivityError) -> str:
    """A message the climber understands, from the activity failure Temporal reports."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type == names.INVALID_TRAINING_PROFILE:
        return cause.message
    message = cause.message if isinstance(cause, FailureError) else str(err)
    return f"the training program could not be made after several attempts: {message}"
