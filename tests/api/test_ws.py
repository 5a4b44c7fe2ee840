"""WebSocket ``/api/v1/ws`` against real analyses: the production CPU worker records and publishes
each event on this run's RabbitMQ, the API's hub consumes it through its own queue, and a
`websockets` client reads it. Only the GPU activities are doubles (`FakePipeline`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import httpx
import pika
import pytest
from fastapi import FastAPI
from sqlalchemy import func
from sqlmodel import select
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from activities.events import (
    EVENT_ID_HEADER,
    publish_unless_logged,
    record_and_publish,
    record_event,
)
from api.events.hub import EventHub
from api.events.messages import PushMessage
from api.resources import ApiResources
from api.security import TokenService, load_jwt_secret
from ascension.bench.ws_latency import measure_ws_latency, production_publish
from core.analyses import AnalysisHandle, start_or_attach, submit_hold_map
from core.db import make_engine, migrate, session_scope
from core.events import EventPublisher
from core.settings import Settings
from core.storage import make_object_store
from core.temporal_client import connect_temporal
from schema import names
from schema.analysis import Stage, StartAnalysisInput, Status
from schema.events import AnalysisEvent
from schema.models import Analysis, AnalysisEventRecord, Route, Video
from tests.api.conftest import Climber, ClimberFactory, LiveApi
from tests.utils.pipeline import FakePipeline, analysis_input, gpu_worker
from worker_cpu.worker import CpuResources, build_cpu_worker, open_cpu_resources

pytestmark = pytest.mark.integration

RECEIVE_TIMEOUT_S = 20.0
#: How long a socket must stay silent to count as "received nothing".
QUIET_S = 0.7


# --- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hub(api_app: FastAPI) -> EventHub:
    """The hub the app's lifespan started."""
    started = api_app.state.resources.events
    assert started is not None
    return started


@pytest.fixture(scope="module")
async def cpu(api_settings: Settings) -> AsyncIterator[CpuResources]:
    """The production CPU worker's resources, with the real publisher on this run's broker."""
    async with open_cpu_resources(api_settings) as resources:
        assert resources.publisher is not None
        yield resources


@pytest.fixture(scope="module")
async def client(api_settings: Settings, cpu: CpuResources) -> Client:
    return await connect_temporal(api_settings, cpu.store)


@pytest.fixture
async def fake(api_settings: Settings) -> AsyncIterator[FakePipeline]:
    store = make_object_store(api_settings)
    yield FakePipeline(store=store)
    await store.close()


@dataclasses.dataclass
class Run:
    params: StartAnalysisInput
    handle: WorkflowHandle[Any, Any] | None = None


async def _seed(engine: Any, climber: Climber, store: Any, bucket: str) -> dict[str, str]:
    """The rows the API creates before a workflow starts, owned by a climber of the API."""
    video = Video(user_id=climber.id, storage_url="")
    video.storage_url = names.upload_key(str(climber.id), str(video.id))
    route = Route(user_id=climber.id, photo_key=f"routes/{climber.id}/wall.jpg")
    analysis = Analysis(video_id=video.id, user_id=climber.id, route_id=route.id)
    async with session_scope(engine) as session:
        session.add_all([video, route])
        await session.flush()
        session.add(analysis)
        await session.commit()
    await store.put_bytes(bucket, video.storage_url, b"video bytes")
    return {
        "analysis_id": str(analysis.id),
        "user_id": str(climber.id),
        "video_id": str(video.id),
        "video_key": video.storage_url,
        "route_id": str(route.id),
    }


async def _params(
    cpu: CpuResources, settings: Settings, climber: Climber, task_queue: str, **overrides: Any
) -> StartAnalysisInput:
    seeded = await _seed(cpu.engine, climber, cpu.store, settings.bucket)
    return analysis_input(task_queue, bucket=settings.bucket, **seeded, **overrides)


async def _start(client: Client, params: StartAnalysisInput) -> AnalysisHandle:
    return await start_or_attach(client, params)


