"""Per-user fan-out of analysis events to WebSocket clients.

Where events come from:
  - With a broker (``settings.amqp_url``), a pika consumer in its own thread reads an exclusive,
    auto-delete, server-named queue bound to ``ascension.events`` with ``#`` and hands each message
    to the event loop. The broker dropping the connection is survived: the thread reconnects with
    backoff, and on every (re)connect the hub re-reads the event log for its connected users, so
    events published while it was away still reach them.
  - Without one (the embedded quickstart), the hub polls the ``analysis_events`` table.

Every event reaches the table before the broker (the `publish_event` activity records first), so
the table is the log a reconnecting client replays from: it subscribes first, replays the rows
after its ``last_event_id``, then gets the live stream minus what the replay already sent.

``progress`` messages are state, not log events: while a user has sockets open the hub reads the
progress of that user's running analyses about once a second and sends it when it changed. They
carry no id and are never replayed.

Each socket has a bounded queue; a client too slow to drain it is ended with close code 1013 and
reconnects with its last event id, so it loses nothing and never holds up anyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic, BasicProperties
from sqlalchemy import Row, Table, func, or_, select
from temporalio.service import RPCError, RPCStatusCode

from activities.events import EVENT_ID_HEADER
from api.progress import read_progress
from api.resources import ApiResources
from core.analyses import FINISHED, RUNNING, analysis_handle, query_status
from core.events import declare_events_exchange
from schema import names
from schema.analysis import AnalysisProgress, Stage, Status
from schema.models import Analysis, AnalysisEventRecord

log = logging.getLogger("ascension.api.events")

#: Where the running hub is kept in `ApiResources.extras`.
EXTRAS_KEY = "events_hub"
#: Messages waiting for one socket before its client counts as too slow.
SUBSCRIBER_QUEUE_SIZE = 256
POLL_INTERVAL_S = 0.5
PROGRESS_INTERVAL_S = 1.0
REPLAY_PAGE = 200
#: Event ids remembered to drop duplicates (a catch-up read and a late broker message).
SEEN_IDS = 20_000
#: On a broker reconnect, rows recorded this long before the loss are read again (commits can
#: land out of id order; the seen-ids set drops what was already sent).
CATCH_UP_WINDOW = timedelta(minutes=2)
#: How long a `hold_detection.completed` waits for the workflow to expose the detected map.
HOLDS_WAIT_S = 5.0

CLOSE_TOO_SLOW = 1013
CLOSE_GOING_AWAY = 1001


_EVENTS = cast(Table, AnalysisEventRecord.__table__)  # type: ignore[attr-defined]
_ANALYSES = cast(Table, Analysis.__table__)  # type: ignore[attr-defined]


# --- messages -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PushMessage:
    """One WebSocket frame. ``id`` is the event's id in the log (None for progress)."""

    id: int | None
    type: str
    analysis_id: str
    stage: str
    occurred_at: str
    data: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))


def message_type(routing_key: str) -> str:
    """The frame type for a routing key ``{stage}.{outcome}.{job_id}``."""
    stage, outcome, _ = routing_key.split(".", 2)
    if outcome == "completed":
        if stage == Stage.HOLD_DETECTION.value:
            return "holds_detected"
        return "analysis_completed" if stage == Stage.ANALYSIS.value else "stage_completed"
    return "analysis_failed" if stage == Stage.ANALYSIS.value else "stage_failed"


@dataclass
class LoggedEvent:
    """An event as it arrives: from the table (with its id) or the broker (id in a header)."""

    id: int | None
    user_id: str
    routing_key: str
    body: dict[str, Any]
    message_id: str | None = None

    @property
    def analysis_id(self) -> str:
        return str(self.body.get("analysis_id", ""))

    def message(self, hold_map: dict[str, Any] | None = None) -> PushMessage:
        data = dict(self.body)
        kind = message_type(self.routing_key)
        if kind == "holds_detected":
            data["hold_map"] = hold_map
        return PushMessage(
            id=self.id,
            type=kind,
            analysis_id=self.analysis_id,
            stage=str(self.body.get("stage", self.routing_key.split(".", 1)[0])),
            occurred_at=str(self.body.get("occurred_at", "")),
            data=data,
        )


