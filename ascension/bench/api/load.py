"""The load generator of `ascension bench api`: closed-loop simulated clients, one keep-alive
connection each, on the bench's event loop or spread over spawned processes."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

import httpx

from ascension.bench.api.measure import Measured, busy_share, machine_cpu, process_cpu_s


# --- load generation ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Call:
    """One request, plain data so it can be sent to a load process."""

    method: str
    path: str
    expect: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None


@dataclass
class LoadResult:
    latencies_s: list[float]
    errors: int
    first_error: str | None
    #: Wall-clock (time.time) bounds of the measured part, comparable across processes.
    began: float
    ended: float
    client_cpu_s: float


async def run_load(
    base_url: str, warmup: list[Call], calls: list[Call], concurrency: int
) -> LoadResult:
    """Closed loop with ``concurrency`` clients, each with its own keep-alive connection (as
    phones have); the warm-up calls open the connections and are not measured.

    One `httpx.AsyncClient` per simulated client, not one shared pool: httpx's pool scans its
    connections on every request, which at 200 connections costs more than the server does.
    """
    latencies: list[float] = []
    problems: list[str] = []

    async def client_loop(client: httpx.AsyncClient, work: Iterator[Call], record: bool) -> None:
        for call in work:  # one shared iterator: every call is taken exactly once
            begin = time.perf_counter()
            try:
                response = await client.request(
                    call.method, call.path, headers=call.headers, json=call.body
                )
                problem = (
                    None
                    if response.status_code == call.expect
                    else f"{call.method} {call.path}: {response.status_code} {response.text[:200]}"
                )
            except httpx.HTTPError as exc:
                problem = f"{call.method} {call.path}: {type(exc).__name__} {exc}"
            elapsed = time.perf_counter() - begin
            if record:
                latencies.append(elapsed)
                if problem:
                    problems.append(problem)

    one_connection = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=base_url, limits=one_connection, timeout=120)
            )
            for _ in range(concurrency)
        ]
        warm = iter(warmup)
        await asyncio.gather(*(client_loop(client, warm, False) for client in clients))
        cpu, began = time.process_time(), time.time()
        work = iter(calls)
        await asyncio.gather(*(client_loop(client, work, True) for client in clients))
        ended = time.time()
    return LoadResult(
        latencies,
        len(problems),
        problems[0] if problems else None,
        began,
        ended,
        time.process_time() - cpu,
    )


def _load_process(
    base_url: str, warmup: list[Call], calls: list[Call], concurrency: int
) -> LoadResult:
    """Entry point of a load process (spawned: no state shared with the parent)."""
    return asyncio.run(run_load(base_url, warmup, calls, concurrency))


def _ready_process() -> bool:
    return True


class LoadGenerator:
    """Simulated clients on the bench's own event loop, or spread over spawned processes."""

    def __init__(self, base_url: str, processes: int) -> None:
        self.base_url = base_url
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> LoadGenerator:
        if self.processes > 1:
            self._pool = ProcessPoolExecutor(self.processes, mp_context=get_context("spawn"))
            # Start every process now: interpreter start-up must not land in a measurement.
            for future in [self._pool.submit(_ready_process) for _ in range(self.processes)]:
                future.result()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    async def run(
        self, warmup: list[Call], calls: list[Call], concurrency: int, server_pid: int
    ) -> Measured:
        cpu_before, machine_before, began = process_cpu_s(server_pid), machine_cpu(), time.time()
        if self._pool is None:
            results = [await run_load(self.base_url, warmup, calls, concurrency)]
        else:
            n = self.processes
            loop = asyncio.get_running_loop()
            futures = [
                loop.run_in_executor(
                    self._pool,
                    _load_process,
                    self.base_url,
                    warmup[i::n],
                    calls[i::n],
                    max(1, concurrency // n),
                )
                for i in range(n)
            ]
            results = list(await asyncio.gather(*futures))
        cpu_after, machine_after, ended = process_cpu_s(server_pid), machine_cpu(), time.time()
        wall = max(r.ended for r in results) - min(r.began for r in results)
        server_cpu = None
        if cpu_before is not None and cpu_after is not None:
            # Over warm-up and measurement together: the server's CPU is read from here.
            server_cpu = (cpu_after - cpu_before) / (ended - began)
        return Measured(
            latencies_s=[x for r in results for x in r.latencies_s],
            errors=sum(r.errors for r in results),
            first_error=next((r.first_error for r in results if r.first_error), None),
            wall_s=wall,
            client_cpu=max(r.client_cpu_s / max(r.ended - r.began, 1e-9) for r in results),
            server_cpu=server_cpu,
            machine_busy=busy_share(machine_before, machine_after),
        )
