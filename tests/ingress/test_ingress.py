"""The legacy ingress against real RabbitMQ, PostgreSQL, MinIO and the Temporal dev server.

Jobs are published the way a seed-000 producer does (plain pika, exchange ``ascension.vision``,
routing key = queue name) and the production CPU worker runs the workflow they start; only the
GPU activities are doubles. The module gets a RabbitMQ vhost of its own, so the job and parking
queues it empties and reads hold nothing but its own messages.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pika
import pika.exceptions
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.events import LEGACY_ONLY_HEADER
from ascension.servers import RabbitMQServer, free_port
from core.analyses import analysis_handle, submit_hold_map
from core.db import session_scope
from core.settings import Settings
from core.storage import make_object_store
from ingress.consumer import (
    ORIGINAL_QUEUE_HEADER,
    ORIGINAL_ROUTING_KEY_HEADER,
    PARKING_QUEUE,
    REASON_HEADER,
    Ingress,
    running_ingress,
)
from ingress.decisions import Backoff
from ingress.jobs import JobMapper
from ingress.main import run_ingress
from schema import names
from schema.activities import COMPUTE_GHOST, EXTRACT_SKELETON
from schema.analysis import Status, Tier
from schema.models import Analysis, Video
from tests.ingress.helpers import (
    climber,
    fresh_vhost,
    listen_for_jobs,
    publish,
    runs_of,
    seed_job,
    take_all,
    until,
)
from tests.utils.pipeline import FakePipeline, gpu_worker, wait_for_status
from worker_cpu.worker import CpuResources, build_cpu_worker

pytestmark = pytest.mark.integration


# --- helpers ---------------------------------------------------------------------------------
def _depth(url: str, queue: str) -> int:
    """Messages ready in ``queue`` (0 while it does not exist yet)."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        frame = connection.channel().queue_declare(queue, passive=True)
        return int(frame.method.message_count)
    except pika.exceptions.ChannelClosedByBroker as err:
        if err.reply_code == 404:
            return 0
        raise
    finally:
        connection.close()


async def _consuming(ingress: Ingress) -> None:
    await until(ingress.consuming.is_set)


# --- tests --------------------------------------------------------------------------------------
async def test_skeleton_job_starts_one_analysis_and_redeliveries_attach(
    client: Client,
    resources: CpuResources,
    ingress_settings: Settings,
    broker_url: str,
    amqp_url: str,
    task_queue: str,
) -> None:
    user_id, route_id = await climber(resources)
    analysis_id, video_id = uuid.uuid4(), uuid.uuid4()
    video_key = names.upload_key(str(user_id), str(video_id))
    await resources.store.put_bytes(ingress_settings.bucket, video_key, b"video bytes")
    skeleton = seed_job(
        user_id, route_id, analysis_id, bucket=ingress_settings.bucket, video_id=video_id
    )
    body = json.dumps(skeleton).encode()
    # The seed's API chains these after skeleton.completed; they carry no video_url.
    advice = json.dumps(seed_job(user_id, route_id, analysis_id, bucket=None)).encode()
    ghost = json.dumps(seed_job(user_id, route_id, analysis_id, bucket=None)).encode()
    workflow_id = names.analysis_workflow_id(str(analysis_id))
    # A producer that sends the advice job only after skeleton.completed finds the run ended.
    late_advice = seed_job(user_id, route_id, analysis_id, bucket=None)
    jobs = {
        name: job["job_id"]
        for name, job in [
            ("skeleton", skeleton),
            ("advice", json.loads(advice)),
            ("ghost", json.loads(ghost)),
            ("late", late_advice),
        ]
    }
    events_queue = listen_for_jobs(amqp_url, list(jobs.values()))
    fake = FakePipeline(store=make_object_store(ingress_settings))
    mapper = JobMapper(
        client,
        resources.engine,
        resources.store,
        ingress_settings,
        publisher=resources.publisher,
    )

    async with (
        build_cpu_worker(client, resources, task_queue=ingress_settings.cpu_task_queue),
        gpu_worker(client, task_queue, fake),
        running_ingress(broker_url, mapper) as ingress,
    ):
        await _consuming(ingress)
        publish(broker_url, "vision.skeleton", body)
        await until(lambda: ingress.stats.acked == 1)
        handle = analysis_handle(client, str(analysis_id))
        await wait_for_status(handle, Status.AWAITING_HOLD_VALIDATION)
        first_run = (await handle.describe()).run_id

        # Redelivered while the run waits, plus the chained jobs: each attaches to the run.
        publish(broker_url, "vision.skeleton", body)
        publish(broker_url, "vision.advice", advice)
        publish(broker_url, "vision.ghost", ghost)
        await until(lambda: ingress.stats.acked == 4)
        await submit_hold_map(handle, fake.hold_map)
        result = await handle.result()
        assert result.status is Status.COMPLETED

        # Redelivered after the end: acked, and nothing starts again.
        publish(broker_url, "vision.skeleton", body)
        await until(lambda: ingress.stats.acked == 5)
        publish(broker_url, "vision.advice", json.dumps(late_advice).encode())
        await until(lambda: ingress.stats.acked == 6)
    assert fake.store is not None
    await fake.store.close()

    assert ingress.stats.parked == 0
    assert await runs_of(client, workflow_id) == [first_run]
    description = await client.get_workflow_handle(workflow_id).describe()
    assert await description.memo_value("legacy_job_id") == skeleton["job_id"]
    assert fake.calls.count(EXTRACT_SKELETON.name) == 1
    async with session_scope(resources.engine) as session:
        analysis = await session.get(Analysis, analysis_id)
        video = await session.get(Video, video_id)
    assert analysis is not None and analysis.status is Status.COMPLETED
    assert (analysis.user_id, analysis.route_id, analysis.video_id) == (user_id, route_id, video_id)
    assert analysis.ghost_requested  # premium plan: the ghost job's stage ran in the run
    assert COMPUTE_GHOST.name in fake.calls
    assert video is not None and video.user_id == user_id and video.storage_url == video_key
    for queue in ("vision.skeleton", "vision.advice", "vision.ghost"):
        assert _depth(broker_url, queue) == 0, queue

    # Each legacy job hears about its own stage under its own id, as the seed's workers did.
    taken = take_all(amqp_url, events_queue)
    received = [(properties.message_id, json.loads(body)) for properties, body in taken]
    keys = {f"{body['stage']}.{body['status']}.{body['job_id']}" for _, body in received}
    assert keys == {
        f"hold_detection.completed.{jobs['skeleton']}",
        f"skeleton.completed.{jobs['skeleton']}",
        f"advice.completed.{jobs['advice']}",
        f"ghost.completed.{jobs['ghost']}",
        f"analysis.completed.{jobs['skeleton']}",
        f"advice.completed.{jobs['late']}",
    }
    # The redelivered skeleton job was answered again: same message ids, so consumers dedupe.
    assert len({message_id for message_id, _ in received}) == len(keys)
    # The late job's answer repeats what the app was told: on the broker alone.
    [late] = [props for props, body in taken if body and json.loads(body)["job_id"] == jobs["late"]]
    assert (late.headers or {}).get(LEGACY_ONLY_HEADER) is True


