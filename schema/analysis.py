"""Wire contract of a video analysis: workflow, activity, update, signal and query types.

Every type here is a plain dataclass so the workflow module can import it without pulling in
numpy, cv2 or torch, and so fields can be added later without breaking running workflows (new
fields always get defaults). Heavy data (skeleton timelines, advice, ghost) never appears here:
activities store it in object storage and pass its key.

The inputs and outputs of the analysis's activities are in `schema.steps`, the event they
publish in `schema.events`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from schema import names
from schema.holds import HoldMap


class Tier(StrEnum):
    FREEMIUM = "freemium"
    PREMIUM = "premium"
    INFINITY = "infinity"

    @property
    def includes_ghost(self) -> bool:
        return self is not Tier.FREEMIUM

    @property
    def monthly_analyses(self) -> int:
        """Analyses a climber on this tier may start per calendar month (UTC)."""
        return _MONTHLY_ANALYSES[self]

    @property
    def priority_key(self) -> int:
        """Temporal priority of this tier's analyses and their steps: lower keys run first on a
        task queue ("infinity" is the seeds' "server priority" tier)."""
        return _PRIORITY_KEY[self]


_MONTHLY_ANALYSES = {Tier.FREEMIUM: 10, Tier.PREMIUM: 30, Tier.INFINITY: 100}
_PRIORITY_KEY = {Tier.INFINITY: 1, Tier.PREMIUM: 3, Tier.FREEMIUM: 5}


class Stage(StrEnum):
    """Pipeline stages; their values are the routing-key prefixes of the seed's events."""

    HOLD_DETECTION = "hold_detection"
    HOLD_VALIDATION = "hold_validation"
    SKELETON = "skeleton"
    ADVICE = "advice"
    GHOST = "ghost"
    ANALYSIS = "analysis"


class Status(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    AWAITING_HOLD_VALIDATION = "awaiting_hold_validation"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ValidationTimeoutPolicy(StrEnum):
    """What happens when the climber does not validate the holds before the deadline."""

    #: Go on with the detector's map (the default: the climber still gets an analysis).
    PROCEED = "proceed"
    #: Fail the analysis as expired.
    EXPIRE = "expire"


@dataclass
class Morphology:
    """The climber's body, for reach limits and the ghost; any field may be unknown."""

    height_cm: float | None = None
    arm_span_cm: float | None = None
    weight_kg: float | None = None


@dataclass
class AnalysisOptions:
    ghost: bool = True
    max_fps: int = 30


#: How long a bookkeeping step that writes the app's PostgreSQL rows (a status, the results, the
#: failure's record) keeps retrying through a database outage before the analysis gives up on it
#: (`workflows.analysis_policies.database_windows` splits it). The one place to change it: the
#: default of `StartAnalysisInput.database_outage_s`, which a start may override.
DATABASE_OUTAGE_S: Final = 30 * 60


@dataclass
class StartAnalysisInput:
    """Everything the workflow needs; it reads no settings of its own."""

    analysis_id: str
    user_id: str
    video_id: str
    video_key: str
    route_id: str
    bucket: str
    tier: Tier = Tier.FREEMIUM
    route_photo_key: str | None = None
    #: The route's already validated map, if an earlier video validated it.
    route_hold_map: HoldMap | None = None
    #: The route's own `RouteHoldsWorkflow` still detecting or awaiting the climber when the
    #: analysis started: the analysis waits for its map instead of detecting again.
    route_holds_workflow_id: str | None = None
    options: AnalysisOptions = field(default_factory=AnalysisOptions)
    morphology: Morphology = field(default_factory=Morphology)
    gpu_task_queue: str = names.GPU_TASK_QUEUE
    cpu_task_queue: str = names.CPU_TASK_QUEUE
    #: Fail fast with a clear status when no GPU worker picks a step up within this.
    gpu_schedule_to_start_s: float = 600
    hold_validation_timeout_s: float = 24 * 3600
    on_validation_timeout: ValidationTimeoutPolicy = ValidationTimeoutPolicy.PROCEED
    #: The user saved the video: keep the upload after the analysis.
    keep_video: bool = False
    #: How many times support has redriven this analysis (`core.analyses.retry_analysis`): 0
    #: for the first run. A redriven run's events are its own (`AnalysisEvent.message_id`).
    redrive: int = 0
    #: How long bookkeeping steps wait for PostgreSQL through an outage (`DATABASE_OUTAGE_S`).
    database_outage_s: float = DATABASE_OUTAGE_S


@dataclass
class ValidateHoldsInput:
    """The climber's corrected hold map (Update `validate_holds` and Signal `submit_holds`)."""

    hold_map: HoldMap


@dataclass
class LegacyJobInput:
    """A job of the original RabbitMQ design that this analysis answers (Signal
    `attach_legacy_job`, sent with the start by the legacy ingress).

    The original workers published each stage's events under the id of the job that asked for
    that stage, and legacy producers still wait for those keys. Stages without a job of their
    own use the first job's id; an analysis without legacy jobs uses its analysis id.
    """

    job_id: str
    #: The stages this job asked for (a `vision.skeleton` job: skeleton and the whole analysis).
    stages: list[Stage] = field(default_factory=list)


@dataclass
class CancelInput:
    reason: str = "cancelled by the climber"


@dataclass
class AnalysisProgress:
    """Answer of the `status` Query: what the app shows while the analysis runs."""

    status: Status
    stage: Stage
    percent: float = 0.0
    #: The detected map while the workflow waits for the climber's validation.
    holds_awaiting_validation: HoldMap | None = None
    #: Deadline for the validation, ISO 8601, while waiting.
    validation_deadline: str | None = None
    last_error: str | None = None
    #: Work done in the running step (from its heartbeats), e.g. frames of the video.
    step_done: int | None = None
    step_total: int | None = None
    #: Attempt of the running step; above 1 while Temporal retries it.
    step_attempt: int | None = None
    #: What the run waits for besides its steps: its database, through an outage, while a
    #: status, the results or the failure are being recorded.
    waiting_for: str | None = None


@dataclass
class StageProgress:
    """Heartbeat details of a long GPU step: progress for the app, a checkpoint for retries."""

    done: int
    total: int
    unit: str = "frames"
    #: Chunks already stored in object storage; a retry resumes after them.
    completed_chunks: list[int] = field(default_factory=list)


@dataclass
class AnalysisResult:
    """What the workflow returns: keys of the stored documents, never the documents."""

    analysis_id: str
    status: Status
    skeleton_key: str | None = None
    advice_key: str | None = None
    ghost_key: str | None = None
    hold_count: int = 0
    used_detected_holds_after_deadline: bool = False
    #: Why there is no ghost although the tier includes it.
    ghost_skipped_reason: str | None = None
    #: The app's result document (`engines.document`), written when the results are persisted.
    result_key: str | None = None
    #: The ghost's plan (`schema.documents.GhostPlanDocument`), from `GhostResult.plan_key`.
    ghost_plan_key: str | None = None


# --- what the advice step read of the climb (engines compute them, the ghost reads them) ---
@dataclass
class MetricsSummary:
    """The seed's analysis_metrics row."""

    max_reach_cm: float | None = None
    avg_tension: float | None = None
    movement_efficiency: float | None = None
    hold_count: int | None = None


@dataclass
class HandPlacement:
    """A hand taking a hold during the climb: ``limb`` is "left_hand" or "right_hand"."""

    limb: str
    hold: str


@dataclass
class ClimbReading:
    """The climb inside the video and the route the climber took, as the advice step read them;
    the ghost starts, times and finishes its climb from it. Hold ids only: a few hundred bytes.

    ``start``/``end`` say how the climb began and ended (`engines.climb.ClimbSegment`);
    ``start_holds`` maps each limb ("left_hand", ...) to its first hold on the wall (None: not
    on a hold yet); ``top_hold`` is the highest hold a hand reached; ``route_holds`` every hold
    some limb was on; ``finish`` how it ended: ``"matched_top"`` (both hands last on the top
    hold), ``"let_go"`` (back on the floor from lower down: a fall or a step-off) or
    ``"video_end"``; ``hand_sequence`` every hold a hand took, in order (the ghost compares its
    plan with it, to say when the climber's own sequence was already the best it found; empty in
    readings recorded before it existed); ``floor_holds`` the holds of the map lying on the floor
    below where the climber stood (`engines.climb.floor`): no limb, start or ghost uses them (empty
    in readings recorded before it existed).
    """

    start_s: float
    end_s: float
    start: str
    end: str
    start_holds: dict[str, str | None] = field(default_factory=dict)
    top_hold: str | None = None
    route_holds: list[str] = field(default_factory=list)
    finish: str = "video_end"
    hand_sequence: list[HandPlacement] = field(default_factory=list)
    floor_holds: list[str] = field(default_factory=list)
