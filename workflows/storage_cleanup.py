"""StorageCleanupWorkflow: once a day, what seed 000's lifecycle promises and nothing else does.

Unsaved uploads past their ``videos.expires_at`` (set to upload + 7 days when the upload URL is
issued) are deleted with their analyses' copies; rows without one (written before it was set)
are marked expired with it, so the app shows every expired video as such. Payloads kept in the
payload bucket for analyses that no longer exist (their video deleted while Temporal could not
be reached, a cancelled deletion) are removed.

Started by the Temporal Schedule `names.STORAGE_CLEANUP_SCHEDULE_ID` (`core.cleanup`), so a run
is visible in the Web UI, missed days are not piled up (overlap: skip) and an operator can
trigger or pause it there. The cutoff is taken from `workflow.now()`: the run's own clock, which
the time-skipping tests move days ahead. Both activities are idempotent: a retry or the next
day's run finds the objects gone and deletes nothing twice.

Deterministic and light by construction: this module imports only data classes and names.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from schema import names
    from schema.activities import EXPIRE_UNSAVED_UPLOADS, REMOVE_ORPHANED_PAYLOADS
    from schema.cleanup import (
        ExpireUploadsInput,
        RemoveOrphanedPayloadsInput,
        StorageCleanupInput,
        StorageCleanupResult,
    )

#: Listing and deleting a day's worth of objects; heartbeats show it moving.
CLEANUP_STEP_TIMEOUT = timedelta(minutes=30)
CLEANUP_HEARTBEAT = timedelta(minutes=2)
CLEANUP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=5,
)


@workflow.defn(name=names.STORAGE_CLEANUP_WORKFLOW)
class StorageCleanupWorkflow:
    @workflow.run
    async def run(self, params: StorageCleanupInput) -> StorageCleanupResult:
        uploads = await workflow.execute_activity(
            EXPIRE_UNSAVED_UPLOADS.name,
            ExpireUploadsInput(
                params.bucket, workflow.now().isoformat(), params.upload_retention_days
            ),
            result_type=EXPIRE_UNSAVED_UPLOADS.result_type,
            task_queue=params.cpu_task_queue,
            start_to_close_timeout=CLEANUP_STEP_TIMEOUT,
            heartbeat_timeout=CLEANUP_HEARTBEAT,
            retry_policy=CLEANUP_RETRY,
        )
        payloads = await workflow.execute_activity(
            REMOVE_ORPHANED_PAYLOADS.name,
            RemoveOrphanedPayloadsInput(params.payload_bucket, params.namespace),
            result_type=REMOVE_ORPHANED_PAYLOADS.result_type,
            task_queue=params.cpu_task_queue,
            start_to_close_timeout=CLEANUP_STEP_TIMEOUT,
            heartbeat_timeout=CLEANUP_HEARTBEAT,
            retry_policy=CLEANUP_RETRY,
        )
        workflow.logger.info("storage cleanup: %s, %s", uploads, payloads)
        return StorageCleanupResult(uploads, payloads)