def _event_from_row(row: Row[Any]) -> LoggedEvent:
    return LoggedEvent(row.id, str(row.user_id), row.routing_key, dict(row.body), row.message_id)


def _canonical_user(value: object) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return str(value)


def progress_message(analysis_id: str, progress: AnalysisProgress) -> PushMessage:
    return PushMessage(
        id=None,
        type="progress",
        analysis_id=analysis_id,
        stage=progress.stage.value,
        occurred_at=datetime.now(UTC).isoformat(),
        data={
            "percent": progress.percent,
            "stage": progress.stage.value,
            "status": progress.status.value,
            "step_done": progress.step_done,
            "step_total": progress.step_total,
        },
    )


# --- one socket's view --------------------------------------------------------------------------
class Subscription:
    """One socket's bounded queue, and the ids its replay already sent."""

    def __init__(self, user_id: str, maxsize: int) -> None:
        self.user_id = user_id
        self._maxsize = maxsize
        # One slot more than the limit, for the end marker.
        self._queue: asyncio.Queue[PushMessage | None] = asyncio.Queue(maxsize + 1)
        #: Set once the stream is over; `end_code`/`end_reason` say how to close the socket.
        self.ended = asyncio.Event()
        self.end_code = CLOSE_GOING_AWAY
        self.end_reason = ""
        self._resume_after = 0
        self._replayed: set[int] = set()

    def offer(self, message: PushMessage) -> None:
        """Queue without waiting; a full queue ends the subscription instead of blocking."""
        if self.ended.is_set():
            return
        if self._queue.qsize() >= self._maxsize:
            self.end(CLOSE_TOO_SLOW, "too far behind; reconnect with last_event_id")
            return
        self._queue.put_nowait(message)

    def end(self, code: int, reason: str) -> None:
        if self.ended.is_set():
            return
        self.end_code, self.end_reason = code, reason
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)
        self.ended.set()

    def resume(self, last_event_id: int, replayed: Iterable[int]) -> None:
        """Drop live events the client had before it connected or got from the replay."""
        self._resume_after = last_event_id
        self._replayed = set(replayed)

    def _wanted(self, message: PushMessage) -> bool:
        return message.id is None or (
            message.id > self._resume_after and message.id not in self._replayed
        )

    async def live(self) -> AsyncIterator[PushMessage]:
        while True:
            message = await self._queue.get()
            if message is None:
                return
            if self._wanted(message):
                yield message


@dataclass
class _UserChannel:
    """A user's open sockets and the ordered lane their messages go through."""

    subscriptions: set[Subscription] = field(default_factory=set)
    inbox: asyncio.Queue[LoggedEvent | PushMessage] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None
    #: Analyses whose final event was sent: later (stale) progress for them is dropped.
    finished: set[str] = field(default_factory=set)
    #: Last progress sent per analysis, as (status, stage, percent).
    progress_sent: dict[str, tuple[str, str, float]] = field(default_factory=dict)


# --- the broker feed ----------------------------------------------------------------------------
class _BrokerFeed:
    """A pika consumer in its own thread (pika's blocking connection must not touch the loop)."""

    def __init__(
        self,
        amqp_url: str,
        on_message: Callable[[str, bytes, dict[str, Any], str | None], None],
        on_connected: Callable[[], None],
        on_lost: Callable[[], None],
    ) -> None:
        self._parameters = pika.URLParameters(amqp_url)
        self._parameters.connection_attempts = 1
        self._parameters.socket_timeout = 5
        self._on_message = on_message
        self._on_connected = on_connected
        self._on_lost = on_lost
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ascension-events-feed", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stopping.set()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            connection: pika.BlockingConnection | None = None
            try:
                connection = pika.BlockingConnection(self._parameters)
                channel = connection.channel()
                declare_events_exchange(channel)
                queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
                channel.queue_bind(queue, names.EVENTS_EXCHANGE, routing_key="#")
                # Auto-ack: the queue dies with this connection anyway; the event log, not the
                # queue, is what makes delivery to clients complete.
                channel.basic_consume(queue, self._deliver, auto_ack=True)
                self._on_connected()
                backoff = 0.5
                while not self._stopping.is_set():
                    connection.process_data_events(time_limit=0.25)
            except Exception as err:  # the thread must outlive any broker trouble
                if self._stopping.is_set():
                    break
                log.warning("event feed lost RabbitMQ (%r); retrying in %.1f s", err, backoff)
                self._on_lost()
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 30.0)
            finally:
                if connection is not None and connection.is_open:
                    with contextlib.suppress(Exception):
                        connection.close()

    def _deliver(
        self,
        channel: BlockingChannel,
        method: Basic.Deliver,
        properties: BasicProperties,
        body: bytes,
    ) -> None:
        self._on_message(
            str(method.routing_key), body, dict(properties.headers or {}), properties.message_id
        )


