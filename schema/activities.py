"""The analysis's activities: for each, the name it is scheduled by, its input, its output, and
where its code is.

The workflow must not import activity modules (Temporal's sandbox replays it, and they pull in
numpy, cv2, torch and the database), so it schedules each step through its `ActivitySpec`:
`workflows.video_analysis` passes ``spec.name`` and ``spec.result_type`` to Temporal, and mypy
checks the argument against ``spec.input``. The code registers under the same name
(``@activity.defn(name=spec.name)``); `implementation` names it, so a reader goes from the
workflow to the code in one jump. `tests/schema/test_activities.py` checks that every entry's
implementation exists, is registered under the name and takes and returns the listed types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from schema.cleanup import (
    ExpireUploadsInput,
    ExpireUploadsResult,
    RemoveOrphanedPayloadsInput,
    RemoveOrphanedPayloadsResult,
)
from schema.events import AnalysisEvent
from schema.routes import RouteHoldsInput
from schema.steps import (
    AdviceInput,
    AdviceResult,
    CleanupUploadInput,
    CleanupUploadResult,
    DetectHoldsInput,
    DetectHoldsResult,
    ExtractSkeletonInput,
    GhostInput,
    GhostResult,
    PersistResultsInput,
    RecordStatusInput,
    SaveRouteHoldsInput,
    SkeletonResult,
)
from schema.training import RegenerateProgramInput, RegenerationRequested

InT = TypeVar("InT")
OutT = TypeVar("OutT")


@dataclass(frozen=True)
class ActivitySpec(Generic[InT, OutT]):
    """One activity: scheduled by `name` with an ``input``, answering an ``output``."""

    name: str
    input: type[InT]
    output: type[OutT]
    #: ``module:Class.method`` (or ``module:function``) of the code registered under `name`.
    implementation: str

    @property
    def result_type(self) -> type[Any] | None:
        """What Temporal decodes the result into (None for activities that return nothing)."""
        output: type[Any] = self.output
        return None if output is type(None) else output


# --- GPU queue (worker_gpu) ------------------------------------------------------------------
DETECT_HOLDS: Final = ActivitySpec(
    "detect_holds",
    DetectHoldsInput,
    DetectHoldsResult,
    "activities.vision:VisionActivities.detect_holds",
)
EXTRACT_SKELETON: Final = ActivitySpec(
    "extract_skeleton",
    ExtractSkeletonInput,
    SkeletonResult,
    "activities.vision:VisionActivities.extract_skeleton",
)
GENERATE_ADVICE: Final = ActivitySpec(
    "generate_advice",
    AdviceInput,
    AdviceResult,
    "activities.vision:VisionActivities.generate_advice",
)
COMPUTE_GHOST: Final = ActivitySpec(
    "compute_ghost",
    GhostInput,
    GhostResult,
    "activities.vision:VisionActivities.compute_ghost",
)

# --- CPU queue (worker_cpu) ------------------------------------------------------------------
SAVE_ROUTE_HOLDS: Final = ActivitySpec(
    "save_route_holds",
    SaveRouteHoldsInput,
    type(None),
    "activities.records:AnalysisRecords.save_route_holds",
)
RECORD_ANALYSIS_STATUS: Final = ActivitySpec(
    "record_analysis_status",
    RecordStatusInput,
    type(None),
    "activities.records:AnalysisRecords.record_analysis_status",
)
PERSIST_RESULTS: Final = ActivitySpec(
    "persist_results",
    PersistResultsInput,
    type(None),
    "activities.records:AnalysisRecords.persist_results",
)
PUBLISH_EVENT: Final = ActivitySpec(
    "publish_event",
    AnalysisEvent,
    type(None),
    "activities.events:EventActivities.publish_event",
)
CLEANUP_UPLOAD: Final = ActivitySpec(
    "cleanup_upload",
    CleanupUploadInput,
    CleanupUploadResult,
    "activities.uploads:UploadCleanup.cleanup_upload",
)
REQUEST_TRAINING_REGENERATION: Final = ActivitySpec(
    "request_training_regeneration",
    RegenerateProgramInput,
    RegenerationRequested,
    "activities.regeneration:TrainingRegeneration.request_training_regeneration",
)
HAND_OVER_ROUTE_HOLDS: Final = ActivitySpec(
    "hand_over_route_holds",
    RouteHoldsInput,
    type(None),
    "activities.route_holds:RouteHoldsHandOver.hand_over_route_holds",
)
EXPIRE_UNSAVED_UPLOADS: Final = ActivitySpec(
    "expire_unsaved_uploads",
    ExpireUploadsInput,
    ExpireUploadsResult,
    "activities.cleanup:StorageCleanup.expire_unsaved_uploads",
)
REMOVE_ORPHANED_PAYLOADS: Final = ActivitySpec(
    "remove_orphaned_payloads",
    RemoveOrphanedPayloadsInput,
    RemoveOrphanedPayloadsResult,
    "activities.cleanup:StorageCleanup.remove_orphaned_payloads",
)

GPU_ACTIVITIES: Final = (DETECT_HOLDS, EXTRACT_SKELETON, GENERATE_ADVICE, COMPUTE_GHOST)
CPU_ACTIVITIES: Final = (
    SAVE_ROUTE_HOLDS,
    RECORD_ANALYSIS_STATUS,
    PERSIST_RESULTS,
    PUBLISH_EVENT,
    CLEANUP_UPLOAD,
    REQUEST_TRAINING_REGENERATION,
    HAND_OVER_ROUTE_HOLDS,
    EXPIRE_UNSAVED_UPLOADS,
    REMOVE_ORPHANED_PAYLOADS,
)