async def test_malformed_jobs_are_parked_with_their_reason_and_body(
    resources: CpuResources, client: Client, ingress_settings: Settings, broker_url: str
) -> None:
    user_id, route_id = await climber(resources)
    free_user, free_route = await climber(resources, Tier.FREEMIUM)
    bucket = ingress_settings.bucket

    def job(**changes: Any) -> bytes:
        message = seed_job(user_id, route_id, uuid.uuid4(), bucket=bucket)
        message.update(changes)
        return json.dumps({k: v for k, v in message.items() if v is not None}).encode()

    video = f"{uuid.uuid4()}.mp4"
    cases: dict[str, tuple[str, bytes, str]] = {
        "not-json": ("vision.skeleton", b"\x00 this is not json {", "not JSON"),
        "array": ("vision.skeleton", b"[1, 2]", "not a JSON object"),
        "missing": (
            "vision.skeleton",
            json.dumps({"job_id": str(uuid.uuid4())}).encode(),
            "analysis_id: Field required",
        ),
        "bad-uuid": ("vision.skeleton", job(analysis_id="not-a-uuid"), "analysis_id: Input should"),
        "unknown-user": ("vision.skeleton", job(user_id=str(uuid.uuid4())), "unknown user"),
        "foreign-bucket": (
            "vision.skeleton",
            job(video_url=f"s3://someone-elses-bucket/uploads/{user_id}/{video}"),
            "is not ours",
        ),
        "other-folder": (
            "vision.skeleton",
            job(video_url=f"s3://{bucket}/uploads/{uuid.uuid4()}/{video}"),
            "in the folder of",
        ),
        "http-url": ("vision.skeleton", job(video_url="https://example.com/v.mp4"), "s3://"),
        "not-uploaded": ("vision.skeleton", job(), "no video uploaded"),
        "no-video-url": ("vision.skeleton", job(video_url=None), "video_url: Field required"),
        "advice-unknown": ("vision.advice", job(video_url=None), "does not exist yet"),
        "ghost-freemium": (
            "vision.ghost",
            json.dumps(seed_job(free_user, free_route, uuid.uuid4(), bucket=bucket)).encode(),
            "without the ghost climber (plan freemium)",
        ),
    }
    mapper = JobMapper(client, resources.engine, resources.store, ingress_settings)

    async with running_ingress(broker_url, mapper) as ingress:
        await _consuming(ingress)
        for message_id, (queue, body, _) in cases.items():
            publish(broker_url, queue, body, message_id)
        await until(lambda: ingress.stats.parked == len(cases))
    assert ingress.stats.acked == 0

    parked = {
        props.message_id: (props, body) for props, body in take_all(broker_url, PARKING_QUEUE)
    }
    assert set(parked) == set(cases)
    for message_id, (queue, body, reason) in cases.items():
        props, parked_body = parked[message_id]
        assert parked_body == body, message_id  # the original bytes, untouched
        assert reason in props.headers[REASON_HEADER], (message_id, props.headers[REASON_HEADER])
        assert props.headers[ORIGINAL_QUEUE_HEADER] == queue
        assert props.headers[ORIGINAL_ROUTING_KEY_HEADER] == queue
        assert props.delivery_mode == pika.DeliveryMode.Persistent.value
    for queue in ("vision.skeleton", "vision.advice", "vision.ghost"):
        assert _depth(broker_url, queue) == 0, queue


