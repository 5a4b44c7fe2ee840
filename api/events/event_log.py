"""The ``analysis_events`` table as the hub reads it: the log every event reaches first.

The `publish_event` activity records before it publishes, so the table is complete where the
broker is not. The hub reads it here to know where the log stands when it starts, to feed itself
without a broker (the embedded quickstart polls it), to catch up after a broker loss, to find the
id of a broker message that came without one, and to replay a reconnecting client's missed events.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from api.events.messages import EVENTS, LoggedEvent, event_from_row

log = logging.getLogger("ascension.api.events")

POLL_INTERVAL_S = 0.5
#: Rows read per poll without a broker.
POLL_PAGE = 500
#: On a broker reconnect, rows recorded this long before the loss are read again (commits can
#: land out of id order; the hub's seen-ids set drops what was already sent).
CATCH_UP_WINDOW = timedelta(minutes=2)


class EventLog:
    """Reads of the event log; every method opens its own connection."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def max_id(self) -> int:
        async with self._engine.connect() as conn:
            found = await conn.execute(select(func.max(EVENTS.c.id)))
            return int(found.scalar() or 0)

    async def after(self, after_id: int, *, limit: int = POLL_PAGE) -> list[LoggedEvent]:
        """Every user's events with id > ``after_id``, oldest first."""
        query = select(EVENTS).where(EVENTS.c.id > after_id).order_by(EVENTS.c.id).limit(limit)
        async with self._engine.connect() as conn:
            return [event_from_row(row) for row in await conn.execute(query)]

    async def of_user(self, user_id: str, after_id: int, limit: int) -> list[LoggedEvent]:
        """Up to ``limit`` of one user's events with id > ``after_id``, oldest first."""
        query = (
            select(EVENTS)
            .where(EVENTS.c.user_id == uuid.UUID(user_id), EVENTS.c.id > after_id)
            .order_by(EVENTS.c.id)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            return [event_from_row(row) for row in await conn.execute(query)]

    async def since_loss(
        self, users: list[uuid.UUID], since_id: int, since: datetime
    ) -> list[LoggedEvent]:
        """What ``users`` may have missed while the broker was away: every event after the
        high-water mark at the loss, and those recorded shortly before it."""
        query = (
            select(EVENTS)
            .where(
                EVENTS.c.user_id.in_(users),
                or_(EVENTS.c.id > since_id, EVENTS.c.recorded_at >= since - CATCH_UP_WINDOW),
            )
            .order_by(EVENTS.c.id)
        )
        async with self._engine.connect() as conn:
            return [event_from_row(row) for row in await conn.execute(query)]

    async def id_of(self, message_id: str) -> int | None:
        """The log id of the broker message ``message_id`` (one published without the header)."""
        async with self._engine.connect() as conn:
            found = await conn.execute(select(EVENTS.c.id).where(EVENTS.c.message_id == message_id))
            value = found.scalar()
        return int(value) if value is not None else None

    async def poll(
        self,
        high_water: Callable[[], int],
        accept: Callable[[LoggedEvent], None],
        *,
        interval_s: float = POLL_INTERVAL_S,
    ) -> None:
        """No broker: the table is the feed. Hands every new row to ``accept``, forever."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                events = await self.after(high_water())
            except Exception as err:
                log.warning("could not poll the event log: %r", err)
                continue
            for event in events:
                accept(event)
