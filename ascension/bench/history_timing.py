"""Where a workflow run's time went, read from its history's event timestamps.

The server stamps every event, so a closed run's history says how long it took (execution
started → closed), how long its activities ran (each regular activity's started → completed)
and how many workflow tasks it needed (each a round trip through the server). What is left,
wall minus activity time, is orchestration: dispatch of each step, workflow tasks, the
worker's polling.

Local activities run inside a workflow task and leave only a marker, whose times are workflow
time (the task's start), not the wall clock: their own time cannot be told apart and counts as
overhead here. The figure is therefore an upper bound on orchestration whenever local
activities do real work (for the negligible doubles of `ascension bench orchestration` it is
exact to within their microseconds).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHandle

#: The marker the SDK's core records for each local activity.
LOCAL_ACTIVITY_MARKER = "core_local_activity"

_CLOSED = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
}


@dataclass(frozen=True)
class HistoryTiming:
    """One run's time, from its history."""

    #: Execution started → closed, by the server's clock.
    wall_s: float
    #: Sum of started → completed over the regular activities that completed.
    activity_s: float
    #: Regular activities that completed.
    activities: int
    #: Local activities recorded (their time is inside ``overhead_s``; see the module).
    local_activities: int
    #: Workflow tasks completed: each one a round trip through the server.
    workflow_tasks: int
    #: Regular activities scheduled, by type, in order.
    scheduled: tuple[str, ...]
    #: Sum of scheduled → started over the regular activities: waiting for a worker's slot
    #: (dispatch alone when one is free; queueing under load).
    queued_s: float = 0.0
    #: Sum of started → completed over the workflow tasks: the worker running workflow code
    #: and, inside it, the local activities.
    task_s: float = 0.0

    @property
    def overhead_s(self) -> float:
        return max(0.0, self.wall_s - self.activity_s)

    @property
    def round_trips_s(self) -> float:
        """What is neither activity, nor waiting for a worker, nor a workflow task's own work:
        the server's scheduling and dispatch of workflow tasks and results."""
        return max(0.0, self.overhead_s - self.queued_s - self.task_s)


def timing_of(events: Iterable[HistoryEvent]) -> HistoryTiming:
    """The timing of a closed run's ``events`` (a run still open has wall 0)."""
    started_at: dict[int, float] = {}
    scheduled_at: dict[int, float] = {}
    task_started_at: dict[int, float] = {}
    begin = end = None
    activity_s, activities, local, tasks = 0.0, 0, 0, 0
    queued_s = task_s = 0.0
    scheduled: list[str] = []
    for event in events:
        at = event.event_time.ToDatetime().timestamp()
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            begin = at
        elif kind in _CLOSED:
            end = at
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            task_started_at[event.event_id] = at
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            tasks += 1
            task_begin = task_started_at.get(
                event.workflow_task_completed_event_attributes.started_event_id
            )
            if task_begin is not None:
                task_s += at - task_begin
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled.append(event.activity_task_scheduled_event_attributes.activity_type.name)
            scheduled_at[event.event_id] = at
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started_at[event.event_id] = at
            queued_at = scheduled_at.get(
                event.activity_task_started_event_attributes.scheduled_event_id
            )
            if queued_at is not None:
                queued_s += at - queued_at
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            attrs = event.activity_task_completed_event_attributes
            if attrs.started_event_id in started_at:
                activity_s += at - started_at[attrs.started_event_id]
                activities += 1
        elif (
            kind == EventType.EVENT_TYPE_MARKER_RECORDED
            and event.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
        ):
            local += 1
    wall = (end - begin) if begin is not None and end is not None else 0.0
    return HistoryTiming(
        wall, activity_s, activities, local, tasks, tuple(scheduled), queued_s, task_s
    )


async def fetch_timing(handle: WorkflowHandle) -> HistoryTiming:
    """The timing of the closed run behind ``handle``."""
    return timing_of([event async for event in handle.fetch_history_events()])
