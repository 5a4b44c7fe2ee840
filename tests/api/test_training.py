"""Training endpoints against the real stack: profile, 422s with allowed values, programs made by
the production CPU worker, and the ``training.completed`` event on the real RabbitMQ."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pika
import pytest
from fastapi import FastAPI

from schema import names
from schema.training import TrainingProgramResult
from tests.api.conftest import ClimberFactory
from tests.engines.training.archetypes import INTERMEDIATE_POWER, SEVEN_SHORT_SESSIONS_POWER
from tests.utils.pipeline import FakePipeline

pytestmark = pytest.mark.integration


class EventQueue:
    """An exclusive queue bound to ``training.#`` on the run's RabbitMQ."""

    def __init__(self, amqp_url: str) -> None:
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        self.channel = self.connection.channel()
        self.channel.exchange_declare(names.EVENTS_EXCHANGE, exchange_type="topic", durable=True)
        self.queue = self.channel.queue_declare("", exclusive=True).method.queue
        self.channel.queue_bind(self.queue, names.EVENTS_EXCHANGE, routing_key="training.#")

    def drain(self) -> list[tuple[str, dict[str, Any]]]:
        events: list[tuple[str, dict[str, Any]]] = []
        while True:
            method, _, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                return events
            events.append((str(method.routing_key), json.loads(body)))


@pytest.fixture
def training_events(amqp_url: str) -> Iterator[EventQueue]:
    events = EventQueue(amqp_url)
    yield events
    events.connection.close()


async def _result(api_app: FastAPI, job_id: str) -> TrainingProgramResult:
    client = await api_app.state.resources.temporal.client()
    handle = client.get_workflow_handle(
        names.training_workflow_id(job_id), result_type=TrainingProgramResult
    )
    return await asyncio.wait_for(handle.result(), timeout=60)


async def test_unknown_values_are_422_with_the_allowed_ones(
    api: httpx.AsyncClient, climber: ClimberFactory
) -> None:
    me = await climber()
    bad_goal = {**INTERMEDIATE_POWER, "goals": ["power", "flying"]}
    response = await api.put("/api/v1/training/profile", json=bad_goal, headers=me.headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_training_profile"
    assert "flying" in error["message"]
    assert error["details"]["field"] == "goals"
    assert {"finger_strength", "power", "endurance", "technique"} <= set(
        error["details"]["allowed"]
    )
    for field, value in (("injuries", ["broken_heart"]), ("equipment", ["trampoline"])):
        response = await api.put(
            "/api/v1/training/profile",
            json={**INTERMEDIATE_POWER, field: value},
            headers=me.headers,
        )
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"]["field"] == field
        assert response.json()["error"]["details"]["allowed"]
    response = await api.put(
        "/api/v1/training/profile", json={**INTERMEDIATE_POWER, "level": "V99"}, headers=me.headers
    )
    assert response.status_code == 422, response.text
    assert "V99" in response.json()["error"]["message"]
    # The same check guards a one-off profile given to a program.
    response = await api.post(
        "/api/v1/training/programs", json={"profile": bad_goal}, headers=me.headers
    )
    assert response.status_code == 422
    options = await api.get("/api/v1/training/options", headers=me.headers)
    assert options.status_code == 200 and "finger_pulley" in options.json()["injuries"]


async def test_profile_round_trip_and_a_program_needs_one(
    api: httpx.AsyncClient, climber: ClimberFactory
) -> None:
    me = await climber()
    assert (await api.get("/api/v1/training/profile", headers=me.headers)).status_code == 404
    response = await api.post("/api/v1/training/programs", headers=me.headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "training_profile_missing"
    latest = await api.get("/api/v1/training/programs/latest", headers=me.headers)
    assert latest.status_code == 404
    saved = await api.put("/api/v1/training/profile", json=INTERMEDIATE_POWER, headers=me.headers)
    assert saved.status_code == 200, saved.text
    read = await api.get("/api/v1/training/profile", headers=me.headers)
    assert read.json()["profile"]["goals"] == ["power"]
    other = await climber()
    assert (await api.get("/api/v1/training/profile", headers=other.headers)).status_code == 404


async def test_programs_are_made_listed_deduplicated_and_announced(
    api: httpx.AsyncClient,
    api_app: FastAPI,
    climber: ClimberFactory,
    pipeline: FakePipeline,
    training_events: EventQueue,
) -> None:
    me = await climber()
    await api.put("/api/v1/training/profile", json=INTERMEDIATE_POWER, headers=me.headers)
    started = await api.post("/api/v1/training/programs", headers=me.headers)
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]
    result = await _result(api_app, job_id)
    assert (result.program_id, result.stored) == (job_id, True)

    latest = await api.get("/api/v1/training/programs/latest", headers=me.headers)
    assert latest.status_code == 200, latest.text
    body = latest.json()
    assert body["id"] == job_id
    assert body["document"]["format"] == "ascension.training_program"
    assert body["weeks"] == len(body["document"]["weeks"]) > 0

    # Regenerated with nothing new: the same plan, announced again, stored once.
    again = await api.post("/api/v1/training/programs", json={}, headers=me.headers)
    second = await _result(api_app, again.json()["job_id"])
    assert (second.program_id, second.stored) == (job_id, False)
    listed = await api.get("/api/v1/training/programs", headers=me.headers)
    assert [program["id"] for program in listed.json()] == [job_id]

    # A contradictory one-off profile: a plan with its conflicts, never a 500.
    contradiction = await api.post(
        "/api/v1/training/programs",
        json={"profile": SEVEN_SHORT_SESSIONS_POWER},
        headers=me.headers,
    )
    assert contradiction.status_code == 202, contradiction.text
    third = await _result(api_app, contradiction.json()["job_id"])
    assert third.stored and third.conflicts
    latest = (await api.get("/api/v1/training/programs/latest", headers=me.headers)).json()
    assert latest["id"] == third.program_id and latest["conflicts"]
    listed = await api.get("/api/v1/training/programs?limit=1", headers=me.headers)
    assert [program["id"] for program in listed.json()] == [third.program_id]

    events = await asyncio.to_thread(training_events.drain)
    mine = {key: event for key, event in events if event["user_id"] == str(me.id)}
    assert mine[f"training.completed.{job_id}"]["program_id"] == job_id
    assert mine[f"training.completed.{again.json()['job_id']}"]["status"] == "completed"
