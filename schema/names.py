"""Names shared by every process: task queues, search attributes, exchanges, routing keys.

Kept in one module so a rename is one edit and the API, workers, bootstrap and tests agree.
"""

from __future__ import annotations

import re
from typing import Final

# --- Temporal ---------------------------------------------------------------------------------
#: Default task-queue names; processes read the effective ones from settings.
CPU_TASK_QUEUE: Final = "ascension-cpu"
GPU_TASK_QUEUE: Final = "ascension-gpu"

#: The analysis workflow and its handlers, under the names it declares itself with. Clients
#: (`core.analyses`) start, query and update it by these, without importing `workflows`.
ANALYSIS_WORKFLOW: Final = "VideoAnalysisWorkflow"
STATUS_QUERY: Final = "status"
VALIDATE_HOLDS_UPDATE: Final = "validate_holds"
ATTACH_LEGACY_JOB_SIGNAL: Final = "attach_legacy_job"
#: A route's own hold detection and validation (issue 16), before any video.
ROUTE_HOLDS_WORKFLOW: Final = "RouteHoldsWorkflow"
#: An analysis asks the route's run for its validated map, which answers with the second.
ATTACH_ANALYSIS_SIGNAL: Final = "attach_analysis"
#: The fire-and-forget form of `VALIDATE_HOLDS_UPDATE`, on both workflows.
SUBMIT_HOLDS_SIGNAL: Final = "submit_holds"
ROUTE_HOLDS_READY_SIGNAL: Final = "route_holds_ready"
#: Memo of a route's run: the legacy jobs attached to it after its start (their ids).
LEGACY_JOB_IDS_MEMO: Final = "legacy_job_ids"
#: The training-program workflow (issue 16), started by the API and legacy training jobs.
TRAINING_WORKFLOW: Final = "TrainingProgramWorkflow"
#: The daily storage cleanup (issue 17 item 5) and the Schedule that starts it.
STORAGE_CLEANUP_WORKFLOW: Final = "StorageCleanupWorkflow"
STORAGE_CLEANUP_SCHEDULE_ID: Final = "storage-cleanup-daily"

#: Custom search attributes support staff filter on in the Web UI.
ANALYSIS_ID_ATTRIBUTE: Final = "AnalysisId"
USER_ID_ATTRIBUTE: Final = "UserId"
ANALYSIS_STATUS_ATTRIBUTE: Final = "AnalysisStatus"
ANALYSIS_STAGE_ATTRIBUTE: Final = "AnalysisStage"
#: Their Temporal types. The bootstrap registers them on the dev server; the start sets the
#: first two (`core.analyses`), the workflow upserts them all.
SEARCH_ATTRIBUTE_TYPES: Final[dict[str, str]] = {
    ANALYSIS_ID_ATTRIBUTE: "Keyword",
    USER_ID_ATTRIBUTE: "Keyword",
    ANALYSIS_STATUS_ATTRIBUTE: "Keyword",
    ANALYSIS_STAGE_ATTRIBUTE: "Keyword",
}

# --- RabbitMQ (seed 000 topology, kept for existing consumers) -----------------------------------
VISION_EXCHANGE: Final = "ascension.vision"
TRAINING_EXCHANGE: Final = "ascension.training"
EVENTS_EXCHANGE: Final = "ascension.events"
VISION_QUEUES: Final = (
    "vision.hold_detection",
    "vision.skeleton",
    "vision.advice",
    "vision.ghost",
)
TRAINING_QUEUES: Final = ("training.program",)

# --- Object storage -----------------------------------------------------------------------------
VIDEOS_BUCKET: Final = "ascension-videos"


#: Unsaved uploads (and the analyses' copies of them) live here; the store deletes them after
#: 7 days.
UPLOADS_PREFIX: Final = "uploads/"


def upload_key(user_id: str, video_id: str) -> str:
    return f"{UPLOADS_PREFIX}{user_id}/{video_id}.mp4"


def saved_key(user_id: str, video_id: str) -> str:
    return f"saved/{user_id}/{video_id}.mp4"


def pinned_video_prefix(user_id: str, video_id: str) -> str:
    """Where the copies of one upload taken by its analyses live (see `pinned_video_key`)."""
    return f"{UPLOADS_PREFIX}{user_id}/{video_id}/"


def pinned_video_key(user_id: str, video_id: str, analysis_id: str) -> str:
    """The copy of the upload an analysis works on, taken when it started.

    The presigned PUT stays valid for its 15 minutes; the analysis reads this copy, which no
    client can write, so a later PUT cannot swap the video under it. It lies under ``uploads/``
    and expires with the upload (the store's 7-day rule).
    """
    return f"{pinned_video_prefix(user_id, video_id)}{analysis_id}.mp4"


def route_photo_key(user_id: str, route_id: str, extension: str = "jpg") -> str:
    """Wall photos live with the route (no expiry): its holds may be re-detected later."""
    return f"routes/{user_id}/{route_id}.{extension}"


def thumbnail_key(video_id: str) -> str:
    return f"thumbnails/{video_id}.jpg"


