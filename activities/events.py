"""The `publish_event` activity: the seed's RabbitMQ events, now sent on the workflow's behalf.

Each event is first recorded in ``analysis_events`` and only then published. The table is the
log WebSocket clients replay from when they reconnect, so an event a client could have seen live
is always there to replay; the row's id travels to consumers in the AMQP header ``x-event-id``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.dml import Insert
from temporalio import activity

from core.events import EventPublisher
from schema.activities import PUBLISH_EVENT
from schema.events import AnalysisEvent, event_body
from schema.models import AnalysisEventRecord

log = logging.getLogger(__name__)

#: AMQP header carrying the event's id in ``analysis_events`` (what clients resume from).
EVENT_ID_HEADER = "x-event-id"
#: AMQP header of an event for a legacy job alone (`AnalysisEvent.for_app` false): the app's
#: hub skips it.
LEGACY_ONLY_HEADER = "x-legacy-job-only"

_EVENTS: Table = AnalysisEventRecord.__table__  # type: ignore[attr-defined]


async def record_event(engine: AsyncEngine, event: AnalysisEvent) -> int | None:
    """Insert the event once (keyed by its message id) and return its id in the log.

    A retry of the same event inserts nothing and returns the id of the first insert. Returns
    None, recording nothing, when the event's ids are not UUIDs (only the workflow tests and
    benchmarks start analyses with made-up ids; the API always uses UUIDs).
    """
    try:
        analysis_id, user_id = uuid.UUID(event.analysis_id), uuid.UUID(event.user_id)
    except ValueError:
        log.warning("event %s has non-UUID ids; not recorded", event.message_id)
        return None
    values = {
        "message_id": event.message_id,
        "analysis_id": analysis_id,
        "user_id": user_id,
        "routing_key": event.routing_key,
        "body": event_body(event),
        "recorded_at": datetime.now(UTC),
    }
    dialect = engine.dialect.name
    insert: Insert
    if dialect == "postgresql":
        insert = (
            postgresql.insert(_EVENTS)
            .values(values)
            .on_conflict_do_nothing(index_elements=["message_id"])
        )
    elif dialect == "sqlite":
        insert = (
            sqlite.insert(_EVENTS)
            .values(values)
            .on_conflict_do_nothing(index_elements=["message_id"])
        )
    else:  # pragma: no cover - the project supports these two databases only
        raise RuntimeError(f"unsupported database dialect {dialect!r}")
    async with engine.begin() as conn:
        await conn.execute(insert)
        found = await conn.execute(
            select(_EVENTS.c.id).where(_EVENTS.c.message_id == event.message_id)
        )
        return int(found.scalar_one())


async def record_and_publish(
    engine: AsyncEngine, publisher: EventPublisher | None, event: AnalysisEvent
) -> int | None:
    """What the activity does: record, then publish with a broker confirm (off the event loop).

    Returns the event's id in the log. Raises while the broker is down, after recording, so a
    retry finds the row already there and only publishes.

    An event for a legacy job alone (`AnalysisEvent.for_app` false) is not recorded: the log is
    what the app replays, and the app was told by the run's own event. It is published with
    `LEGACY_ONLY_HEADER`, which the app's hub skips; its id is None.
    """
    if not event.for_app:
        if publisher is None:
            log.info("no broker configured; legacy job event %s not sent", event.routing_key)
            return None
        await asyncio.to_thread(publisher.publish, event, headers={LEGACY_ONLY_HEADER: True})
        return None
    event_id = await record_event(engine, event)
    if publisher is None:
        log.info("no broker configured; event %s recorded, not sent", event.routing_key)
        return event_id
    headers = {EVENT_ID_HEADER: event_id} if event_id is not None else None
    await asyncio.to_thread(publisher.publish, event, headers=headers)
    return event_id


async def publish_unless_logged(
    engine: AsyncEngine, publisher: EventPublisher | None, event: AnalysisEvent
) -> int | None:
    """`record_and_publish` for a reader publishing on a closed run's behalf
    (`api.reconcile`): an event already in the log under its message id was sent by the run
    itself (``publish_event`` logs, then publishes, and the run ends only once it has), so it
    is not sent a second time; returns None then. A run that published its failure but could
    not record it on the row (`names.ANALYSIS_END_NOT_RECORDED`) is one such run.
    """
    async with engine.connect() as conn:
        found = await conn.execute(
            select(_EVENTS.c.id).where(_EVENTS.c.message_id == event.message_id)
        )
        if found.first() is not None:
            log.info("event %s already sent by its run; not sent again", event.message_id)
            return None
    return await record_and_publish(engine, publisher, event)


class EventActivities:
    """Bound to the worker's database and publisher (None when no broker is configured)."""

    def __init__(self, publisher: EventPublisher | None, engine: AsyncEngine) -> None:
        self._publisher = publisher
        self._engine = engine

    @activity.defn(name=PUBLISH_EVENT.name)
    async def publish_event(self, event: AnalysisEvent) -> None:
        """Record the event, then publish it with a broker confirm. While the database or the
        broker is down this raises and Temporal retries (the workflow's policy outlasts a long
        outage); the message id stays the same across retries, so the row is written once and
        consumers can drop duplicate messages."""
        await record_and_publish(self._engine, self._publisher, event)
