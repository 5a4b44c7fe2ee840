"""A completed analysis refreshes its climber's training program (issue 16, item 2).

Why a request from the analysis workflow on completion rather than a Temporal Schedule: the
analysis is the only thing that changes the history a plan reads, and it knows the moment its
result document is stored. A schedule would regenerate every climber's program on a timer,
finding nothing new for most of them and leaving the rest stale until it fires; this runs once
per completed analysis, for that one climber, seconds after the result exists.

The workflow cannot signal-with-start from its own code, so it schedules this activity, which
starts `TrainingProgramWorkflow` through `core.training` (the API's and the ingress's start).
Idempotent by the workflow id policy: the job id is derived from the analysis id
(`regeneration_job_id`), and the start attaches to that job's run while it goes and is refused
once it has closed, so a retried activity, a replayed analysis or a redriven one never makes a
second program for the same analysis. Whether the picture changed is the persist step's call: a
plan identical to the latest one is not stored again.

Only climbers who asked for training get one: a stored profile, else the profile echoed in their
latest program's document (a program made from a one-off profile). Others are skipped.
"""

from __future__ import annotations

import gzip
import json
import logging
import uuid
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from core.db import session_scope
from core.storage import ObjectNotFound, ObjectStore
from core.training import start_training_program
from schema import names
from schema.activities import REQUEST_TRAINING_REGENERATION
from schema.models import TrainingProfileRecord, TrainingProgram
from schema.training import RegenerateProgramInput, RegenerationRequested, TrainingProgramInput

log = logging.getLogger(__name__)

#: Namespace of the job ids derived from analysis ids (uuid5): stable across processes.
REGENERATION_NAMESPACE: Final = uuid.UUID("6f1d3a52-8a0e-4c1b-9b7e-2f4a5c6d7e80")
#: Memo on the regeneration's run, so the Web UI shows which analysis caused it.
REGENERATED_AFTER_MEMO: Final = "regenerated_after_analysis"


def regeneration_job_id(analysis_id: str) -> str:
    """The training job an analysis's completion starts: the same id for every attempt."""
    return str(uuid.uuid5(REGENERATION_NAMESPACE, f"analysis:{analysis_id}"))


class TrainingRegeneration:
    """Bound to the worker's database, object store and Temporal client."""

    def __init__(self, engine: AsyncEngine, store: ObjectStore, client: Client) -> None:
        self._engine = engine
        self._store = store
        self._client = client

    async def _profile(self, user_id: uuid.UUID, bucket: str) -> dict[str, Any] | None:
        """The stored profile, else the one the latest program was made from, else None."""
        async with session_scope(self._engine) as session:
            record = await session.get(TrainingProfileRecord, user_id)
            if record is not None:
                return dict(record.profile)
            latest = (
                await session.exec(
                    select(TrainingProgram)
                    .where(TrainingProgram.user_id == user_id)
                    .order_by(col(TrainingProgram.created_at).desc())
                    .limit(1)
                )
            ).first()
        if latest is None:
            return None
        try:
            raw = await self._store.get_bytes(bucket, latest.document_key)
        except ObjectNotFound:
            return None  # the document went with the climber's data; nothing to start from
        profile = json.loads(gzip.decompress(raw)).get("profile")
        return dict(profile) if isinstance(profile, dict) else None

    @activity.defn(name=REQUEST_TRAINING_REGENERATION.name)
    async def request_training_regeneration(
        self, params: RegenerateProgramInput
    ) -> RegenerationRequested:
        """Start the program's regeneration for the analysis's climber, once per analysis."""
        try:
            user_id = uuid.UUID(params.user_id)
        except ValueError:
            raise ApplicationError(
                f"user id {params.user_id!r} is not a UUID",
                type=names.INVALID_TRAINING_PROFILE,
                non_retryable=True,
            ) from None
        profile = await self._profile(user_id, params.bucket)
        if profile is None:
            return RegenerationRequested(skipped_reason="the climber has no training profile")
        job_id = regeneration_job_id(params.analysis_id)
        try:
            await start_training_program(
                self._client,
                # The profile's own ``history`` is ignored: generation reads the analyses.
                TrainingProgramInput(params.user_id, job_id, profile, params.bucket),
                task_queue=params.cpu_task_queue,
                memo={REGENERATED_AFTER_MEMO: params.analysis_id},
            )
        except WorkflowAlreadyStartedError:
            log.info("training job %s for analysis %s already ran", job_id, params.analysis_id)
        return RegenerationRequested(job_id=job_id)
