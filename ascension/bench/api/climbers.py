"""The client flow of `ascension bench api`: climbers registered through the API with an uploaded
video, a validated route and a completed analysis, and the requests each operation sends."""

from __future__ import annotations

import dataclasses
import gzip
import json
import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from sqlalchemy import update

from ascension.bench.api.load import Call
from ascension.bench.api.stack import Stack
from core.db import session_scope
from schema import names
from schema.analysis import Status, Tier
from schema.holds import Hold, HoldMap
from schema.models import Analysis, Route, User

RESULT_DOCUMENT_BYTES = 50 * 1024
#: Starts one climber may make in the benchmark (the infinity plan allows 100 a month).
STARTS_PER_CLIMBER = 90
PASSWORD = "bench password 123"
OPERATIONS = ("request_upload", "start", "get_result")


@dataclass
class Climber:
    user_id: str
    token: str
    video_id: str = ""
    route_id: str = ""
    completed_analysis_id: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def result_document(analysis_id: str, target_bytes: int = RESULT_DOCUMENT_BYTES) -> bytes:
    """A result-shaped document (33 landmarks per frame) whose gzip is about ``target_bytes``."""
    rng = random.Random(7)
    frames: list[list[float]] = []
    data = b""
    while len(data) < target_bytes:
        for _ in range(10):
            frames.append([round(rng.random(), 3) for _ in range(33 * 3)])
        document = {
            "schema_version": 1,
            "analysis_id": analysis_id,
            "skeleton": {"fps": 15, "landmarks": 33, "frames": frames},
            "advice": [{"move": i, "text": "keep your hips close to the wall"} for i in range(8)],
        }
        data = gzip.compress(json.dumps(document, separators=(",", ":")).encode(), 6)
    return data


async def prepare_climbers(
    stack: Stack, client: httpx.AsyncClient, count: int, document: bytes
) -> list[Climber]:
    """Register ``count`` climbers on the infinity plan, each with an uploaded video, a route
    with a validated hold map and one completed analysis with its stored result document."""
    climbers: list[Climber] = []
    for _ in range(count):
        email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
        response = await client.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
        )
        response.raise_for_status()
        body = response.json()
        climbers.append(Climber(body["user"]["id"], body["access_token"]))
    video = secrets.token_bytes(1024)
    hold_map = dataclasses.asdict(HoldMap(1920, 1080, [Hold("h1", 0.5, 0.5, "jug")]))
    async with session_scope(stack.engine) as session:
        await session.exec(
            update(User)
            .where(User.id.in_([uuid.UUID(c.user_id) for c in climbers]))  # type: ignore[attr-defined]
            .values(subscription_tier=Tier.INFINITY)
        )
        await session.commit()
    async with httpx.AsyncClient(timeout=30) as uploader:
        for climber in climbers:
            response = await client.post(
                "/api/v1/analysis/video/request-upload",
                json={"content_type": "video/mp4", "size_bytes": len(video)},
                headers=climber.headers,
            )
            response.raise_for_status()
            upload = response.json()
            put = await uploader.put(
                upload["upload_url"],
                content=video,
                headers={"Content-Type": upload["headers"]["Content-Type"]},
            )
            put.raise_for_status()
            climber.video_id = upload["video_id"]
    async with session_scope(stack.engine) as session:
        routes = [
            Route(
                user_id=uuid.UUID(climber.user_id),
                name="bench wall",
                hold_map=hold_map,
                hold_map_validated_at=datetime.now(UTC),
            )
            for climber in climbers
        ]
        session.add_all(routes)
        await session.flush()  # no ORM relationships order the inserts: routes first
        for climber, route in zip(climbers, routes, strict=True):
            analysis = Analysis(
                video_id=uuid.UUID(climber.video_id),
                user_id=uuid.UUID(climber.user_id),
                route_id=route.id,
                status=Status.COMPLETED,
                completed_at=datetime.now(UTC),
                result_json={"status": "completed", "result_document_bytes": len(document)},
            )
            session.add(analysis)
            climber.route_id = str(route.id)
            climber.completed_analysis_id = str(analysis.id)
        await session.commit()
    for climber in climbers:
        key = names.result_key(climber.completed_analysis_id, "result")
        await stack.store.put_bytes(
            stack.settings.bucket, key, document, content_type="application/json"
        )
    return climbers


def calls_for(operation: str, climbers: list[Climber], count: int) -> list[Call]:
    """``count`` requests of one operation, spread round-robin over the climbers."""
    calls = []
    for i in range(count):
        climber = climbers[i % len(climbers)]
        if operation == "healthz":
            calls.append(Call("GET", "/healthz", 200))
        elif operation == "request_upload":
            calls.append(
                Call(
                    "POST",
                    "/api/v1/analysis/video/request-upload",
                    201,
                    climber.headers,
                    {"content_type": "video/mp4", "size_bytes": 4_000_000},
                )
            )
        elif operation == "start":
            calls.append(
                Call(
                    "POST",
                    "/api/v1/analysis/video/start",
                    202,
                    climber.headers,
                    {"video_id": climber.video_id, "route_id": climber.route_id, "ghost": False},
                )
            )
        elif operation == "get_result":
            headers = {**climber.headers, "Accept-Encoding": "gzip"}
            path = f"/api/v1/analysis/video/{climber.completed_analysis_id}"
            calls.append(Call("GET", path, 200, headers))
        else:  # pragma: no cover - the operations are ours
            raise ValueError(operation)
    return calls
