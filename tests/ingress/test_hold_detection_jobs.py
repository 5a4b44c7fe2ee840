"""Legacy ``vision.hold_detection`` jobs through a real RabbitMQ into `RouteHoldsWorkflow`, run by
the production CPU worker (GPU activities are doubles): the job's ``hold_detection.completed``,
redeliveries that attach instead of running again, and parking with the reason."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from temporalio.client import Client

from core.analyses import submit_hold_map
from core.db import session_scope
from core.routes import route_holds_handle, route_holds_input, start_or_attach_route_holds
from core.settings import Settings
from core.storage import make_object_store
from ingress.consumer import ORIGINAL_QUEUE_HEADER, PARKING_QUEUE, REASON_HEADER, running_ingress
from ingress.jobs import JobMapper
from schema import names
from schema.analysis import Status
from schema.models import Route
from tests.ingress.helpers import climber, listen_for_jobs, publish, runs_of, take_all, until
from tests.utils.pipeline import FakePipeline, gpu_worker, wait_for_status
from worker_cpu.worker import CpuResources, build_cpu_worker

pytestmark = pytest.mark.integration

QUEUE = "vision.hold_detection"


async def test_hold_detection_jobs_start_or_attach_the_route_run_and_bad_ones_are_parked(
    client: Client,
    resources: CpuResources,
    ingress_settings: Settings,
    broker_url: str,
    amqp_url: str,
    task_queue: str,
) -> None:
    bucket = ingress_settings.bucket
    user_id, route_id = await climber(resources)
    async with session_scope(resources.engine) as session:
        route = await session.get(Route, route_id)
        assert route is not None and route.photo_key is not None
        photo_key = route.photo_key
        bare = Route(user_id=user_id, photo_key=names.route_photo_key(str(user_id), "bare"))
        session.add(bare)
        await session.commit()
    await resources.store.put_bytes(bucket, photo_key, b"wall photo")
    job_id = str(uuid.uuid4())
    good = {
        "job_id": job_id,
        "user_id": str(user_id),
        "route_id": str(route_id),
        "photo_url": f"s3://{bucket}/{photo_key}",
        "created_at": datetime.now(UTC).isoformat(),
    }

    def bad_job(**changes: str) -> bytes:
        return json.dumps({**good, "job_id": str(uuid.uuid4()), **changes}).encode()

    bad = {
        "not-json": (b"{ nope", "not JSON"),
        "no-route": (
            json.dumps({"job_id": str(uuid.uuid4()), "user_id": str(user_id)}).encode(),
            "route_id: Field required",
        ),
        "unknown-user": (bad_job(user_id=str(uuid.uuid4())), "unknown user"),
        "unknown-route": (bad_job(route_id=str(uuid.uuid4())), "has no route"),
        "no-photo": (
            bad_job(route_id=str(bare.id), photo_url=f"s3://{bucket}/{bare.photo_key}"),
            "no photo uploaded",
        ),
        "other-photo": (bad_job(photo_url="s3://elsewhere/wall.jpg"), "is not route"),
    }
    events = listen_for_jobs(amqp_url, [job_id])
    fake = FakePipeline(store=make_object_store(ingress_settings))
    mapper = JobMapper(
        client, resources.engine, resources.store, ingress_settings, publisher=resources.publisher
    )
    handle = route_holds_handle(client, str(route_id))
    async with (
        build_cpu_worker(client, resources, task_queue=ingress_settings.cpu_task_queue),
        gpu_worker(client, task_queue, fake),
        running_ingress(broker_url, mapper) as ingress,
    ):
        await until(ingress.consuming.is_set)
        publish(broker_url, QUEUE, json.dumps(good).encode(), "good")
        for message_id, (body, _) in bad.items():
            publish(broker_url, QUEUE, body, message_id)
        await until(lambda: ingress.stats.acked == 1 and ingress.stats.parked == len(bad))
        await wait_for_status(handle, Status.AWAITING_HOLD_VALIDATION)
        first_run = (await handle.describe()).run_id

        # Redelivered while the holds await the climber: attached, no second detection.
        publish(broker_url, QUEUE, json.dumps(good).encode(), "again")
        await until(lambda: ingress.stats.acked == 2)
        assert (await handle.describe()).run_id == first_run
        await submit_hold_map(handle, fake.hold_map)
        result = await handle.result()
        assert result.status is Status.COMPLETED

        # Redelivered after the run closed: acked, and nothing runs again.
        publish(broker_url, QUEUE, json.dumps(good).encode(), "late")
        await until(lambda: ingress.stats.acked == 3)

    assert await runs_of(client, handle.id) == [first_run]
    async with session_scope(resources.engine) as session:
        stored = await session.get(Route, route_id)
        assert stored is not None and stored.hold_map is not None
    [(_, body)] = take_all(amqp_url, events)
    event = json.loads(body)
    assert event["job_id"] == job_id and event["analysis_id"] == str(route_id)
    assert event["status"] == "completed"
    parked = {props.message_id: props for props, _ in take_all(broker_url, PARKING_QUEUE)}
    assert set(parked) == set(bad)
    for message_id, (_, reason) in bad.items():
        assert reason in parked[message_id].headers[REASON_HEADER], message_id
        assert parked[message_id].headers[ORIGINAL_QUEUE_HEADER] == QUEUE


async def test_a_job_that_finds_the_apis_run_gets_its_own_event_and_is_answered_once(
    client: Client,
    resources: CpuResources,
    ingress_settings: Settings,
    broker_url: str,
    amqp_url: str,
    task_queue: str,
) -> None:
    """Issue 16: the run was started by the API (no job); the legacy job attaches by
    signal-with-start and is owed ``hold_detection.completed.{its job_id}`` all the same, and
    its redelivery after the run closed starts nothing."""
    user_id, route_id = await climber(resources)
    async with session_scope(resources.engine) as session:
        route = await session.get(Route, route_id)
        assert route is not None and route.photo_key is not None
        photo_key = route.photo_key
    await resources.store.put_bytes(ingress_settings.bucket, photo_key, b"wall photo")
    job_id = str(uuid.uuid4())
    job = json.dumps({"job_id": job_id, "user_id": str(user_id), "route_id": str(route_id)})
    events = listen_for_jobs(amqp_url, [job_id, str(route_id)])
    fake = FakePipeline(store=make_object_store(ingress_settings))
    mapper = JobMapper(
        client, resources.engine, resources.store, ingress_settings, publisher=resources.publisher
    )
    params = route_holds_input(
        route_id=str(route_id), user_id=str(user_id), photo_key=photo_key, settings=ingress_settings
    )
    async with (
        build_cpu_worker(client, resources, task_queue=ingress_settings.cpu_task_queue),
        gpu_worker(client, task_queue, fake),
        running_ingress(broker_url, mapper) as ingress,
    ):
        await until(ingress.consuming.is_set)
        handle = await start_or_attach_route_holds(client, params)  # the API's detect
        await wait_for_status(handle, Status.AWAITING_HOLD_VALIDATION)
        publish(broker_url, QUEUE, job.encode(), "job")
        await until(lambda: ingress.stats.acked == 1)
        await submit_hold_map(handle, fake.hold_map)
        await handle.result()
        publish(broker_url, QUEUE, job.encode(), "late")
        await until(lambda: ingress.stats.acked == 2)

    assert await runs_of(client, handle.id) == [handle.result_run_id]
    assert fake.calls.count("detect_holds") == 1
    received = sorted(json.loads(body)["job_id"] for _, body in take_all(amqp_url, events))
    assert received == sorted([job_id, str(route_id)])
