"""`stop_on_signals`: SIGTERM and SIGINT set the event the processes wait on, nothing else."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from core.signals import stop_on_signals

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_sets_the_stop_event(sig: signal.Signals) -> None:
    loop = asyncio.get_running_loop()
    try:
        stop = stop_on_signals()
        assert not stop.is_set()
        os.kill(os.getpid(), sig)
        await asyncio.wait_for(stop.wait(), 5)
    finally:
        # The test loop lives for the whole session: leave its signals as they were.
        loop.remove_signal_handler(signal.SIGINT)
        loop.remove_signal_handler(signal.SIGTERM)
