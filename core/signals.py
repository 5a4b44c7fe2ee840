"""How a long-running process learns to stop: SIGINT or SIGTERM sets an event it waits on.

The workers, the ingress and the dev stack all stop the same way: the signal only sets the event,
and the process then drains and closes what it opened (a worker finishes its running activities,
the ingress settles the messages in flight) instead of dying where the default handler hit it.
"""

from __future__ import annotations

import asyncio
import signal


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM; call it from inside the running event loop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
