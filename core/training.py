"""One owner of a training-program request's start: its workflow input, id and search attributes.

The API and the legacy ingress both start `TrainingProgramWorkflow` here (named by the strings of
`schema.names`: the ground floor must not import `workflows`). A repeated start of one job (a
redelivered legacy message) attaches to its run while it goes and is refused once it has closed
(`temporalio.exceptions.WorkflowAlreadyStartedError`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)

from core.settings import Settings
from schema import names
from schema.training import TrainingProgramInput, TrainingProgramResult

_USER_ID = SearchAttributeKey.for_keyword(names.USER_ID_ATTRIBUTE)


def training_input(
    user_id: str,
    job_id: str,
    profile: Mapping[str, Any],
    settings: Settings,
    *,
    legacy_job: bool = False,
) -> TrainingProgramInput:
    return TrainingProgramInput(
        user_id=user_id,
        job_id=job_id,
        profile={key: value for key, value in profile.items() if key != "history"},
        bucket=settings.bucket,
        legacy_job=legacy_job,
    )


async def start_training_program(
    client: Client,
    params: TrainingProgramInput,
    *,
    task_queue: str,
    memo: Mapping[str, Any] | None = None,
    rpc_timeout: timedelta | None = None,
) -> WorkflowHandle[Any, TrainingProgramResult]:
    return await client.start_workflow(
        names.TRAINING_WORKFLOW,
        params,
        id=names.training_workflow_id(params.job_id),
        task_queue=task_queue,
        result_type=TrainingProgramResult,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        search_attributes=TypedSearchAttributes([SearchAttributePair(_USER_ID, params.user_id)]),
        memo=memo,
        rpc_timeout=rpc_timeout,
    )
