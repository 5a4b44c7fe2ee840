"""Progress for the sockets: state, not log events.

While a user has sockets open, the running analyses of that user are read about once a second
(`api.progress`: the workflow's `status` Query refined by the running step's heartbeat) and a
``progress`` frame is sent when it changed. Progress frames carry no id and are never replayed.
The analyses polled are those the database says are running, and those whose events the hub
has seen without a final status yet. Before the first progress frame of an analysis the row
says is running (the socket's initial state), its run is checked for a close the row missed
(``reconcile``, `api.reconcile`): one found terminated or timed out is marked failed, and its
failure event, not progress, is what the socket then gets.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.service import RPCError, RPCStatusCode

from api.events.messages import ANALYSES, is_uuid, progress_message
from api.events.registry import SubscriberRegistry
from api.progress import read_progress
from api.resources import TemporalConnection
from core.analyses import FINISHED, RUNNING, analysis_handle
from schema.analysis import Status

log = logging.getLogger("ascension.api.events")

PROGRESS_INTERVAL_S = 1.0
#: Progress reads in flight at once.
CONCURRENT_READS = 16

#: The analysis's status once its row is reconciled with its run (None: no such analysis).
Reconcile = Callable[[str], Awaitable[Status | None]]


class ProgressPoller:
    """Reads the progress of the listening users' running analyses and sends what changed."""

    def __init__(
        self,
        engine: AsyncEngine,
        temporal: TemporalConnection,
        registry: SubscriberRegistry,
        *,
        interval_s: float = PROGRESS_INTERVAL_S,
        reconcile: Reconcile | None = None,
    ) -> None:
        self._engine = engine
        self._reconcile = reconcile
        self._temporal = temporal
        self._registry = registry
        self._interval_s = interval_s
        #: Running analyses learned from events (analysis id → user id).
        self._learned: dict[str, str] = {}

    def learn(self, analysis_id: str, user_id: str) -> None:
        """An event of a running analysis: poll it too, whatever the database says."""
        self._learned[analysis_id] = user_id

    def forget(self, analysis_id: str) -> None:
        self._learned.pop(analysis_id, None)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            users = self._registry.users()
            if not users:
                continue
            try:
                await self.push_progress(users)
            except Exception as err:
                log.info("no progress this round: %r", err)
                await asyncio.sleep(5 * self._interval_s)

    async def push_progress(self, users: list[str]) -> None:
        running = await self._running_analyses(users)
        rows = set(running)
        for analysis_id, user_id in self._learned.items():
            if user_id in users:
                running.setdefault(analysis_id, user_id)
        for user_id in users:
            channel = self._registry.channel(user_id)
            if channel is not None:
                for stale in set(channel.progress_sent) - set(running):
                    del channel.progress_sent[stale]
        if not running:
            return
        client = await self._temporal.client()
        limit = asyncio.Semaphore(CONCURRENT_READS)

        async def one(analysis_id: str, user_id: str) -> None:
            if await self._ended_unseen(analysis_id, user_id, from_database=analysis_id in rows):
                self.forget(analysis_id)
                return
            handle = analysis_handle(client, analysis_id)
            try:
                async with limit:
                    progress = await asyncio.wait_for(
                        read_progress(handle, client.data_converter), timeout=3
                    )
            except RPCError as err:
                if err.status == RPCStatusCode.NOT_FOUND:
                    self.forget(analysis_id)
                return
            except Exception:
                return
            if progress.status in FINISHED:
                self.forget(analysis_id)
            channel = self._registry.channel(user_id)
            if channel is None:
                return
            key = (progress.status.value, progress.stage.value, progress.percent)
            if channel.progress_sent.get(analysis_id) == key:
                return
            channel.progress_sent[analysis_id] = key
            self._registry.deliver(user_id, progress_message(analysis_id, progress))

        await asyncio.gather(*(one(aid, uid) for aid, uid in running.items()))

    async def _ended_unseen(self, analysis_id: str, user_id: str, *, from_database: bool) -> bool:
        """Whether the analysis, which the row says runs, turns out to have ended when its run
        is checked before the socket's first frame about it (once per analysis and channel)."""
        channel = self._registry.channel(user_id)
        if (
            self._reconcile is None
            or not from_database
            or channel is None
            or analysis_id in channel.reconciled
        ):
            return False
        channel.reconciled.add(analysis_id)
        try:
            status = await self._reconcile(analysis_id)
        except Exception as err:  # progress still flows; the next socket checks again
            log.warning("analysis %s not reconciled: %r", analysis_id, err)
            return False
        return status is not None and status in FINISHED

    async def _running_analyses(self, users: list[str]) -> dict[str, str]:
        user_ids = [uuid.UUID(u) for u in users if is_uuid(u)]
        if not user_ids:
            return {}
        query = select(ANALYSES.c.id, ANALYSES.c.user_id).where(
            ANALYSES.c.user_id.in_(user_ids), ANALYSES.c.status.in_(list(RUNNING))
        )
        async with self._engine.connect() as conn:
            return {str(row.id): str(row.user_id) for row in await conn.execute(query)}
