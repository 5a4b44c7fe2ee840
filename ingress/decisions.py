"""What the ingress does with a message, and when it gives up: ack, park or retry; the shared
backoff during an outage; the bounded count of unexpected failures per message; and which errors
are an outage of what we depend on (retry for as long as it takes) rather than the message's fault.
"""

from __future__ import annotations

import hashlib
import random
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final

import aiohttp
import sqlalchemy.exc
from miniopy_async.error import InvalidResponseError, ServerError
from temporalio.service import RPCError, RPCStatusCode

#: Unexpected errors (a bug, not an outage) a message may cause before it is parked.
MAX_UNEXPECTED_FAILURES: Final = 5
_TRANSIENT_RPC: Final = frozenset(
    {
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.RESOURCE_EXHAUSTED,
        RPCStatusCode.ABORTED,
        RPCStatusCode.CANCELLED,
        RPCStatusCode.UNKNOWN,
        RPCStatusCode.INTERNAL,
    }
)


@dataclass(frozen=True)
class Ack:
    """Temporal has the run: ack the message."""

    workflow_id: str
    note: str


@dataclass(frozen=True)
class Park:
    """The message can never work: republish it to the parking queue, then ack it."""

    reason: str


@dataclass(frozen=True)
class Retry:
    """Not now: requeue the message after ``delay_s`` (it stays unacked until then)."""

    delay_s: float
    reason: str


Decision = Ack | Park | Retry


@dataclass
class Backoff:
    """Exponential delay with jitter, shared by every message: one outage, one backoff."""

    initial_s: float = 0.5
    maximum_s: float = 30.0
    failures: int = 0

    def next_delay(self) -> float:
        self.failures += 1
        delay = min(self.maximum_s, self.initial_s * 2 ** min(self.failures - 1, 30))
        return delay * random.uniform(0.8, 1.0)

    def reset(self) -> None:
        self.failures = 0


class FailureCounts:
    """Unexpected failures per message body, bounded (an LRU), for the give-up rule."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._counts: OrderedDict[str, int] = OrderedDict()
        self._capacity = capacity

    @staticmethod
    def _key(queue: str, body: bytes) -> str:
        return hashlib.sha256(queue.encode() + b"\0" + body).hexdigest()

    def add(self, queue: str, body: bytes) -> int:
        key = self._key(queue, body)
        count = self._counts.pop(key, 0) + 1
        self._counts[key] = count
        while len(self._counts) > self._capacity:
            self._counts.popitem(last=False)
        return count

    def forget(self, queue: str, body: bytes) -> None:
        self._counts.pop(self._key(queue, body), None)


def is_transient(err: BaseException) -> bool:
    """An outage of something we depend on: retry the message for as long as it takes."""
    if isinstance(err, RPCError):
        return err.status in _TRANSIENT_RPC
    if isinstance(err, RuntimeError) and str(err).startswith("Failed client connect"):
        return True  # temporalio's lazy client could not reach the server
    return isinstance(
        err,
        OSError
        | TimeoutError
        | aiohttp.ClientError
        | ServerError
        | InvalidResponseError
        | sqlalchemy.exc.OperationalError
        | sqlalchemy.exc.InterfaceError
        | sqlalchemy.exc.TimeoutError,
    ) or (isinstance(err, sqlalchemy.exc.DBAPIError) and err.connection_invalidated)
