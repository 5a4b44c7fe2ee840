"""The CPU worker: the workflows (video analysis, route holds, training programs) and the
bookkeeping activities around them.

It holds the workflow (orchestration is cheap and scales with analyses, not with GPUs) and the
activities that talk to PostgreSQL, object storage and RabbitMQ. Vision work lives on the GPU queue.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.cleanup import StorageCleanup
from activities.events import EventActivities
from activities.records import AnalysisRecords
from activities.regeneration import TrainingRegeneration
from activities.route_holds import RouteHoldsHandOver
from activities.training import TrainingActivities
from activities.uploads import UploadCleanup
from core.db import create_schema, make_engine
from core.events import EventPublisher
from core.settings import Settings
from core.storage import ObjectStore, make_object_store
from workflows.route_holds import RouteHoldsWorkflow
from workflows.storage_cleanup import StorageCleanupWorkflow
from workflows.training_program import TrainingProgramWorkflow
from workflows.video_analysis import VideoAnalysisWorkflow

#: Every workflow the CPU worker hosts: what it runs, and what `worker_cpu.replay` replays.
WORKFLOWS: list[type] = [
    VideoAnalysisWorkflow,
    RouteHoldsWorkflow,
    TrainingProgramWorkflow,
    StorageCleanupWorkflow,
]


@dataclass
class CpuResources:
    """Connections the CPU activities share; opened once per worker process."""

    engine: AsyncEngine
    store: ObjectStore
    publisher: EventPublisher | None


@contextlib.asynccontextmanager
async def open_cpu_resources(
    settings: Settings, *, create_tables: bool = False
) -> AsyncIterator[CpuResources]:
    engine = make_engine(settings.effective_database_url)
    if create_tables:
        await create_schema(engine)
    store = make_object_store(settings)
    publisher = EventPublisher(settings.amqp_url) if settings.amqp_url else None
    try:
        yield CpuResources(engine, store, publisher)
    finally:
        if publisher is not None:
            publisher.close()
        await store.close()
        await engine.dispose()


def cpu_activities(resources: CpuResources, client: Client) -> list[Any]:
    """The CPU activities; ``client`` lets a completed analysis start its climber's training
    program's regeneration (`activities.regeneration`)."""
    records = AnalysisRecords(resources.engine, resources.store)
    training = TrainingActivities(resources.engine, resources.store, resources.publisher)
    regeneration = TrainingRegeneration(resources.engine, resources.store, client)
    return [
        records.record_analysis_status,
        records.persist_results,
        records.save_route_holds,
        UploadCleanup(resources.store).cleanup_upload,
        EventActivities(resources.publisher, resources.engine).publish_event,
        training.generate_training_program,
        training.persist_training_program,
        training.publish_training_event,
        regeneration.request_training_regeneration,
        RouteHoldsHandOver(client).hand_over_route_holds,
        *_cleanup_activities(resources),
    ]


def _cleanup_activities(resources: CpuResources) -> list[Any]:
    cleanup = StorageCleanup(resources.engine, resources.store)
    return [cleanup.expire_unsaved_uploads, cleanup.remove_orphaned_payloads]


def build_cpu_worker(
    client: Client, resources: CpuResources, *, task_queue: str, **options: Any
) -> Worker:
    """The worker for ``task_queue``; ``options`` pass through to `Worker` (tuning, tests)."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=cpu_activities(resources, client),
        **options,
    )
