"""Replay a workflow history against today's workflow code, as the CPU worker would run it.

A replay answers "would the workers deployed now still run this analysis?": the history is fed
to the production workflows with the production data converter (external payloads are read from
the payload bucket), and any command the code would issue differently from the history is a
nondeterminism error. CI replays the recorded histories (`tests/workflows/test_replay.py`);
support replays a live or exported one (`ascension replay`) before a deploy or a redrive.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer

from worker_cpu.worker import WORKFLOWS


class HistoryFileError(ValueError):
    """The file is not a workflow history exported from the Web UI or the Temporal CLI."""


@dataclass(frozen=True)
class ReplayOutcome:
    workflow_id: str
    #: The run's id from its first event (empty for a history without one).
    run_id: str
    events: int
    #: None when the code replays the history; otherwise why not (a nondeterminism error names
    #: the event and the command that differ).
    failure: str | None

    @property
    def ok(self) -> bool:
        return self.failure is None


async def replay_history(
    history: WorkflowHistory, *, data_converter: DataConverter | None = None
) -> ReplayOutcome:
    """Replay ``history`` with the CPU worker's workflows; the outcome, never an exception for
    a history the code cannot replay."""
    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter or DataConverter.default)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    failure = result.replay_failure
    return ReplayOutcome(
        workflow_id=history.workflow_id,
        run_id=history.run_id if history.events else "",
        events=len(history.events),
        failure=None if failure is None else f"{type(failure).__name__}: {failure}",
    )


async def fetch_history(
    client: Client, workflow_id: str, run_id: str | None = None
) -> WorkflowHistory:
    """The history of ``workflow_id``'s latest run (or of ``run_id``) from the server."""
    return await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()


def read_history_file(path: Path, *, workflow_id: str | None = None) -> WorkflowHistory:
    """A history exported from the Web UI ("Download" on the run's history) or the CLI
    (``temporal workflow show --output json``). The export does not carry the workflow id, so it
    is ``workflow_id`` or else the file's name without its extension."""
    try:
        text = path.read_text()
    except OSError as error:
        raise HistoryFileError(f"cannot read {path}: {error.strerror}") from None
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        raise HistoryFileError(f"{path} is not JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("events"), list):
        raise HistoryFileError(f"{path} has no 'events' list: not an exported workflow history")
    try:
        history = WorkflowHistory.from_json(workflow_id or path.stem, parsed)
    except Exception as error:  # protobuf's ParseError and friends: a malformed export
        raise HistoryFileError(f"{path} is not a workflow history: {error}") from None
    if not history.events or not history.events[0].HasField(
        "workflow_execution_started_event_attributes"
    ):
        raise HistoryFileError(f"{path} does not start with WorkflowExecutionStarted")
    return history
