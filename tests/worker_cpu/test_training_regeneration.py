"""A completed analysis regenerates its climber's training program (issue 16, item 2).

The production CPU worker against real PostgreSQL, MinIO and the Temporal dev server, with only
the GPU activities doubled: the analysis stores its result document, asks for the regeneration,
and `TrainingProgramWorkflow` makes a new program version whose history reads that document and
whose document cites the analysis.
"""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import AsyncIterator

import jsonschema
import pytest
from sqlmodel import col, select
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from activities.regeneration import TrainingRegeneration, regeneration_job_id
from core.analyses import start_or_attach
from core.db import session_scope
from core.storage import make_object_store
from core.temporal_client import connect_temporal
from core.training import start_training_program, training_input
from schema import names
from schema.analysis import Status
from schema.models import TrainingProfileRecord, TrainingProgram
from schema.training import RegenerateProgramInput
from tests.engines.training.archetypes import INTERMEDIATE_POWER
from tests.engines.training.test_document import SCHEMA as PROGRAM_SCHEMA
from tests.engines.training.test_document import closed
from tests.utils.pipeline import FakePipeline, analysis_input, gpu_worker
from tests.utils.records import SeededAnalysis, seed_analysis
from worker_cpu.worker import CpuResources, build_cpu_worker, open_cpu_resources

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def resources(stack_settings) -> AsyncIterator[CpuResources]:
    async with open_cpu_resources(stack_settings, create_tables=True) as res:
        await res.store.ensure_bucket(stack_settings.bucket)
        yield res


@pytest.fixture(scope="module")
async def client(temporal_dev_env: WorkflowEnvironment, stack_settings, resources) -> Client:
    target = temporal_dev_env.client.service_client.config.target_host
    return await connect_temporal(stack_settings, resources.store, target=target)


async def _programs(resources: CpuResources, user_id: str) -> list[TrainingProgram]:
    async with session_scope(resources.engine) as session:
        found = await session.exec(
            select(TrainingProgram)
            .where(TrainingProgram.user_id == uuid.UUID(user_id))
            .order_by(col(TrainingProgram.created_at))
        )
        return list(found.all())


async def _document(resources: CpuResources, bucket: str, program: TrainingProgram) -> dict:
    return json.loads(
        gzip.decompress(await resources.store.get_bytes(bucket, program.document_key))
    )


async def _analyse(
    client: Client, resources: CpuResources, settings, task_queue: str, seeded: SeededAnalysis
) -> None:
    """Run the seeded analysis to completion on the route's validated map."""
    fake = FakePipeline(store=make_object_store(settings))
    params = analysis_input(
        task_queue,
        analysis_id=seeded.analysis_id,
        user_id=seeded.user_id,
        video_id=seeded.video_id,
        video_key=seeded.video_key,
        route_id=seeded.route_id,
        bucket=settings.bucket,
        route_hold_map=fake.hold_map,
    )
    async with (
        build_cpu_worker(client, resources, task_queue=params.cpu_task_queue),
        gpu_worker(client, task_queue, fake),
    ):
        result = await (await start_or_attach(client, params)).result()
        assert result.status is Status.COMPLETED
        # The regeneration was started before the analysis ended; it runs on the same queue.
        job_id = regeneration_job_id(seeded.analysis_id)
        handle = client.get_workflow_handle(names.training_workflow_id(job_id))
        try:
            await handle.result()
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
    assert fake.store is not None
    await fake.store.close()


async def test_a_completed_analysis_makes_a_new_program_version_citing_it(
    client: Client, resources: CpuResources, stack_settings, task_queue: str
) -> None:
    bucket = stack_settings.bucket
    seeded = await seed_analysis(resources.engine)
    user = seeded.user_id
    async with session_scope(resources.engine) as session:
        session.add(TrainingProfileRecord(user_id=uuid.UUID(user), profile=INTERMEDIATE_POWER))
        await session.commit()
    # The climber's first program, before any analysis.
    first_job = str(uuid.uuid4())
    async with build_cpu_worker(client, resources, task_queue=f"{task_queue}-cpu"):
        first = training_input(user, first_job, INTERMEDIATE_POWER, stack_settings)
        await (await start_training_program(client, first, task_queue=f"{task_queue}-cpu")).result()
    [before] = await _programs(resources, user)
    assert (await _document(resources, bucket, before))["sources"] == {"analyses": []}

    await _analyse(client, resources, stack_settings, task_queue, seeded)

    programs = await _programs(resources, user)
    assert [str(p.id) for p in programs] == [first_job, regeneration_job_id(seeded.analysis_id)]
    latest = programs[-1]
    assert (before.analyses_used, latest.analyses_used) == (0, 1)
    assert latest.plan_sha256 != before.plan_sha256
    document = await _document(resources, bucket, latest)
    assert document["sources"] == {"analyses": [seeded.analysis_id]}
    assert document["profile"]["history"]["analyses"] == 1
    # The stored document, `sources` included, is what the published schema documents.
    jsonschema.Draft202012Validator(closed(PROGRAM_SCHEMA)).validate(document)

    # Idempotent: the same analysis asking again (a retried activity, a redriven analysis)
    # finds its job's closed run and makes nothing new.
    again = await TrainingRegeneration(
        resources.engine, resources.store, client
    ).request_training_regeneration(
        RegenerateProgramInput(user, seeded.analysis_id, bucket, f"{task_queue}-cpu")
    )
    assert again.job_id == regeneration_job_id(seeded.analysis_id)
    assert len(await _programs(resources, user)) == 2


async def test_a_climber_without_a_profile_or_program_gets_none(
    client: Client, resources: CpuResources, stack_settings, task_queue: str
) -> None:
    seeded = await seed_analysis(resources.engine)
    await _analyse(client, resources, stack_settings, task_queue, seeded)

    assert await _programs(resources, seeded.user_id) == []
    job_id = regeneration_job_id(seeded.analysis_id)
    with pytest.raises(RPCError) as missing:
        await client.get_workflow_handle(names.training_workflow_id(job_id)).describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND


async def test_a_program_made_from_a_one_off_profile_is_regenerated_from_it(
    client: Client, resources: CpuResources, stack_settings, task_queue: str
) -> None:
    """No stored profile, but a program: its document's profile is the one regenerated."""
    seeded = await seed_analysis(resources.engine)
    user = seeded.user_id
    first_job = str(uuid.uuid4())
    async with build_cpu_worker(client, resources, task_queue=f"{task_queue}-cpu"):
        first = training_input(user, first_job, INTERMEDIATE_POWER, stack_settings)
        await (await start_training_program(client, first, task_queue=f"{task_queue}-cpu")).result()

    await _analyse(client, resources, stack_settings, task_queue, seeded)

    programs = await _programs(resources, user)
    assert len(programs) == 2
    document = await _document(resources, stack_settings.bucket, programs[-1])
    assert document["sources"] == {"analyses": [seeded.analysis_id]}
    assert document["profile"]["goals"] == INTERMEDIATE_POWER["goals"]
