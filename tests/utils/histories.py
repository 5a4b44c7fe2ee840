"""Recorded workflow histories: written by real runs, replayed in CI.

Run ``ASCENSION_RECORD_HISTORIES=1 pytest tests/workflows`` to refresh them after an intended,
patched change; commit the JSON files. The replay tests then fail on any non-deterministic change.
"""

from __future__ import annotations

import os
from pathlib import Path

from temporalio.client import WorkflowHandle

HISTORY_DIR = Path(__file__).resolve().parent.parent / "workflows" / "histories"


async def record_history(handle: WorkflowHandle, name: str) -> None:
    """Save the run's history as ``<name>.json`` when recording is switched on."""
    if os.environ.get("ASCENSION_RECORD_HISTORIES") != "1":
        return
    history = await handle.fetch_history()
    HISTORY_DIR.mkdir(parents=True, exist_ok=True)
    (HISTORY_DIR / f"{name}.json").write_text(history.to_json())
