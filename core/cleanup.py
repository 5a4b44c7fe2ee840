"""One owner of the daily storage cleanup's Temporal Schedule (issue 17 item 5).

A Schedule rather than a long-lived workflow with a timer loop: the server starts each day's run
even when no worker was up at the time (it runs once one polls), the Web UI shows the schedule,
its recent and next runs, and an operator can pause it or trigger a run without a deploy.
`ensure_cleanup_schedule` is called by every CPU worker at start: it creates the schedule, or
brings an existing one to this process's settings (bucket, queue, namespace), so changing them
needs no manual step. The workflow is named by the strings of `schema.names`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from core.settings import Settings
from schema import names
from schema.cleanup import StorageCleanupInput

#: 03:30 UTC, the quietest hour for most climbers in Europe and the Americas.
CLEANUP_HOUR_UTC: Final = 3
CLEANUP_MINUTE: Final = 30
#: Past this, a missed day's run is dropped: the next one does the same work.
CATCHUP_WINDOW: Final = timedelta(hours=12)


def cleanup_input(settings: Settings) -> StorageCleanupInput:
    return StorageCleanupInput(
        bucket=settings.bucket,
        payload_bucket=settings.payload_bucket,
        namespace=settings.temporal_namespace,
        cpu_task_queue=settings.cpu_task_queue,
    )


def cleanup_schedule(settings: Settings) -> Schedule:
    """Daily at `CLEANUP_HOUR_UTC`:`CLEANUP_MINUTE`; a run still going skips the next."""
    params = cleanup_input(settings)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            names.STORAGE_CLEANUP_WORKFLOW,
            params,
            id=f"{names.STORAGE_CLEANUP_SCHEDULE_ID}-run",
            task_queue=params.cpu_task_queue,
            execution_timeout=timedelta(hours=6),
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    hour=[ScheduleRange(CLEANUP_HOUR_UTC)],
                    minute=[ScheduleRange(CLEANUP_MINUTE)],
                )
            ]
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=CATCHUP_WINDOW),
    )


async def ensure_cleanup_schedule(client: Client, settings: Settings) -> None:
    """Create the daily schedule, or update the existing one to these settings (idempotent)."""
    schedule = cleanup_schedule(settings)
    try:
        await client.create_schedule(names.STORAGE_CLEANUP_SCHEDULE_ID, schedule)
    except ScheduleAlreadyRunningError:

        def replace(current: ScheduleUpdateInput) -> ScheduleUpdate:
            # Keep the operator's pause (and its note): only what the settings decide changes.
            schedule.state = current.description.schedule.state
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(names.STORAGE_CLEANUP_SCHEDULE_ID).update(replace)
