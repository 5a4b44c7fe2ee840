"""A hold validation sent the moment the holds are announced is accepted; a finished analysis
still refuses one with a clear 409.

The app answers its ``holds_detected`` frame at once, and a legacy consumer may answer
``hold_detection.completed`` as soon as the broker hands it over (the earliest anyone can know of
the holds). The run, and the analysis's row the API checks, must already await the correction
then. Against the API (its WebSocket served by uvicorn, its hub on this run's RabbitMQ), the
production CPU worker and the real Temporal dev server; only the GPU steps are `FakePipeline`
doubles. Each case runs several detections at once, several rounds, because a race only shows
sometimes: before the fix (the event went out before the wait opened) every answer on the broker
event for a route was refused, and most for an analysis.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pika
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect

from ingress.hold_detection_jobs import HOLD_DETECTION_QUEUE
from ingress.jobs import JobMapper
from schema import names
from schema.analysis import Tier
from tests.api.conftest import Climber, ClimberFactory, LiveApi
from tests.api.test_analyses import _uploaded_route, _uploaded_video, _wait_for
from tests.ingress.helpers import listen_for_jobs, take_all
from tests.utils.pipeline import FakePipeline

pytestmark = pytest.mark.integration

V1 = "/api/v1"
#: Detections per round, started together, and rounds.
AT_ONCE = 4
ROUNDS = 3


@pytest.fixture(scope="module")
def threads() -> Iterator[ThreadPoolExecutor]:
    """Threads of their own for the blocking broker reads (the loop's default pool publishes
    the CPU worker's events)."""
    with ThreadPoolExecutor(AT_ONCE, thread_name_prefix="event-reader") as pool:
        yield pool


class Announcements:
    """How a client learns of the holds: its WebSocket frame, or the event on the broker."""

    def __init__(self, how: str, live_api: LiveApi, amqp_url: str, pool: ThreadPoolExecutor):
        self.how, self._live_api, self._amqp_url, self._pool = how, live_api, amqp_url, pool

    async def open(self, who: Climber) -> ClientConnection | str:
        if self.how == "frame":
            url = f"{self._live_api.ws_url}{V1}/ws?token={who.access_token}"
            return await connect(url)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._declare)

    async def next_for(self, source: ClientConnection | str, subject: str) -> None:
        """Returns the moment ``subject``'s holds are announced."""
        async with asyncio.timeout(30):
            if isinstance(source, str):
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(self._pool, self._take, source, subject)
                return
            frame = await _until_holds_detected(source, subject)
            assert frame["data"]["hold_map"] is not None, frame

    async def close(self, source: ClientConnection | str) -> None:
        if not isinstance(source, str):
            await source.close()

    def _declare(self) -> str:
        connection = pika.BlockingConnection(pika.URLParameters(self._amqp_url))
        try:
            channel = connection.channel()
            queue = f"holds-race-{uuid.uuid4().hex[:8]}"
            channel.queue_declare(queue, auto_delete=False)
            channel.queue_bind(queue, names.EVENTS_EXCHANGE, "hold_detection.completed.*")
            return queue
        finally:
            connection.close()

    def _take(self, queue: str, subject: str) -> None:
        connection = pika.BlockingConnection(pika.URLParameters(self._amqp_url))
        try:
            channel = connection.channel()
            for method, _, body in channel.consume(queue, auto_ack=True, inactivity_timeout=30):
                assert method is not None, "no hold_detection.completed within 30 s"
                if json.loads(body)["analysis_id"] == subject:
                    return
        finally:
            channel.queue_delete(queue)
            connection.close()


async def _validate_when_announced(
    api: httpx.AsyncClient, announced: Announcements, who: Climber, hold_map: Any, *, route: bool
) -> tuple[str, httpx.Response]:
    """Start a detection (an analysis's, or the route's own) and send the map the moment its
    holds are announced; the analysis (or route) id and the answer."""
    route_id = await _uploaded_route(api, who)
    video_id = None if route else await _uploaded_video(api, who)
    source = await announced.open(who)
    try:
        if route:
            started = await api.post(f"{V1}/routes/{route_id}/detect", headers=who.headers)
            assert started.status_code == 202, started.text
            subject, holds_url = route_id, f"{V1}/routes/{route_id}/holds"
        else:
            started = await api.post(
                f"{V1}/analysis/video/start",
                json={"video_id": video_id, "route_id": route_id, "ghost": False},
                headers=who.headers,
            )
            assert started.status_code == 202, started.text
            subject = started.json()["analysis_id"]
            holds_url = f"{V1}/analysis/video/{subject}/holds"
        await announced.next_for(source, subject)
        answer = await api.post(holds_url, json={"hold_map": hold_map}, headers=who.headers)
    finally:
        await announced.close(source)
    return subject, answer


async def _until_holds_detected(socket: ClientConnection, subject: str) -> dict[str, Any]:
    async with asyncio.timeout(30):
        while True:
            frame = json.loads(await socket.recv())
            if frame["type"] == "holds_detected" and frame["analysis_id"] == subject:
                return frame


