"""What a closed analysis run was given and what it had accepted, read from its history.

Support's redrive (`core.analyses.retry_analysis`) starts the analysis again with the same
inputs. The history is the one faithful record of them: the pinned video copy, the tier and
morphology of the start, and the hold map the climber validated (the route's map in the
database may have been corrected again since). Payloads are decoded with the client's data
converter, so inputs kept in object storage are read back from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter

from schema import names
from schema.activities import HAND_OVER_ROUTE_HOLDS, SAVE_ROUTE_HOLDS
from schema.analysis import StartAnalysisInput
from schema.holds import HoldMap, hold_map_from_dict
from schema.routes import RouteHoldsReady

#: The activities that store a run's accepted map on the route, and the field of their input
#: that holds it. A completed one means the run had accepted that map for good. Runs before
#: the route's run became the one writer of its map saved it themselves; later ones hand it
#: over to the route's run.
ROUTE_MAP_WRITERS: Final[dict[str, str]] = {
    SAVE_ROUTE_HOLDS.name: "hold_map",
    HAND_OVER_ROUTE_HOLDS.name: "accepted_hold_map",
}


@dataclass(frozen=True)
class RunInputs:
    #: The run's workflow input, exactly as it was started.
    params: StartAnalysisInput
    #: The map the run accepted and saved on the route (the climber's validation, or the
    #: detected map after the deadline), or the one the route's own run sent it; None when the
    #: run ended before it had one.
    accepted_hold_map: HoldMap | None


async def run_inputs(converter: DataConverter, history: WorkflowHistory) -> RunInputs:
    """Decode the start input and the accepted hold map of an analysis run's history."""
    first = history.events[0]
    if not first.HasField("workflow_execution_started_event_attributes"):
        raise ValueError(f"{history.workflow_id}: the history does not start with its input")
    started = first.workflow_execution_started_event_attributes
    [params] = await converter.decode_wrapper(started.input, [StartAnalysisInput])
    writes: dict[int, tuple[str, Any]] = {}
    accepted: HoldMap | None = None
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled = event.activity_task_scheduled_event_attributes
            field = ROUTE_MAP_WRITERS.get(scheduled.activity_type.name)
            if field is not None:
                writes[event.event_id] = (field, scheduled.input)
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            signaled = event.workflow_execution_signaled_event_attributes
            if signaled.signal_name == names.ROUTE_HOLDS_READY_SIGNAL:
                [ready] = await converter.decode_wrapper(signaled.input, [RouteHoldsReady])
                accepted = ready.hold_map or accepted
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            completed = event.activity_task_completed_event_attributes
            write = writes.get(completed.scheduled_event_id)
            if write is not None:
                field, payloads = write
                [saved] = await converter.decode_wrapper(payloads, [dict])
                if saved.get(field) is not None:
                    accepted = hold_map_from_dict(saved[field])
    return RunInputs(params, accepted)