# --- socket helpers -----------------------------------------------------------------------------
def _url(live: LiveApi, token: str | None = None, last_event_id: int | str | None = None) -> str:
    query = []
    if token is not None:
        query.append(f"token={token}")
    if last_event_id is not None:
        query.append(f"last_event_id={last_event_id}")
    return f"{live.ws_url}/api/v1/ws" + ("?" + "&".join(query) if query else "")


async def _frame(socket: ClientConnection, timeout: float = RECEIVE_TIMEOUT_S) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(socket.recv(), timeout))


async def _event(
    socket: ClientConnection, progress: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The next log event (progress frames are set aside in ``progress``)."""
    while True:
        frame = await _frame(socket)
        if frame["type"] != "progress":
            return frame
        if progress is not None:
            progress.append(frame)


async def _events_until(socket: ClientConnection, last_type: str) -> list[dict[str, Any]]:
    events = []
    while not events or events[-1]["type"] != last_type:
        events.append(await _event(socket))
    return events


async def _quiet(socket: ClientConnection) -> list[dict[str, Any]]:
    """Log events that arrive within `QUIET_S` (progress ignored)."""
    received = []
    try:
        while True:
            received.append(await _event_within(socket, QUIET_S))
    except TimeoutError:
        return received


async def _event_within(socket: ClientConnection, timeout: float) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        return await _event(socket)


async def _close_code(url: str, **options: Any) -> tuple[int | None, str]:
    async with connect(url, **options) as socket:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 5)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


def _keys(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(event["type"], event["stage"]) for event in events]


COMPLETED_AFTER_HOLDS = [
    ("stage_completed", "skeleton"),
    ("stage_completed", "advice"),
    ("stage_completed", "ghost"),
    ("analysis_completed", "analysis"),
]


# --- a whole analysis, live ---------------------------------------------------------------------
async def test_analysis_pushes_its_events_in_order_to_its_owner_only(
    hub: EventHub,
    live_api: LiveApi,
    climber: ClimberFactory,
    client: Client,
    cpu: CpuResources,
    api_settings: Settings,
    fake: FakePipeline,
    task_queue: str,
) -> None:
    owner, stranger = await climber(), await climber()
    params = await _params(cpu, api_settings, owner, task_queue)
    async with (
        connect(_url(live_api, owner.access_token)) as mine,
        connect(_url(live_api, stranger.access_token)) as theirs,
        build_cpu_worker(client, cpu, task_queue=params.cpu_task_queue),
        gpu_worker(client, task_queue, fake),
    ):
        handle = await _start(client, params)
        progress: list[dict[str, Any]] = []
        holds = await _event(mine, progress)
        assert holds["type"] == "holds_detected"
        assert holds["analysis_id"] == params.analysis_id
        assert holds["stage"] == "hold_detection"
        assert holds["data"]["hold_map"] == json.loads(
            json.dumps(dataclasses.asdict(fake.hold_map))
        )
        assert holds["data"]["job_id"] == params.analysis_id
        assert holds["data"]["status"] == "completed"
        assert holds["data"]["user_id"] == str(owner.id)

        # While the holds wait for the climber, the state arrives as progress (no id).
        while not any(p["data"]["status"] == "awaiting_hold_validation" for p in progress):
            frame = await _frame(mine, timeout=5)
            assert frame["type"] == "progress", frame
            progress.append(frame)
        waiting = next(p for p in progress if p["data"]["status"] == "awaiting_hold_validation")
        assert waiting["id"] is None and waiting["analysis_id"] == params.analysis_id
        assert waiting["data"]["percent"] == 10.0 and waiting["stage"] == "hold_validation"

        await submit_hold_map(handle, fake.hold_map)
        rest = await _events_until(mine, "analysis_completed")
        assert (await handle.result()).status is Status.COMPLETED
        assert await _quiet(theirs) == []

    events = [holds, *rest]
    assert _keys(rest) == COMPLETED_AFTER_HOLDS
    ids = [event["id"] for event in events]
    assert all(isinstance(i, int) for i in ids) and ids == sorted(set(ids)), ids
    assert rest[-1]["data"]["analysis_status"] == "completed"
    # The ids are the event log's: what a reconnecting client resumes from.
    async with session_scope(cpu.engine) as session:
        logged = (
            await session.exec(
                select(AnalysisEventRecord.id, AnalysisEventRecord.routing_key)
                .where(AnalysisEventRecord.analysis_id == uuid.UUID(params.analysis_id))
                .order_by(AnalysisEventRecord.id)  # type: ignore[arg-type]
            )
        ).all()
    assert [row[0] for row in logged] == ids


async def test_reconnecting_with_the_last_id_misses_nothing_and_repeats_nothing(
    hub: EventHub,
    live_api: LiveApi,
    climber: ClimberFactory,
    client: Client,
    cpu: CpuResources,
    api_settings: Settings,
    fake: FakePipeline,
    task_queue: str,
) -> None:
    someone = await climber()
    fake.skeleton_gate = asyncio.Event()
    params = await _params(cpu, api_settings, someone, task_queue)
    async with (
        build_cpu_worker(client, cpu, task_queue=params.cpu_task_queue),
        gpu_worker(client, task_queue, fake),
    ):
        async with connect(_url(live_api, someone.access_token)) as first:
            handle = await _start(client, params)
            holds = await _event(first)
            assert holds["type"] == "holds_detected"
        # Disconnected: the run goes on, and the socket comes back while events are being
        # recorded, so some come from the replay and the rest live.
        await submit_hold_map(handle, fake.hold_map)
        await fake.skeleton_started.wait()
        fake.skeleton_gate.set()
        await asyncio.sleep(0.05)
        async with connect(_url(live_api, someone.access_token, holds["id"])) as second:
            resumed = await _events_until(second, "analysis_completed")
            await handle.result()
            assert await _quiet(second) == []

    assert _keys(resumed) == COMPLETED_AFTER_HOLDS
    ids = [holds["id"]] + [event["id"] for event in resumed]
    assert ids == sorted(set(ids)), ids

    # Replay only: everything after the skeleton, once.
    async with connect(_url(live_api, someone.access_token, resumed[0]["id"])) as third:
        replayed = await _events_until(third, "analysis_completed")
        assert await _quiet(third) == []
    assert replayed == resumed[1:]
    # A replayed holds_detected no longer carries a map: the holds were validated.
    async with connect(_url(live_api, someone.access_token, 0)) as everything:
        history = await _events_until(everything, "analysis_completed")
    assert history[0]["id"] == holds["id"] and history[0]["data"]["hold_map"] is None
    assert [e["id"] for e in history] == ids


async def test_failed_analysis_pushes_the_failure_with_its_reason(
    hub: EventHub,
    live_api: LiveApi,
    climber: ClimberFactory,
    client: Client,
    cpu: CpuResources,
    api_settings: Settings,
    fake: FakePipeline,
    task_queue: str,
) -> None:
    someone = await climber()
    fake.skeleton_bad_input = True
    params = await _params(cpu, api_settings, someone, task_queue, route_hold_map=fake.hold_map)
    async with (
        connect(_url(live_api, someone.access_token)) as socket,
        build_cpu_worker(client, cpu, task_queue=params.cpu_task_queue),
        gpu_worker(client, task_queue, fake),
    ):
        handle = await _start(client, params)
        failure = await _event(socket)
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        assert await _quiet(socket) == []
    assert failure["type"] == "stage_failed"
    assert failure["stage"] == "skeleton" and failure["analysis_id"] == params.analysis_id
    assert failure["data"]["reason"] == "we could not read this video: the file is not a video"
    assert failure["data"]["status"] == "failed"
    assert failure["data"]["analysis_status"] == "failed"
    assert isinstance(failure["id"], int)


# --- who may connect ------------------------------------------------------------------------------
async def test_missing_bad_expired_and_revoked_tokens_are_closed_with_4401(
    hub: EventHub,
    live_api: LiveApi,
    climber: ClimberFactory,
    api: httpx.AsyncClient,
    api_settings: Settings,
    api_app: FastAPI,
) -> None:
    someone = await climber()
    expired = TokenService(
        load_jwt_secret(api_settings), issuer=api_settings.jwt_issuer, access_ttl_s=-3600
    )
    claims = api_app.state.resources.tokens.decode_access(someone.access_token)
    stale = expired.issue_access(someone.id, claims.session_id, claims.role)

    for url in (
        _url(live_api),
        _url(live_api, "garbage"),
        _url(live_api, stale),
        _url(live_api, someone.access_token[:-4] + "AAAA"),
    ):
        code, reason = await _close_code(url)
        assert code == 4401, url
        assert reason
    code, _ = await _close_code(
        _url(live_api), additional_headers={"Authorization": "Bearer nonsense"}
    )
    assert code == 4401
    code, _ = await _close_code(_url(live_api, someone.access_token, "-1"))
    assert code == 4400

    # The header works as well as the query parameter; both stop working after logout.
    async with connect(_url(live_api), additional_headers=someone.headers) as socket:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(socket.recv(), 0.3)
    assert (await api.post("/api/v1/auth/logout", headers=someone.headers)).status_code == 204
    code, reason = await _close_code(_url(live_api, someone.access_token))
    assert code == 4401 and "sign" in reason


# --- the hub on its own ---------------------------------------------------------------------------
def _completed(user_id: uuid.UUID, stage: Stage = Stage.ANALYSIS) -> AnalysisEvent:
    analysis_id = str(uuid.uuid4())
    return AnalysisEvent(
        job_id=analysis_id,
        analysis_id=analysis_id,
        user_id=str(user_id),
        stage=stage,
        outcome="completed",
        status=Status.COMPLETED if stage is Stage.ANALYSIS else Status.PROCESSING,
        occurred_at="2026-01-01T00:00:00+00:00",
    )


async def test_a_reader_does_not_send_again_an_event_its_run_sent(
    api_app: FastAPI, cpu: CpuResources
) -> None:
    """`publish_unless_logged`, the reconcile's publisher: a run that published its failure but
    could not record it on the row (`names.ANALYSIS_END_NOT_RECORDED`) is not published twice
    when a read marks the row failed. (``api_app``: its start migrated the schema.)"""
    sent: list[str] = []

    class _Spy:
        def publish(self, event: AnalysisEvent, headers: object = None) -> None:
            sent.append(event.message_id)

    spy = cast(EventPublisher, _Spy())
    event = _completed(uuid.uuid4())
    assert await publish_unless_logged(cpu.engine, spy, event) is not None  # the run's own
    assert await publish_unless_logged(cpu.engine, spy, event) is None  # a read after it
    assert sent == [event.message_id]


async def test_recording_is_idempotent_and_the_id_travels_in_a_header(
    cpu: CpuResources, amqp_url: str
) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.exchange_declare(names.EVENTS_EXCHANGE, exchange_type="topic", durable=True)
    queue = channel.queue_declare("", exclusive=True).method.queue
    event = _completed(uuid.uuid4())
    channel.queue_bind(queue, names.EVENTS_EXCHANGE, routing_key=event.routing_key)
    try:
        first = await record_and_publish(cpu.engine, cpu.publisher, event)
        again = await record_and_publish(cpu.engine, cpu.publisher, event)  # an activity retry
        assert first is not None and first == again == await record_event(cpu.engine, event)
        async with session_scope(cpu.engine) as session:
            rows = (
                await session.exec(
                    select(func.count()).where(
                        AnalysisEventRecord.message_id == event.message_id  # type: ignore[arg-type]
                    )
                )
            ).one()
        assert rows == 1
        headers = []
        for _ in range(2):
            method, properties, body = channel.basic_get(queue, auto_ack=True)
            assert method is not None
            headers.append(properties.headers)
            assert json.loads(body)["job_id"] == event.job_id  # the documented body
        assert headers == [{EVENT_ID_HEADER: first}] * 2
    finally:
        connection.close()


async def test_quickstart_without_a_broker_records_on_sqlite_and_polls_the_log(
    api_app: FastAPI, tmp_path: Path
) -> None:
    """The embedded stack: SQLite, no RabbitMQ. The activity only records; the hub polls."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'ascension.db'}")
    await migrate(engine)
    resources: ApiResources = api_app.state.resources
    settings = resources.settings.model_copy(update={"amqp_url": None})
    quickstart = EventHub(
        dataclasses.replace(resources, settings=settings, engine=engine, events=None)
    )
    await quickstart.start()
    try:
        user = uuid.uuid4()
        subscription = quickstart.subscribe(user)
        stream = quickstart.stream(subscription, None)
        event = _completed(user)
        event_id = await record_and_publish(engine, None, event)
        assert event_id is not None and await record_event(engine, event) == event_id
        message = await asyncio.wait_for(anext(stream), 5)
        assert (message.id, message.type, message.analysis_id) == (
            event_id,
            "analysis_completed",
            event.analysis_id,
        )
        # Replay works the same on SQLite.
        replayed = await quickstart.replay_page(str(user), event_id - 1)
        assert [m.id for m in replayed] == [event_id]
        quickstart.unsubscribe(subscription)
    finally:
        await quickstart.close()
        await engine.dispose()


