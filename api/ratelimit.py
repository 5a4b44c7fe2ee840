"""Per-client request limits for the endpoints attackers hammer (login, register, uploads).

A sliding-window-log limiter kept in the API process: exact within one process, no extra
service to run. Behind several API replicas each enforces its own share, which still bounds
password guessing per replica; a shared store (Redis) would make it global.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from fastapi import Request

from api.errors import ApiError

WINDOW_S = 60.0


class RateLimiter:
    """At most ``per_minute`` hits per key in any 60-second window; 0 turns it off."""

    def __init__(
        self, name: str, per_minute: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.name = name
        self.per_minute = per_minute
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str) -> None:
        """Count one request, or raise 429 with Retry-After when the window is full."""
        if self.per_minute <= 0:
            return
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - WINDOW_S:
            hits.popleft()
        if len(hits) >= self.per_minute:
            retry_after = max(1, math.ceil(hits[0] + WINDOW_S - now))
            raise ApiError(
                429,
                "too_many_requests",
                f"too many {self.name} requests; try again in {retry_after} s",
                headers={"Retry-After": str(retry_after)},
            )
        hits.append(now)
        if len(self._hits) > 100_000:  # bound memory under a flood of distinct addresses
            self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - WINDOW_S]:
            del self._hits[key]


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"
