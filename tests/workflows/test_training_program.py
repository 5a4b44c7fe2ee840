"""TrainingProgramWorkflow on the time-skipping test server, with the production activities.

The activities run against a SQLite database and the local-folder object store (the embedded
default), so generation, the stored document and the deduplicated row are the real ones; only
the broker is a recorder.
"""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.training import TrainingActivities
from core.db import make_engine, migrate, session_scope
from core.events import EventPublisher
from core.storage import LocalObjectStore
from schema import names
from schema.models import TrainingProgram
from schema.training import TrainingProgramInput, TrainingProgramResult
from tests.engines.training.archetypes import INTERMEDIATE_POWER, SEVEN_SHORT_SESSIONS_POWER
from workflows.training_program import TrainingProgramWorkflow

pytestmark = pytest.mark.integration

BUCKET = "ascension-videos"


class RecordingPublisher:
    """Stands in for `EventPublisher`: keeps what would have been published."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def publish_json(self, routing_key: str, body: dict[str, Any], **_: Any) -> None:
        self.events.append((routing_key, body))


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
    await migrate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def store(tmp_path: Path) -> LocalObjectStore:
    store = LocalObjectStore(tmp_path / "store")
    await store.ensure_bucket(BUCKET)
    return store


async def _run(
    env: WorkflowEnvironment,
    task_queue: str,
    activities: TrainingActivities,
    params: TrainingProgramInput,
) -> TrainingProgramResult:
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[TrainingProgramWorkflow],
        activities=[
            activities.generate_training_program,
            activities.persist_training_program,
            activities.publish_training_event,
        ],
    ):
        return await env.client.execute_workflow(
            TrainingProgramWorkflow.run,
            params,
            id=names.training_workflow_id(params.job_id),
            task_queue=task_queue,
        )


def _input(user_id: str, profile: dict[str, Any]) -> TrainingProgramInput:
    return TrainingProgramInput(
        user_id=user_id, job_id=str(uuid.uuid4()), profile=profile, bucket=BUCKET
    )


async def test_a_program_is_generated_stored_once_and_announced(
    time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    engine: AsyncEngine,
    store: LocalObjectStore,
) -> None:
    publisher = RecordingPublisher()
    activities = TrainingActivities(engine, store, cast(EventPublisher, publisher))
    user = str(uuid.uuid4())
    first = _input(user, INTERMEDIATE_POWER)
    result = await _run(time_skipping_env, task_queue, activities, first)

    assert (result.program_id, result.stored) == (first.job_id, True)
    assert result.document_key == names.training_program_key(user, result.document_key[-72:-8])
    document = json.loads(gzip.decompress(await store.get_bytes(BUCKET, result.document_key)))
    assert document["format"] == "ascension.training_program"
    key, body = publisher.events[-1]
    assert key == f"training.completed.{first.job_id}"
    assert body["status"] == "completed" and body["program_id"] == first.job_id

    # The same profile and history again: the same plan, announced, not stored twice.
    second = _input(user, INTERMEDIATE_POWER)
    again = await _run(time_skipping_env, task_queue, activities, second)
    assert (again.program_id, again.stored) == (first.job_id, False)
    assert publisher.events[-1][0] == f"training.completed.{second.job_id}"
    async with session_scope(engine) as session:
        rows = (await session.exec(select(TrainingProgram))).all()
    assert [str(row.id) for row in rows] == [first.job_id]


async def test_contradictory_constraints_give_a_plan_with_its_conflicts(
    time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    engine: AsyncEngine,
    store: LocalObjectStore,
) -> None:
    publisher = RecordingPublisher()
    activities = TrainingActivities(engine, store, cast(EventPublisher, publisher))
    params = _input(str(uuid.uuid4()), SEVEN_SHORT_SESSIONS_POWER)
    result = await _run(time_skipping_env, task_queue, activities, params)
    assert result.conflicts
    assert publisher.events[-1][0] == f"training.completed.{params.job_id}"


async def test_a_bad_profile_fails_at_once_and_publishes_training_failed(
    time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    engine: AsyncEngine,
    store: LocalObjectStore,
) -> None:
    publisher = RecordingPublisher()
    activities = TrainingActivities(engine, store, cast(EventPublisher, publisher))
    params = _input(str(uuid.uuid4()), {**INTERMEDIATE_POWER, "goals": ["flying"]})
    with pytest.raises(WorkflowFailureError) as failed:
        await _run(time_skipping_env, task_queue, activities, params)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == names.TRAINING_FAILED and cause.non_retryable
    assert "flying" in cause.message and "finger_strength" in cause.message
    assert publisher.events == [
        (
            f"training.failed.{params.job_id}",
            {
                "job_id": params.job_id,
                "status": "failed",
                "user_id": params.user_id,
                "stage": "training",
                "occurred_at": publisher.events[0][1]["occurred_at"],
                "schema_version": 1,
                "reason": cause.message,
            },
        )
    ]
    # Non-retryable: one attempt, no backoff, no row.
    handle = time_skipping_env.client.get_workflow_handle(names.training_workflow_id(params.job_id))
    history = await handle.fetch_history()
    attempts = [
        e.activity_task_started_event_attributes.attempt
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
    ]
    assert attempts[0] == 1
    async with session_scope(engine) as session:
        assert (await session.exec(select(TrainingProgram))).all() == []