# --- the hub ------------------------------------------------------------------------------------
class EventHub:
    """Dispatches analysis events and progress to the sockets of the user they belong to."""

    def __init__(
        self,
        resources: ApiResources,
        *,
        queue_size: int = SUBSCRIBER_QUEUE_SIZE,
        poll_interval_s: float = POLL_INTERVAL_S,
        progress_interval_s: float = PROGRESS_INTERVAL_S,
    ) -> None:
        self._resources = resources
        self._queue_size = queue_size
        self._poll_interval_s = poll_interval_s
        self._progress_interval_s = progress_interval_s
        self._channels: dict[str, _UserChannel] = {}
        self._seen: dict[int, None] = {}
        self._high_water = 0
        #: (high water, wall time) when the broker was last lost; where a catch-up starts.
        self._lost_at: tuple[int, datetime] | None = None
        #: Running analyses learned from events (analysis id → user id).
        self._learned: dict[str, str] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._feed: _BrokerFeed | None = None
        self._connected = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- lifecycle ----------------------------------------------------------------------------
    async def start(self, *, ready_timeout_s: float = 5.0) -> None:
        """Start the feed (and wait a little for the broker, so events from now on arrive)."""
        self._loop = asyncio.get_running_loop()
        try:
            self._high_water = await asyncio.wait_for(self._max_event_id(), timeout=2)
        except Exception as err:
            # The API starts while its database is down (readyz says so); the feed starts
            # once the log's position is known, so nothing old is pushed as new.
            log.warning("event log unreachable (%r); live events start once it answers", err)
            self._spawn(self._start_when_log_answers(ready_timeout_s))
            return
        await self._start_feeds(ready_timeout_s)

    async def _start_when_log_answers(self, ready_timeout_s: float) -> None:
        while True:
            await asyncio.sleep(1)
            try:
                self._high_water = await self._max_event_id()
            except Exception:
                continue
            await self._start_feeds(ready_timeout_s)
            return

    async def _start_feeds(self, ready_timeout_s: float) -> None:
        self._lost_at = (self._high_water, datetime.now(UTC))
        amqp_url = self._resources.settings.amqp_url
        if amqp_url:
            self._feed = _BrokerFeed(
                amqp_url,
                self._from_thread_message,
                self._from_thread_connected,
                self._from_thread_lost,
            )
            self._feed.start()
            try:
                await asyncio.wait_for(self._connected.wait(), ready_timeout_s)
            except TimeoutError:
                log.warning("RabbitMQ not reachable yet; live events start once it is")
        else:
            self._spawn(self._poll_table())
        self._spawn(self._progress_loop())

    async def close(self) -> None:
        if self._feed is not None:
            await asyncio.to_thread(self._feed.stop)
        for channel in self._channels.values():
            for subscription in channel.subscriptions:
                subscription.end(CLOSE_GOING_AWAY, "the server is restarting; reconnect")
            if channel.task is not None:
                self._tasks.add(channel.task)
        self._channels.clear()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._resources.extras.get(EXTRAS_KEY) is self:
            del self._resources.extras[EXTRAS_KEY]

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- sockets ------------------------------------------------------------------------------
    def subscribe(self, user_id: uuid.UUID | str) -> Subscription:
        key = _canonical_user(user_id)
        subscription = Subscription(key, self._queue_size)
        channel = self._channels.get(key)
        if channel is None:
            channel = self._channels[key] = _UserChannel()
            channel.task = asyncio.create_task(self._lane(key, channel))
        channel.subscriptions.add(subscription)
        # A new socket gets the current progress at the next round, not only the next change.
        channel.progress_sent.clear()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        channel = self._channels.get(subscription.user_id)
        if channel is None:
            return
        channel.subscriptions.discard(subscription)
        if not channel.subscriptions:
            del self._channels[subscription.user_id]
            if channel.task is not None:
                channel.task.cancel()

    def push(self, user_id: uuid.UUID | str, message: PushMessage) -> None:
        """Send a state message (like progress) to the user's open sockets, in order with their
        events; nothing happens when the user has none."""
        channel = self._channels.get(_canonical_user(user_id))
        if channel is not None:
            channel.inbox.put_nowait(message)

    async def stream(
        self, subscription: Subscription, last_event_id: int | None
    ) -> AsyncIterator[PushMessage]:
        """The replay after ``last_event_id`` (when given), then the live messages.

        The caller subscribed before calling this, so nothing recorded meanwhile falls between
        the replay and the live stream; live events the replay already sent are dropped.
        """
        if last_event_id is not None:
            replayed: list[int] = []
            after = last_event_id
            while True:
                page = await self.replay_page(subscription.user_id, after)
                for message in page:
                    after = cast(int, message.id)
                    replayed.append(after)
                    yield message
                if len(page) < REPLAY_PAGE:
                    break
            subscription.resume(last_event_id, replayed)
        async for message in subscription.live():
            yield message

    async def replay_page(self, user_id: str, after: int) -> list[PushMessage]:
        """Up to `REPLAY_PAGE` of the user's logged events with id > ``after``, oldest first."""
        query = (
            select(_EVENTS)
            .where(_EVENTS.c.user_id == uuid.UUID(user_id), _EVENTS.c.id > after)
            .order_by(_EVENTS.c.id)
            .limit(REPLAY_PAGE)
        )
        async with self._resources.engine.connect() as conn:
            events = [_event_from_row(row) for row in await conn.execute(query)]
        detected = {
            e.analysis_id for e in events if message_type(e.routing_key) == "holds_detected"
        }
        # The map is only worth a Temporal query while it still awaits validation.
        waiting = await self._unfinished(detected) if detected else set()
        maps = {aid: await self._awaiting_holds(aid, wait_s=1.0) for aid in waiting}
        return [event.message(maps.get(event.analysis_id)) for event in events]

    # --- feeding ------------------------------------------------------------------------------
    def _from_thread_message(
        self, routing_key: str, body: bytes, headers: dict[str, Any], message_id: str | None
    ) -> None:
        self._call_in_loop(self._on_broker_message, routing_key, body, headers, message_id)

    def _from_thread_connected(self) -> None:
        self._call_in_loop(self._on_connected)

    def _from_thread_lost(self) -> None:
        self._call_in_loop(self._on_lost)

    def _call_in_loop(self, callback: Callable[..., None], *args: Any) -> None:
        if self._loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: we are shutting down
            self._loop.call_soon_threadsafe(callback, *args)

    def _on_broker_message(
        self, routing_key: str, raw: bytes, headers: dict[str, Any], message_id: str | None
    ) -> None:
        try:
            body = json.loads(raw)
            user_id = _canonical_user(body["user_id"])
            message_type(routing_key)
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed event on %s", routing_key)
            return
        event_id = headers.get(EVENT_ID_HEADER)
        event = LoggedEvent(
            int(event_id) if isinstance(event_id, int | str) and str(event_id).isdigit() else None,
            user_id,
            routing_key,
            body,
            message_id,
        )
        self._accept(event)

    def _on_connected(self) -> None:
        if self._connected.is_set():
            log.info("event feed reconnected; reading the events recorded meanwhile")
        self._connected.set()
        since, self._lost_at = self._lost_at, None
        if since is not None:
            self._spawn(self._catch_up(*since))

    def _on_lost(self) -> None:
        if self._lost_at is None:
            self._lost_at = (self._high_water, datetime.now(UTC))

    def _accept(self, event: LoggedEvent) -> None:
        if event.id is not None:
            self._high_water = max(self._high_water, event.id)
        channel = self._channels.get(event.user_id)
        if channel is not None:
            channel.inbox.put_nowait(event)

    async def _catch_up(self, since_id: int, since: datetime) -> None:
        """Re-read what connected users may have missed while the broker was away."""
        users = [uuid.UUID(u) for u in self._channels]
        if not users:
            return
        query = (
            select(_EVENTS)
            .where(
                _EVENTS.c.user_id.in_(users),
                or_(_EVENTS.c.id > since_id, _EVENTS.c.recorded_at >= since - CATCH_UP_WINDOW),
            )
            .order_by(_EVENTS.c.id)
        )
        try:
            async with self._resources.engine.connect() as conn:
                rows = list(await conn.execute(query))
        except Exception:
            log.exception("could not read the event log after a broker reconnect")
            return
        for row in rows:
            self._accept(_event_from_row(row))

    async def _poll_table(self) -> None:
        """No broker: the table is the feed."""
        while True:
            await asyncio.sleep(self._poll_interval_s)
            query = (
                select(_EVENTS)
                .where(_EVENTS.c.id > self._high_water)
                .order_by(_EVENTS.c.id)
                .limit(500)
            )
            try:
                async with self._resources.engine.connect() as conn:
                    rows = list(await conn.execute(query))
            except Exception as err:
                log.warning("could not poll the event log: %r", err)
                continue
            for row in rows:
                self._accept(_event_from_row(row))

    async def _max_event_id(self) -> int:
        async with self._resources.engine.connect() as conn:
            found = await conn.execute(select(func.max(_EVENTS.c.id)))
            return int(found.scalar() or 0)

    # --- one user's lane: ordered, so a slow map lookup never reorders that user's messages --
    async def _lane(self, user_id: str, channel: _UserChannel) -> None:
        while True:
            item = await channel.inbox.get()
            try:
                message = await self._prepare(item, channel)
            except Exception:
                log.exception("could not prepare a message for user %s", user_id)
                continue
            if message is None:
                continue
            for subscription in list(channel.subscriptions):
                subscription.offer(message)

    async def _prepare(
        self, item: LoggedEvent | PushMessage, channel: _UserChannel
    ) -> PushMessage | None:
        if isinstance(item, PushMessage):  # progress
            return None if item.analysis_id in channel.finished else item
        event = item
        if event.id is None and event.message_id:
            event.id = await self._id_of(event.message_id)
        if event.id is not None:
            if event.id in self._seen:
                return None
            self._seen[event.id] = None
            if len(self._seen) > SEEN_IDS:
                del self._seen[next(iter(self._seen))]
        analysis_status = str(event.body.get("analysis_status", ""))
        if analysis_status in FINISHED:
            channel.finished.add(event.analysis_id)
            self._learned.pop(event.analysis_id, None)
        else:
            self._learned[event.analysis_id] = event.user_id
        hold_map = None
        if message_type(event.routing_key) == "holds_detected":
            hold_map = await self._awaiting_holds(event.analysis_id, wait_s=HOLDS_WAIT_S)
        return event.message(hold_map)

    async def _id_of(self, message_id: str) -> int | None:
        async with self._resources.engine.connect() as conn:
            found = await conn.execute(
                select(_EVENTS.c.id).where(_EVENTS.c.message_id == message_id)
            )
            value = found.scalar()
        return int(value) if value is not None else None

    # --- Temporal lookups ---------------------------------------------------------------------
    async def _awaiting_holds(self, analysis_id: str, *, wait_s: float) -> dict[str, Any] | None:
        """The detected map while the workflow waits for the climber; None once it does not.

        The event is published just before the workflow moves to the waiting state, so the
        first query may come early: ask again for a short while as long as detection is the
        stage the workflow reports.
        """
        try:
            client = await self._resources.temporal.client()
            handle = analysis_handle(client, analysis_id)
            deadline = time.monotonic() + wait_s
            while True:
                progress = await query_status(handle, rpc_timeout=timedelta(seconds=2))
                if progress.holds_awaiting_validation is not None:
                    return dataclasses.asdict(progress.holds_awaiting_validation)
                detecting = progress.stage == Stage.HOLD_DETECTION and progress.status in (
                    Status.PENDING,
                    Status.PROCESSING,
                )
                if not detecting or time.monotonic() >= deadline:
                    return None
                await asyncio.sleep(0.05)
        except Exception as err:  # the event still goes out; the app can fetch the map itself
            log.info("no hold map for analysis %s: %r", analysis_id, err)
            return None

    async def _unfinished(self, analysis_ids: set[str]) -> set[str]:
        """Those of ``analysis_ids`` whose row is not final (or that have no row here)."""
        ids = {aid: uuid.UUID(aid) for aid in analysis_ids if _is_uuid(aid)}
        if not ids:
            return set(analysis_ids)
        query = select(_ANALYSES.c.id, _ANALYSES.c.status).where(
            _ANALYSES.c.id.in_(list(ids.values()))
        )
        async with self._resources.engine.connect() as conn:
            status = {str(row.id): Status(row.status) for row in await conn.execute(query)}
        return {aid for aid in analysis_ids if aid not in status or status[aid] in RUNNING}

    async def _progress_loop(self) -> None:
        while True:
            await asyncio.sleep(self._progress_interval_s)
            users = [user for user, channel in self._channels.items() if channel.subscriptions]
            if not users:
                continue
            try:
                await self._push_progress(users)
            except Exception as err:
                log.info("no progress this round: %r", err)
                await asyncio.sleep(5 * self._progress_interval_s)

    async def _push_progress(self, users: list[str]) -> None:
        running = await self._running_analyses(users)
        for analysis_id, user_id in self._learned.items():
            if user_id in users:
                running.setdefault(analysis_id, user_id)
        for user_id in users:
            channel = self._channels.get(user_id)
            if channel is not None:
                for stale in set(channel.progress_sent) - set(running):
                    del channel.progress_sent[stale]
        if not running:
            return
        client = await self._resources.temporal.client()
        limit = asyncio.Semaphore(16)

        async def one(analysis_id: str, user_id: str) -> None:
            handle = analysis_handle(client, analysis_id)
            try:
                async with limit:
                    progress = await asyncio.wait_for(
                        read_progress(handle, client.data_converter), timeout=3
                    )
            except RPCError as err:
                if err.status == RPCStatusCode.NOT_FOUND:
                    self._learned.pop(analysis_id, None)
                return
            except Exception:
                return
            if progress.status in FINISHED:
                self._learned.pop(analysis_id, None)
            channel = self._channels.get(user_id)
            if channel is None:
                return
            key = (progress.status.value, progress.stage.value, progress.percent)
            if channel.progress_sent.get(analysis_id) == key:
                return
            channel.progress_sent[analysis_id] = key
            self.push(user_id, progress_message(analysis_id, progress))

        await asyncio.gather(*(one(aid, uid) for aid, uid in running.items()))

    async def _running_analyses(self, users: list[str]) -> dict[str, str]:
        user_ids = [uuid.UUID(u) for u in users if _is_uuid(u)]
        if not user_ids:
            return {}
        query = select(_ANALYSES.c.id, _ANALYSES.c.user_id).where(
            _ANALYSES.c.user_id.in_(user_ids), _ANALYSES.c.status.in_(list(RUNNING))
        )
        async with self._resources.engine.connect() as conn:
            return {str(row.id): str(row.user_id) for row in await conn.execute(query)}


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


async def start_event_hub(resources: ApiResources) -> EventHub:
    """Start the hub for this API process and keep it in ``resources.extras[EXTRAS_KEY]``."""
    hub = EventHub(resources)
    await hub.start()
    resources.extras[EXTRAS_KEY] = hub
    return hub


def hub_of(resources: ApiResources) -> EventHub | None:
    hub = resources.extras.get(EXTRAS_KEY)
    return hub if isinstance(hub, EventHub) else None
