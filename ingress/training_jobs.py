"""Seed-000 ``training.program`` jobs mapped onto `TrainingProgramWorkflow`.

The seed's job is ``{job_id, user_id, goals, injuries?, created_at?}``; producers may add any
profile field (``level``, ``days_per_week``, ...) at the top level or as a ``profile`` object. The
profile used is the climber's stored one (``PUT /api/v1/training/profile``) overlaid with the
job's fields; it is checked by the engine before anything starts, so a job that can never make a
program (unknown goal, no level anywhere) is parked with the engine's reason. The run is
``training-{job_id}``: a redelivery attaches to it while it runs and is acked once it has closed
(its ``training.completed``/``failed`` was already published with that job id).
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError

from core.db import session_scope
from core.settings import Settings
from core.training import start_training_program, training_input
from engines.training import TrainingInputError, profile_from_dict
from schema import names
from schema.models import TrainingProfileRecord, User

log = logging.getLogger(__name__)

TRAINING_QUEUE: Final = "training.program"
#: Top-level job fields read as profile fields (the seed's ``goals`` and ``injuries`` included).
PROFILE_FIELDS: Final = (
    "level",
    "level_system",
    "age",
    "days_per_week",
    "session_minutes",
    "goals",
    "target_grade",
    "injuries",
    "equipment",
)


class LegacyTrainingJob(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    job_id: uuid.UUID
    user_id: uuid.UUID
    profile: dict[str, Any] | None = None


async def map_training_job(
    body: bytes,
    *,
    client: Client,
    engine: AsyncEngine,
    settings: Settings,
    bad_job: type[Exception],
    rpc_timeout: Any = None,
) -> str:
    """Start (or attach to) the job's run and return its workflow id; ``bad_job`` for a message
    that can never work (the consumer parks it with the text as the reason)."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise bad_job(f"not JSON: {err}") from None
    if not isinstance(data, dict):
        raise bad_job(f"not a JSON object but a {type(data).__name__}")
    try:
        job = LegacyTrainingJob.model_validate(data)
    except ValidationError as err:
        raise bad_job(
            "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or 'message'}: {error['msg']}"
                for error in err.errors()
            )
        ) from None
    async with session_scope(engine) as session:
        if await session.get(User, job.user_id) is None:
            raise bad_job(f"user_id: unknown user {job.user_id}")
        stored = await session.get(TrainingProfileRecord, job.user_id)
    profile: dict[str, Any] = dict(stored.profile) if stored is not None else {}
    profile.update({key: data[key] for key in PROFILE_FIELDS if key in data})
    profile.update(job.profile or {})
    try:
        profile_from_dict(profile)
    except TrainingInputError as err:
        allowed = f"; allowed: {', '.join(err.allowed)}" if err.allowed else ""
        raise bad_job(f"{err.field}: {err}{allowed if 'allowed' not in str(err) else ''}") from None
    params = training_input(str(job.user_id), str(job.job_id), profile, settings, legacy_job=True)
    workflow_id = names.training_workflow_id(str(job.job_id))
    try:
        await start_training_program(
            client,
            params,
            task_queue=settings.cpu_task_queue,
            memo={"legacy_job_id": str(job.job_id), "legacy_queue": TRAINING_QUEUE},
            rpc_timeout=rpc_timeout,
        )
    except WorkflowAlreadyStartedError:
        log.info("training job %s: its run has already finished", job.job_id)
    return workflow_id