async def _frames_within(socket: ClientConnection, seconds: float) -> list[dict[str, Any]]:
    """Every frame the socket gets until it stays quiet for ``seconds``."""
    frames = []
    try:
        while True:
            frames.append(json.loads(await asyncio.wait_for(socket.recv(), seconds)))
    except TimeoutError:
        return frames


@pytest.mark.parametrize("how", ["frame", "event"])
@pytest.mark.parametrize("route", [False, True], ids=["analysis", "route"])
async def test_a_validation_sent_when_the_holds_are_announced_is_accepted(
    api: httpx.AsyncClient,
    api_app: FastAPI,
    live_api: LiveApi,
    climber: ClimberFactory,
    pipeline: FakePipeline,
    threads: ThreadPoolExecutor,
    how: str,
    route: bool,
) -> None:
    announced = Announcements(how, live_api, api_app.state.settings.amqp_url, threads)
    hold_map = json.loads(json.dumps(dataclasses.asdict(pipeline.hold_map)))
    for _ in range(ROUNDS):
        climbers = [await climber(Tier.PREMIUM) for _ in range(AT_ONCE)]
        answers = await asyncio.gather(
            *(
                _validate_when_announced(api, announced, who, hold_map, route=route)
                for who in climbers
            )
        )
        codes = [(answer.status_code, answer.text) for _, answer in answers]
        assert all(code == 200 for code, _ in codes), codes
        assert all(answer.json()["state"] == "validated" for _, answer in answers)
    if route or how != "frame":
        return
    # The analyses went on with the map; a validation for a finished one is a clear 409.
    who, (analysis_id, _) = climbers[-1], answers[-1]
    await _wait_for(api, who, analysis_id, lambda body: "version" in body)
    late = await api.post(
        f"{V1}/analysis/video/{analysis_id}/holds", json={"hold_map": hold_map}, headers=who.headers
    )
    assert late.status_code == 409, late.text
    assert late.json()["error"]["code"] == "holds_not_awaiting_validation"
    assert "completed" in late.json()["error"]["message"]


async def test_a_legacy_job_on_a_running_detection_adds_no_second_frame(
    api: httpx.AsyncClient,
    api_app: FastAPI,
    live_api: LiveApi,
    climber: ClimberFactory,
    pipeline: FakePipeline,
) -> None:
    """Legacy ``vision.hold_detection`` jobs for a route whose detection the app started (one
    while it detects, one once the holds are out) each get their own
    ``hold_detection.completed.{job_id}`` on the broker, while the climber's socket gets one
    ``holds_detected`` frame for the map, live and on a replay of the whole log."""
    me = await climber(Tier.PREMIUM)
    route_id = await _uploaded_route(api, me)
    resources = api_app.state.resources
    settings = resources.settings
    client = await resources.temporal.client()
    mapper = JobMapper(client, resources.engine, resources.store, settings)
    early, late = str(uuid.uuid4()), str(uuid.uuid4())
    events = listen_for_jobs(settings.amqp_url, [early, late, route_id])

    async def legacy_job(job_id: str) -> None:
        """What the ingress does with the job it takes off ``vision.hold_detection``."""
        job = {"job_id": job_id, "user_id": str(me.id), "route_id": route_id}
        await mapper.map_job(HOLD_DETECTION_QUEUE, json.dumps(job).encode())

    url = f"{live_api.ws_url}{V1}/ws?token={me.access_token}"
    async with connect(url) as socket:
        started = await api.post(f"{V1}/routes/{route_id}/detect", headers=me.headers)
        assert started.status_code == 202, started.text
        await legacy_job(early)
        first = await _until_holds_detected(socket, route_id)
        await legacy_job(late)
        # Every job's answer is out on the broker; whatever frames follow have arrived by now.
        received: dict[str, Any] = {}
        async with asyncio.timeout(30):
            while set(received) != {early, late, route_id}:
                for _, body in take_all(settings.amqp_url, events):
                    received[json.loads(body)["job_id"]] = json.loads(body)
                await asyncio.sleep(0.1)
        after = await _frames_within(socket, 1.5)
    assert first["data"]["job_id"] == route_id and first["data"]["hold_map"] is not None
    assert [f for f in after if f["type"] == "holds_detected"] == [], after
    assert all(body["status"] == "completed" for body in received.values())
    assert {body["analysis_id"] for body in received.values()} == {route_id}

    # Replayed from the start of the log: still the one frame.
    async with connect(f"{url}&last_event_id=0") as replay:
        replayed = await _frames_within(replay, 1.5)
    detected = [f for f in replayed if f["type"] == "holds_detected"]
    assert [f["analysis_id"] for f in detected] == [route_id], replayed

    hold_map = json.loads(json.dumps(dataclasses.asdict(pipeline.hold_map)))
    done = await api.post(
        f"{V1}/routes/{route_id}/holds", json={"hold_map": hold_map}, headers=me.headers
    )
    assert done.status_code == 200, done.text