def analysis_workflow_id(analysis_id: str) -> str:
    """Human-readable and derived from the analysis, so a repeated start finds the same run."""
    return f"{_WORKFLOW_ID_PREFIX}{analysis_id}"


_WORKFLOW_ID_PREFIX: Final = "analysis-"
_ANALYSIS_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def analysis_id_of_workflow(workflow_id: str | None) -> str | None:
    """The analysis an ``analysis-{id}`` workflow id names; None for any other workflow."""
    if not workflow_id or not workflow_id.startswith(_WORKFLOW_ID_PREFIX):
        return None
    analysis_id = workflow_id.removeprefix(_WORKFLOW_ID_PREFIX)
    return analysis_id if _ANALYSIS_ID.fullmatch(analysis_id) else None


def route_holds_workflow_id(route_id: str) -> str:
    """One run per route at a time: a second request (the API's, a legacy job's) while it runs
    attaches to it instead of detecting again."""
    return f"route-holds-{route_id}"


def training_workflow_id(job_id: str) -> str:
    """One run per request (API call or legacy ``training.program`` job), not per user: each job
    is owed its own ``training.completed.{job_id}``, which attaching a second job to a user's
    running run would never publish; a redelivered job finds its own run by this id."""
    return f"training-{job_id}"


def training_program_key(user_id: str, plan_sha256: str) -> str:
    """A plan document in the videos bucket, named by its content: an identical plan is one
    object, so storing it again (a retry, an unchanged regeneration) writes nothing new."""
    return f"training/{user_id}/{plan_sha256}.json.gz"


def analysis_prefix(analysis_id: str) -> str:
    """Everything one analysis stores, in the videos bucket (its documents) and in the payload
    bucket (Temporal payloads too large for history), lies under this prefix."""
    return f"analyses/{analysis_id}/"


#: File name of each document an analysis stores: arrays as compressed NumPy archives between
#: steps, JSON (gzip) for what the app and consumers read.
RESULT_FILES: Final[dict[str, str]] = {
    "skeleton": "skeleton.npz",
    "advice": "advice.json.gz",
    "ghost": "ghost.npz",
    "ghost_plan": "ghost_plan.json.gz",
    "result": "result.json.gz",
}


def result_key(analysis_id: str, document: str) -> str:
    """Where an analysis stores one of its `RESULT_FILES` in the videos bucket."""
    return f"{analysis_prefix(analysis_id)}{RESULT_FILES[document]}"


# --- Activity names (the workflow schedules by name; workers register under these) -----------
# The analysis's activities are in `schema.activities`, each with its input and output types.
GENERATE_TRAINING_PROGRAM: Final = "generate_training_program"
PERSIST_TRAINING_PROGRAM: Final = "persist_training_program"
PUBLISH_TRAINING_EVENT: Final = "publish_training_event"

# --- Error types that no retry can fix (bad input); activities raise them non-retryable ---------
INVALID_VIDEO: Final = "InvalidVideo"
NO_CLIMBER_FOUND: Final = "NoClimberFound"
INVALID_HOLD_MAP: Final = "InvalidHoldMap"
NO_HOLDS_FOUND: Final = "NoHoldsFound"
INVALID_PHOTO: Final = "InvalidPhoto"
#: Any other input an engine cannot use (e.g. holds that no limb ever reaches).
UNUSABLE_INPUT: Final = "UnusableInput"
BAD_INPUT_ERRORS: Final = (
    INVALID_VIDEO,
    NO_CLIMBER_FOUND,
    INVALID_HOLD_MAP,
    NO_HOLDS_FOUND,
    INVALID_PHOTO,
    UNUSABLE_INPUT,
)
#: Type of the workflow's own failure, raised after the failure was recorded and published.
ANALYSIS_FAILED: Final = "AnalysisFailed"
#: Type of the workflow's own failure when its failure (or cancel) could not be recorded on the
#: analysis row within the database outage window; the event was published all the same.
ANALYSIS_END_NOT_RECORDED: Final = "AnalysisEndNotRecorded"
#: Type of the error for an analysis or route id the database does not know: a broken start,
#: not something a retry can fix (`activities.records`).
UNKNOWN_RECORD: Final = "UnknownRecord"
#: Type of the route holds workflow's own failure (detection failed, validation expired).
ROUTE_HOLDS_FAILED: Final = "RouteHoldsFailed"
#: Type of the `validate_holds` Update's refusal when no correction is awaited here (too late,
#: too early, or awaited on the route's own run): the API's 409. A bad map is
#: `INVALID_HOLD_MAP`, its 422.
HOLDS_NOT_AWAITING_VALIDATION: Final = "HoldsNotAwaitingValidation"
#: A training profile the generator refuses (unknown goal, grade, ...): never retried.
INVALID_TRAINING_PROFILE: Final = "InvalidTrainingProfile"
#: Type of the training workflow's own failure, raised after ``training.failed`` was published.
TRAINING_FAILED: Final = "TrainingFailed"
