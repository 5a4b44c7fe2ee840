"""`bench_api`: the stack, the API server, the climbers, every row of load, then the WebSocket
latency, folded into one report."""

from __future__ import annotations

import asyncio
import logging
import math
import shutil
import tempfile
import uuid
from pathlib import Path

import httpx

from ascension.bench.api.climbers import (
    OPERATIONS,
    PASSWORD,
    STARTS_PER_CLIMBER,
    calls_for,
    prepare_climbers,
    result_document,
)
from ascension.bench.api.load import LoadGenerator
from ascension.bench.api.report import Figure, build_report
from ascension.bench.api.stack import Stack, api_server, real_stack
from ascension.bench.report import BenchReport
from core.settings import Settings


async def bench_api(
    settings: Settings,
    *,
    clients: list[int],
    requests: int,
    load_processes: int = 1,
    ws_samples: int = 50,
    warmup: int = 50,
) -> BenchReport:
    # A log line per request would cost the load generator more than some requests do.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    warmup = min(warmup, requests)
    starts = (requests + warmup) * len(clients)
    folder = Path(tempfile.mkdtemp(prefix="ascension-bench-api-"))
    folder.chmod(0o755)  # PostgreSQL runs as `postgres` and must reach its folder
    try:
        async with real_stack(settings, folder, broker=ws_samples > 0) as stack:
            async with api_server(stack.settings, folder) as (base_url, pid):
                document = result_document(str(uuid.uuid4()))
                async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
                    count = max(1, math.ceil(starts / STARTS_PER_CLIMBER))
                    climbers = await prepare_climbers(stack, client, count, document)
                figures: list[Figure] = []
                with LoadGenerator(base_url, load_processes) as load:
                    for concurrency in clients:
                        for operation in ("healthz", *OPERATIONS):
                            measured = await load.run(
                                calls_for(operation, climbers, warmup),
                                calls_for(operation, climbers, requests),
                                concurrency,
                                pid,
                            )
                            figures.append(Figure(operation, concurrency, measured))
                ws, ws_problem = await _ws_latency(stack, base_url, ws_samples)
            broker = stack.amqp_url is not None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return build_report(
        figures,
        clients=clients,
        requests=requests,
        load_processes=load_processes,
        document_bytes=len(document),
        ws=ws,
        ws_problem=ws_problem,
        broker=broker,
    )


async def _ws_latency(
    stack: Stack, base_url: str, samples: int
) -> tuple[list[float] | None, str | None]:
    """WebSocket latencies (ms) of `samples` events, or why they could not be measured."""
    if samples <= 0:
        return None, "skipped (--ws-samples 0)"
    from ascension.bench.ws_latency import measure_ws_latency, production_publish
    from core.events import EventPublisher

    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        email = f"bench-ws-{uuid.uuid4().hex[:12]}@example.com"
        response = await client.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
        )
        response.raise_for_status()
        body = response.json()
    publisher = EventPublisher(stack.amqp_url) if stack.amqp_url else None
    ws_url = base_url.replace("http://", "ws://", 1)
    try:
        publish = production_publish(stack.engine, publisher, body["user"]["id"])
        return await measure_ws_latency(ws_url, body["access_token"], publish, samples), None
    except Exception as exc:
        return None, f"not measured: {type(exc).__name__}: {exc}"[:300]
    finally:
        if publisher is not None:
            await asyncio.to_thread(publisher.close)
