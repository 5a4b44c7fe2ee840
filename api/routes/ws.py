"""WebSocket ``/api/v1/ws``: the climber's own analysis events and progress, pushed as they happen.

Connect with the access token as ``?token=...`` (browsers cannot set headers on a WebSocket) or an
``Authorization: Bearer`` header. A missing, invalid, expired or revoked token closes the socket
with code 4401 before any message. Pass ``?last_event_id=N`` to first receive every event after
N that the client missed; after that, events arrive live. One JSON object per frame:

    {"id": 42, "type": "stage_completed", "analysis_id": "...", "stage": "skeleton",
     "occurred_at": "...", "data": {...the published event body...}}

``type`` is holds_detected (``data.hold_map``: the detected map while it awaits validation,
else null), stage_completed, stage_failed, analysis_completed, analysis_failed (failures carry
``data.reason``; ``data.analysis_status`` says whether the analysis ended) or progress
(``id`` null, never replayed; ``data.percent``, ``data.stage``, ``data.status``). Close codes:
4401 sign in again; 4400 bad ``last_event_id`` (not an id from 0 to 2^63-1); 1013 the client
fell behind (reconnect with its last id); 1001 the server is restarting; 1011 live events are
unavailable right now.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import APIRouter, WebSocket

from api.deps import LiveEvents, Principal, Resources, authenticate
from api.errors import ApiError
from api.events.messages import PushMessage
from api.events.registry import Subscription
from api.metrics import get_metrics

router = APIRouter(tags=["events"])
log = logging.getLogger("ascension.api.ws")

CLOSE_UNAUTHORIZED = 4401
CLOSE_BAD_REQUEST = 4400
CLOSE_UNAVAILABLE = 1011
#: Event ids are BIGINTs.
MAX_EVENT_ID = 2**63 - 1
#: Close reasons must fit in a control frame (125 bytes, 2 of them for the code).
_MAX_REASON = 120


@router.websocket("/ws")
async def events_socket(websocket: WebSocket, resources: Resources, hub: LiveEvents) -> None:
    token = websocket.query_params.get("token") or _bearer(websocket.headers.get("authorization"))
    principal: Principal | None = None
    problem = "sign in: the access token is missing or invalid"
    if token:
        try:
            async with resources.sessions() as session:
                principal = await authenticate(resources.tokens, session, token)
        except ApiError as err:
            problem = err.message
        except Exception:
            log.exception("could not check a WebSocket token")
            await _refuse(websocket, CLOSE_UNAVAILABLE, "try again in a minute")
            return
    if principal is None:
        await _refuse(websocket, CLOSE_UNAUTHORIZED, problem)
        return

    raw_last = websocket.query_params.get("last_event_id")
    last_event_id: int | None = None
    if raw_last is not None:
        last_event_id = _event_id(raw_last)
        if last_event_id is None:
            await _refuse(
                websocket, CLOSE_BAD_REQUEST, "last_event_id must be an event id (0 to 2^63-1)"
            )
            return

    if hub is None:
        await _refuse(websocket, CLOSE_UNAVAILABLE, "live events are unavailable right now")
        return
    await websocket.accept()
    subscription = hub.subscribe(principal.user_id)
    try:
        with get_metrics(websocket.app).websocket_connection():
            await _serve(websocket, hub.stream(subscription, last_event_id), subscription)
    finally:
        hub.unsubscribe(subscription)


def _event_id(raw: str) -> int | None:
    """An event id (a BIGINT), or None: ASCII digits only (``str.isdigit`` also takes "²"),
    within the column's range (a larger one overflowed in the database driver)."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(MAX_EVENT_ID)):
        return None
    value = int(raw)
    return value if value <= MAX_EVENT_ID else None


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip() or None


async def _refuse(websocket: WebSocket, code: int, reason: str) -> None:
    """Accept only to say why: a refused handshake would hide the code from the client."""
    await websocket.accept()
    await websocket.close(code, reason.encode()[:_MAX_REASON].decode(errors="ignore"))


async def _serve(
    websocket: WebSocket, messages: AsyncIterator[PushMessage], subscription: Subscription
) -> None:
    """Send until the client leaves or the subscription ends (too slow, shutdown)."""
    sender = asyncio.create_task(_send_all(websocket, messages))
    receiver = asyncio.create_task(_until_disconnect(websocket))
    ended = asyncio.create_task(subscription.ended.wait())
    done, pending = await asyncio.wait(
        {sender, receiver, ended}, return_when=asyncio.FIRST_COMPLETED
    )
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if receiver in done:
        return  # the client is gone: nothing to close
    code, reason = subscription.end_code, subscription.end_reason
    if sender in done and not subscription.ended.is_set():
        error = sender.exception()
        if error is None:
            return  # the client went away while we were sending
        log.error("live events stream failed", exc_info=error)
        code, reason = CLOSE_UNAVAILABLE, "live events failed; reconnect with last_event_id"
    # A client that stopped reading may never take the close frame: don't wait on it forever.
    with contextlib.suppress(Exception):
        await asyncio.wait_for(websocket.close(code, reason), timeout=5)


async def _send_all(websocket: WebSocket, messages: AsyncIterator[PushMessage]) -> None:
    async for message in messages:
        try:
            await websocket.send_text(message.to_json())
        except Exception:
            return  # the connection closed under us; the receiver sees it too


async def _until_disconnect(websocket: WebSocket) -> None:
    """Read (and ignore) whatever the client sends, to notice when it leaves."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
