"""CPU activities of the training-program workflow: generate a plan, persist it, publish events.

Generation reads the climber's latest analysed climbs (their stored result documents) for the
plan's history and calls the pure engine (`engines.training`); the document goes to the videos
bucket under a key named by its content, so the workflow carries only that key; beside the
engine's fields it carries ``sources.analyses``, the ids of the analyses it read (newest first),
which the engine's history only counts and averages. Persisting adds a
`TrainingProgram` row unless the climber's latest program is already this exact plan.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import logging
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.db import session_scope
from core.events import EventPublisher
from core.storage import ObjectNotFound, ObjectStore
from engines.training import (
    VERSION,
    TrainingInputError,
    encode_json,
    generate_plan,
    history_from_documents,
    plan_to_document,
    profile_from_dict,
    profile_to_dict,
)
from schema import names
from schema.analysis import Status
from schema.models import Analysis, TrainingProgram
from schema.training import (
    GeneratedProgram,
    GenerateProgramInput,
    PersistProgramInput,
    PersistProgramResult,
    TrainingEvent,
    training_event_body,
)

log = logging.getLogger(__name__)


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ApplicationError(
            f"{what} id {value!r} is not a UUID",
            type=names.INVALID_TRAINING_PROFILE,
            non_retryable=True,
        ) from None


def profile_problem(error: TrainingInputError) -> str:
    """The engine's refusal as one sentence for the climber, with the allowed values."""
    message = str(error)
    if error.allowed and "allowed" not in message:
        message = f"{message}; allowed: {', '.join(error.allowed)}"
    return message


def sha256_json(value: Any) -> str:
    return hashlib.sha256(
        json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()


class TrainingActivities:
    """Bound to the worker's database, object store and publisher (None without a broker)."""

    def __init__(
        self, engine: AsyncEngine, store: ObjectStore, publisher: EventPublisher | None
    ) -> None:
        self._engine = engine
        self._store = store
        self._publisher = publisher

    async def _history_documents(
        self, user_id: uuid.UUID, bucket: str, limit: int
    ) -> list[dict[str, Any]]:
        """The result documents of the climber's latest ``limit`` completed analyses."""
        async with session_scope(self._engine) as session:
            analyses = (
                await session.exec(
                    select(Analysis)
                    .where(Analysis.user_id == user_id, Analysis.status == Status.COMPLETED)
                    .order_by(col(Analysis.completed_at).desc(), col(Analysis.id))
                    .limit(max(0, limit))
                )
            ).all()
        documents = []
        for analysis in analyses:
            key = names.result_key(str(analysis.id), "result")
            try:
                raw = await self._store.get_bytes(bucket, key)
            except ObjectNotFound:
                continue  # deleted with its video since; the others still count
            documents.append(json.loads(gzip.decompress(raw)))
        return documents

    @activity.defn(name=names.GENERATE_TRAINING_PROGRAM)
    async def generate_training_program(self, params: GenerateProgramInput) -> GeneratedProgram:
        """Profile + analysis history → plan document in the bucket. A profile the engine
        refuses is a non-retryable `InvalidTrainingProfile` whose message lists the allowed
        values; contradictory constraints are not errors (the plan carries its conflicts)."""
        user_id = _uuid(params.user_id, "user")
        documents = await self._history_documents(user_id, params.bucket, params.history_limit)
        body = {key: value for key, value in params.profile.items() if key != "history"}
        try:
            body["history"] = _history_dict(history_from_documents(documents))
            profile = profile_from_dict(body)
            # CPU-bound for a few ms; off the loop so heartbeats and other activities go on.
            plan = await asyncio.to_thread(generate_plan, profile)
        except TrainingInputError as err:
            raise ApplicationError(
                profile_problem(err), type=names.INVALID_TRAINING_PROFILE, non_retryable=True
            ) from None
        document = plan_to_document(plan, profile)
        analysis_ids = [str(d["analysis_id"]) for d in documents if d.get("analysis_id")]
        # The history is a summary; the document also names the climbs it summarises, so the
        # climber (and a regeneration's test) sees which analyses the plan stands on.
        document["sources"] = {"analyses": analysis_ids}
        data = encode_json(document)
        plan_sha256 = hashlib.sha256(data).hexdigest()
        key = names.training_program_key(params.user_id, plan_sha256)
        if not await self._store.exists(params.bucket, key):
            await self._store.put_bytes(
                params.bucket,
                key,
                gzip.compress(data, mtime=0),
                content_type="application/json",
            )
        return GeneratedProgram(
            document_key=key,
            plan_sha256=plan_sha256,
            profile_sha256=sha256_json(profile_to_dict(profile)),
            version=VERSION,
            analyses_used=len(documents),
            weeks=len(document.get("weeks", [])),
            conflicts=[note.message for note in plan.conflicts],
            analysis_ids=analysis_ids,
        )

    @activity.defn(name=names.PERSIST_TRAINING_PROGRAM)
    async def persist_training_program(self, params: PersistProgramInput) -> PersistProgramResult:
        """Store the program, unless the climber's latest one is this same plan.

        Idempotent: the row's id is the job's, so a retry finds the row it already wrote."""
        user_id = _uuid(params.user_id, "user")
        program_id = _uuid(params.job_id, "job")
        generated = params.program
        async with session_scope(self._engine) as session:
            if await session.get(TrainingProgram, program_id) is not None:
                return PersistProgramResult(str(program_id), stored=True)
            latest = (
                await session.exec(
                    select(TrainingProgram)
                    .where(TrainingProgram.user_id == user_id)
                    .order_by(col(TrainingProgram.created_at).desc())
                    .limit(1)
                )
            ).first()
            if latest is not None and latest.plan_sha256 == generated.plan_sha256:
                return PersistProgramResult(str(latest.id), stored=False)
            session.add(
                TrainingProgram(
                    id=program_id,
                    user_id=user_id,
                    job_id=program_id,
                    document_key=generated.document_key,
                    version=generated.version,
                    profile_sha256=generated.profile_sha256,
                    plan_sha256=generated.plan_sha256,
                    analyses_used=generated.analyses_used,
                    weeks=generated.weeks,
                    conflicts=list(generated.conflicts),
                )
            )
            await session.commit()
        return PersistProgramResult(str(program_id), stored=True)

    @activity.defn(name=names.PUBLISH_TRAINING_EVENT)
    async def publish_training_event(self, event: TrainingEvent) -> None:
        """``training.{completed|failed}.{job_id}`` with a broker confirm; retried by Temporal
        while the broker is down (the message id stays the same across retries)."""
        if self._publisher is None:
            log.info("no broker configured; event %s not sent", event.routing_key)
            return
        await asyncio.to_thread(
            self._publisher.publish_json,
            event.routing_key,
            training_event_body(event),
            message_id=event.message_id,
            occurred_at=event.occurred_at,
        )


def _history_dict(history: Any) -> dict[str, Any]:
    return {
        "analyses": history.analyses,
        "advice_counts": dict(history.advice_counts),
        "metrics": dict(history.metrics),
    }
