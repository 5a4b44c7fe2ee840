"""The hub: per-user fan-out of analysis events and progress to WebSocket clients.

It wires the parts of `api.events` together and decides what each socket gets:
  - Events come from the broker (`consumer.BrokerFeed`, when ``settings.amqp_url`` is set) or,
    without one (the embedded quickstart), from polling the event log (`event_log.EventLog`).
    On every broker (re)connect the hub re-reads the log for its connected users, so events
    published while it was away still reach them.
  - Every event reaches the log before the broker, so the log is what a reconnecting client
    replays from: it subscribes first, replays the rows after its ``last_event_id``, then gets
    the live stream minus what the replay already sent (`stream`).
  - Duplicates (a catch-up read and a late broker message) are dropped by event id; a
    ``holds_detected`` frame gets the detected map (`holds`); progress comes from
    `progress_poller`; sockets and their ordered lanes live in `registry`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime
from functools import partial
from typing import Any, cast

from activities.events import EVENT_ID_HEADER, LEGACY_ONLY_HEADER
from api.events.consumer import BrokerFeed
from api.events.event_log import POLL_INTERVAL_S, EventLog
from api.events.holds import HOLDS_WAIT_S, awaiting_holds, unfinished
from api.events.messages import LoggedEvent, PushMessage, canonical_user, message_type
from api.events.progress_poller import PROGRESS_INTERVAL_S, ProgressPoller
from api.events.registry import (
    SUBSCRIBER_QUEUE_SIZE,
    SubscriberRegistry,
    Subscription,
    UserChannel,
)
from api.reconcile import reconciled_status
from api.resources import ApiResources
from core.analyses import FINISHED

log = logging.getLogger("ascension.api.events")

REPLAY_PAGE = 200
#: Event ids remembered to drop duplicates (a catch-up read and a late broker message).
SEEN_IDS = 20_000


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
        self._log = EventLog(resources.engine)
        self._registry = SubscriberRegistry(self._prepare, queue_size=queue_size)
        self._progress = ProgressPoller(
            resources.engine,
            resources.temporal,
            self._registry,
            interval_s=progress_interval_s,
            reconcile=partial(reconciled_status, resources),
        )
        self._poll_interval_s = poll_interval_s
        self._seen: dict[int, None] = {}
        self._high_water = 0
        #: (high water, wall time) when the broker was last lost; where a catch-up starts.
        self._lost_at: tuple[int, datetime] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._feed: BrokerFeed | None = None
        self._connected = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- lifecycle ----------------------------------------------------------------------------
    async def start(self, *, ready_timeout_s: float = 5.0) -> None:
        """Start the feed (and wait a little for the broker, so events from now on arrive)."""
        self._loop = asyncio.get_running_loop()
        try:
            self._high_water = await asyncio.wait_for(self._log.max_id(), timeout=2)
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
                self._high_water = await self._log.max_id()
            except Exception:
                continue
            await self._start_feeds(ready_timeout_s)
            return

    async def _start_feeds(self, ready_timeout_s: float) -> None:
        self._lost_at = (self._high_water, datetime.now(UTC))
        amqp_url = self._resources.settings.amqp_url
        if amqp_url:
            self._feed = BrokerFeed(
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
            self._spawn(
                self._log.poll(
                    lambda: self._high_water, self._accept, interval_s=self._poll_interval_s
                )
            )
        self._spawn(self._progress.run())

    async def close(self) -> None:
        if self._feed is not None:
            await asyncio.to_thread(self._feed.stop)
        await self._registry.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- sockets ------------------------------------------------------------------------------
    def subscribe(self, user_id: uuid.UUID | str) -> Subscription:
        return self._registry.subscribe(user_id)

    def unsubscribe(self, subscription: Subscription) -> None:
        self._registry.unsubscribe(subscription)

    def push(self, user_id: uuid.UUID | str, message: PushMessage) -> None:
        """Send a state message (like progress) to the user's open sockets, in order with their
        events; nothing happens when the user has none."""
        self._registry.deliver(str(user_id), message)

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
        events = await self._log.of_user(user_id, after, REPLAY_PAGE)
        detected = {
            e.analysis_id for e in events if message_type(e.routing_key) == "holds_detected"
        }
        # The map is only worth a Temporal query while it still awaits validation.
        engine, temporal = self._resources.engine, self._resources.temporal
        waiting = await unfinished(engine, detected) if detected else set()
        maps = {aid: await awaiting_holds(temporal, aid, wait_s=1.0) for aid in waiting}
        return [event.message(maps.get(event.analysis_id)) for event in events]

    # --- feeding (the broker thread's callbacks, moved onto the loop) --------------------------
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
        if headers.get(LEGACY_ONLY_HEADER):
            return  # a legacy job's own answer: the run's own event told the app
        try:
            body = json.loads(raw)
            user_id = canonical_user(body["user_id"])
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
        self._registry.deliver(event.user_id, event)

    async def _catch_up(self, since_id: int, since: datetime) -> None:
        """Re-read what connected users may have missed while the broker was away."""
        users = [uuid.UUID(u) for u in self._registry.users()]
        if not users:
            return
        try:
            events = await self._log.since_loss(users, since_id, since)
        except Exception:
            log.exception("could not read the event log after a broker reconnect")
            return
        for event in events:
            self._accept(event)

    # --- one message, in its user's lane -------------------------------------------------------
    async def _prepare(
        self, item: LoggedEvent | PushMessage, channel: UserChannel
    ) -> PushMessage | None:
        if isinstance(item, PushMessage):  # progress
            return None if item.analysis_id in channel.finished else item
        event = item
        if event.id is None and event.message_id:
            event.id = await self._log.id_of(event.message_id)
        if event.id is not None:
            if event.id in self._seen:
                return None
            self._seen[event.id] = None
            if len(self._seen) > SEEN_IDS:
                del self._seen[next(iter(self._seen))]
        if str(event.body.get("analysis_status", "")) in FINISHED:
            channel.finished.add(event.analysis_id)
            self._progress.forget(event.analysis_id)
        else:
            self._progress.learn(event.analysis_id, event.user_id)
        hold_map = None
        if message_type(event.routing_key) == "holds_detected":
            hold_map = await awaiting_holds(
                self._resources.temporal, event.analysis_id, wait_s=HOLDS_WAIT_S
            )
        return event.message(hold_map)
