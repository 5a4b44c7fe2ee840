"""An analysis's progress as the app shows it: the workflow's `status` Query refined by heartbeats.

The workflow knows the stage; only the running activity knows how far into the video it is, and
it says so in its heartbeat details. Reading those through DescribeWorkflowExecution keeps the
workflow free of progress signals (which would add an event to history per update) while the
app still sees the percentage move frame by frame.

It lives beside its users (the analyses routes and the WebSocket hub; the `demo` command reads it
from here too) rather than in ``core``: it reads the workflow's ``STAGE_PERCENT``, and the ground
floor must not import workflows. The Query itself goes through `core.analyses`.
"""

from __future__ import annotations

from temporalio.client import WorkflowHandle
from temporalio.converter import DataConverter

from core.analyses import query_status
from schema.analysis import AnalysisProgress, Stage, StageProgress, Status
from workflows.analysis_policies import STAGE_PERCENT
from workflows.analysis_steps import BOOKKEEPING

_ORDER = list(STAGE_PERCENT)


def _stage_span(stage: Stage) -> tuple[float, float]:
    start = STAGE_PERCENT[stage]
    later = [STAGE_PERCENT[s] for s in _ORDER[_ORDER.index(stage) + 1 :]]
    return start, (later[0] if later else 100.0)


async def read_progress(handle: WorkflowHandle, converter: DataConverter) -> AnalysisProgress:
    """The `status` Query, with the running step's heartbeat folded into ``percent``."""
    progress = await query_status(handle)
    if progress.status != Status.PROCESSING:
        return progress
    description = await handle.describe()
    for pending in description.raw_description.pending_activities:
        if pending.activity_type.name in BOOKKEEPING:
            # A bookkeeping step waiting for the database (`status.waiting_for` says so), not
            # the stage's own step being retried.
            continue
        progress.step_attempt = pending.attempt
        if not pending.heartbeat_details.payloads:
            continue
        [details] = await converter.decode(pending.heartbeat_details.payloads, [StageProgress])
        if not isinstance(details, StageProgress) or details.total <= 0:
            continue
        progress.step_done, progress.step_total = details.done, details.total
        start, end = _stage_span(progress.stage)
        fraction = min(1.0, max(0.0, details.done / details.total))
        progress.percent = round(start + (end - start) * fraction, 1)
    return progress