async def test_unreachable_temporal_requeues_with_backoff_and_loses_nothing(
    resources: CpuResources, client: Client, ingress_settings: Settings, broker_url: str
) -> None:
    user_id, route_id = await climber(resources)
    analysis_id, video_id = uuid.uuid4(), uuid.uuid4()
    video_key = names.upload_key(str(user_id), str(video_id))
    await resources.store.put_bytes(ingress_settings.bucket, video_key, b"video bytes")
    body = json.dumps(
        seed_job(user_id, route_id, analysis_id, bucket=ingress_settings.bucket, video_id=video_id)
    ).encode()
    # A Temporal frontend that is down: every start fails to connect.
    down = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)
    backoff = Backoff(initial_s=0.2, maximum_s=1.0)
    unavailable = JobMapper(
        down, resources.engine, resources.store, ingress_settings, backoff=backoff
    )

    async with running_ingress(broker_url, unavailable) as ingress:
        await _consuming(ingress)
        publish(broker_url, "vision.skeleton", body)
        await asyncio.sleep(3.0)
    # Requeued and delivered again, but with backoff (0.2, 0.4, 0.8, 1, 1 s): no spinning.
    assert 2 <= ingress.stats.received <= 8, ingress.stats
    assert ingress.stats.parked == 0 and ingress.stats.acked == 0
    assert _depth(broker_url, "vision.skeleton") == 1  # still there, nothing lost

    # Temporal is back: the same message starts the analysis (its rows already exist).
    mapper = JobMapper(client, resources.engine, resources.store, ingress_settings)
    async with running_ingress(broker_url, mapper) as ingress:
        await until(lambda: ingress.stats.acked == 1)
    handle = client.get_workflow_handle(names.analysis_workflow_id(str(analysis_id)))
    assert (await handle.describe()).status is not None
    await handle.terminate("test over: no workers serve this analysis")
    assert _depth(broker_url, "vision.skeleton") == 0
    assert take_all(broker_url, PARKING_QUEUE) == []


async def test_legacy_queues_with_dead_letter_arguments_are_consumed_as_they_are(
    resources: CpuResources,
    client: Client,
    ingress_settings: Settings,
    rabbitmq: RabbitMQServer | None,
    amqp_url: str,
) -> None:
    """The seed's broker had dead-letter queues: redeclaring them without the argument would
    be refused, so the ingress must take the queue as it finds it."""
    if rabbitmq is None:
        pytest.skip("needs a vhost of its own on the session's node")
    url = fresh_vhost(rabbitmq, amqp_url)
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.exchange_declare(names.VISION_EXCHANGE, exchange_type="direct", durable=True)
        channel.queue_declare(
            "vision.skeleton", durable=True, arguments={"x-dead-letter-exchange": "legacy.dlx"}
        )
        channel.queue_bind("vision.skeleton", names.VISION_EXCHANGE, routing_key="vision.skeleton")
        channel.basic_publish(names.VISION_EXCHANGE, "vision.skeleton", b"{}")
    finally:
        connection.close()

    mapper = JobMapper(client, resources.engine, resources.store, ingress_settings)
    async with running_ingress(url, mapper) as ingress:
        await until(lambda: ingress.stats.parked == 1)
    assert ingress.stats.reconnects == 0
    assert _depth(url, "vision.skeleton") == 0
    [(props, body)] = take_all(url, PARKING_QUEUE)
    assert body == b"{}" and "job_id: Field required" in props.headers[REASON_HEADER]


async def test_run_ingress_serves_until_stopped(
    temporal_dev_env: WorkflowEnvironment,
    stack_settings: Settings,
    rabbitmq: RabbitMQServer | None,
    amqp_url: str,
) -> None:
    """The process entry point (`ascension worker ingress`): its own connections, then a clean
    stop that leaves nothing unacked behind."""
    url = fresh_vhost(rabbitmq, amqp_url)
    client = temporal_dev_env.client
    settings = stack_settings.model_copy(
        update={
            "amqp_url": url,
            "temporal_address": client.service_client.config.target_host,
            "temporal_namespace": client.namespace,
        }
    )
    stop = asyncio.Event()
    serving = asyncio.create_task(run_ingress(settings, stop=stop))
    try:
        publish(url, "vision.advice", b"not json", "entry")
        await until(lambda: _depth(url, PARKING_QUEUE) == 1)
    finally:
        stop.set()
        await asyncio.wait_for(serving, timeout=30)
    assert _depth(url, "vision.advice") == 0
    [(props, _)] = take_all(url, PARKING_QUEUE)
    assert props.message_id == "entry" and props.headers[ORIGINAL_QUEUE_HEADER] == "vision.advice"
