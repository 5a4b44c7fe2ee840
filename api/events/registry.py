"""Who is listening: each user's open sockets, and the ordered lane their messages go through.

Each socket has a bounded queue (`Subscription`); a client too slow to drain it is ended with
close code 1013 and reconnects with its last event id, so it loses nothing and never holds up
anyone else. A user's messages pass one at a time through that user's lane, so a slow lookup
while preparing one (the detected hold map) never reorders what the user receives.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from api.events.messages import LoggedEvent, PushMessage, canonical_user

log = logging.getLogger("ascension.api.events")

#: Messages waiting for one socket before its client counts as too slow.
SUBSCRIBER_QUEUE_SIZE = 256
CLOSE_TOO_SLOW = 1013
CLOSE_GOING_AWAY = 1001


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
class UserChannel:
    """A user's open sockets and the ordered lane their messages go through."""

    subscriptions: set[Subscription] = field(default_factory=set)
    inbox: asyncio.Queue[LoggedEvent | PushMessage] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None
    #: Analyses whose final event was sent: later (stale) progress for them is dropped.
    finished: set[str] = field(default_factory=set)
    #: Last progress sent per analysis, as (status, stage, percent).
    progress_sent: dict[str, tuple[str, str, float]] = field(default_factory=dict)
    #: Running analyses whose run was checked for a close the row missed (`api.reconcile`),
    #: once per analysis while the user's sockets stay open.
    reconciled: set[str] = field(default_factory=set)


#: Turns what arrived for a user into the frame to send, or None to send nothing.
Prepare = Callable[[LoggedEvent | PushMessage, UserChannel], Awaitable[PushMessage | None]]


class SubscriberRegistry:
    """The users with open sockets, each with a lane that prepares and fans out in order."""

    def __init__(self, prepare: Prepare, *, queue_size: int = SUBSCRIBER_QUEUE_SIZE) -> None:
        self._prepare = prepare
        self._queue_size = queue_size
        self._channels: dict[str, UserChannel] = {}

    def subscribe(self, user_id: uuid.UUID | str) -> Subscription:
        key = canonical_user(user_id)
        subscription = Subscription(key, self._queue_size)
        channel = self._channels.get(key)
        if channel is None:
            channel = self._channels[key] = UserChannel()
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

    def channel(self, user_id: str) -> UserChannel | None:
        return self._channels.get(user_id)

    def users(self) -> list[str]:
        """Users with at least one open socket."""
        return [user for user, channel in self._channels.items() if channel.subscriptions]

    def deliver(self, user_id: str, item: LoggedEvent | PushMessage) -> None:
        """Into the user's lane, after what is already there; dropped when nobody listens."""
        channel = self._channels.get(canonical_user(user_id))
        if channel is not None:
            channel.inbox.put_nowait(item)

    async def close(self) -> None:
        """End every socket (the server is going away) and stop the lanes."""
        lanes: list[asyncio.Task[None]] = []
        for channel in self._channels.values():
            for subscription in channel.subscriptions:
                subscription.end(CLOSE_GOING_AWAY, "the server is restarting; reconnect")
            if channel.task is not None:
                channel.task.cancel()
                lanes.append(channel.task)
        self._channels.clear()
        await asyncio.gather(*lanes, return_exceptions=True)

    async def _lane(self, user_id: str, channel: UserChannel) -> None:
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