async def test_an_event_published_after_its_replay_is_not_sent_again(
    hub: EventHub, live_api: LiveApi, climber: ClimberFactory, cpu: CpuResources
) -> None:
    someone = await climber()
    seen = await record_and_publish(cpu.engine, cpu.publisher, _completed(someone.id))
    # Recorded, but the broker refused the publish: the activity will retry it later.
    late = _completed(someone.id, Stage.SKELETON)
    late_id = await record_event(cpu.engine, late)
    async with connect(_url(live_api, someone.access_token, seen)) as socket:
        replayed = await _event(socket)
        assert (replayed["id"], replayed["type"]) == (late_id, "stage_completed")
        await record_and_publish(cpu.engine, cpu.publisher, late)  # the retry gets through
        barrier = await record_and_publish(cpu.engine, cpu.publisher, _completed(someone.id))
        assert (await _event(socket))["id"] == barrier
        assert await _quiet(socket) == []


async def test_a_client_that_falls_behind_is_closed_with_1013_and_resumes(
    hub: EventHub, live_api: LiveApi, climber: ClimberFactory, cpu: CpuResources
) -> None:
    someone = await climber()
    async with connect(_url(live_api, someone.access_token)) as socket:
        await asyncio.sleep(0.1)  # the server has subscribed the socket
        before = await record_and_publish(cpu.engine, cpu.publisher, _completed(someone.id))
        assert (await _event(socket))["id"] == before
        # More state than a socket may have waiting, handed over faster than it can be sent.
        flood = PushMessage(None, "progress", "x", "skeleton", "", {"percent": 1.0})
        for _ in range(1000):
            hub.push(someone.id, flood)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(socket.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    missed = await record_and_publish(cpu.engine, cpu.publisher, _completed(someone.id))
    async with connect(_url(live_api, someone.access_token, before)) as again:
        assert (await _event(again))["id"] == missed


async def test_the_hub_survives_the_broker_dropping_its_connection(
    hub: EventHub, live_api: LiveApi, climber: ClimberFactory, cpu: CpuResources, rabbitmq: Any
) -> None:
    if rabbitmq is None:
        pytest.skip("the broker is not ours to disrupt (reused servers)")
    someone = await climber()
    async with connect(_url(live_api, someone.access_token)) as socket:
        await asyncio.sleep(0.1)
        await asyncio.to_thread(rabbitmq.ctl, "close_all_connections", "test: broker restart")
        # Published while the hub is reconnecting: its queue is gone, so only the catch-up from
        # the event log can bring this one.
        during = await record_and_publish(cpu.engine, cpu.publisher, _completed(someone.id))
        assert (await _event(socket))["id"] == during
        after = await record_and_publish(cpu.engine, cpu.publisher, _completed(someone.id))
        assert (await _event(socket))["id"] == after
        assert await _quiet(socket) == []


async def test_ws_latency_bench_measures_the_production_path(
    hub: EventHub, live_api: LiveApi, climber: ClimberFactory, cpu: CpuResources
) -> None:
    someone = await climber()
    publish = production_publish(cpu.engine, cpu.publisher, str(someone.id))
    latencies = await measure_ws_latency(live_api.ws_url, someone.access_token, publish, 5)
    print("ws latency ms:", [round(v, 1) for v in latencies])
    assert len(latencies) == 5
    assert all(0 < value < 2000 for value in latencies)
