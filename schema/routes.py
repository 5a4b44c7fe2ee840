"""Wire contract of a route's own hold detection (`workflows.route_holds.RouteHoldsWorkflow`):
the wall photo's holds detected on the GPU queue and validated by the climber before any video,
so every later video on the route reuses the validated map (`core.analyses.analysis_input`).

Plain dataclasses like `schema.analysis`; new fields always get defaults. The run's status Query,
``validate_holds`` Update and ``submit_holds`` Signal are the analysis workflow's, with the same
types (`schema.analysis.AnalysisProgress`, `ValidateHoldsInput`).

Its ``hold_detection.completed.{job_id}`` / ``hold_detection.failed.{job_id}`` events have the
documented body (`schema.events.event_body`); ``analysis_id`` there is the route's id, since no
analysis exists yet, and ``job_id`` the legacy job's id, else the route's id.
"""

from __future__ import annotations

from dataclasses import dataclass

from schema import names
from schema.analysis import Status, Tier, ValidationTimeoutPolicy
from schema.holds import HoldMap


@dataclass
class RouteHoldsInput:
    """Everything the route's run needs; it reads no settings of its own."""

    route_id: str
    user_id: str
    bucket: str
    photo_key: str
    #: The legacy ``vision.hold_detection`` job that asked, if any: its id names the events.
    job_id: str | None = None
    tier: Tier = Tier.FREEMIUM
    gpu_task_queue: str = names.GPU_TASK_QUEUE
    cpu_task_queue: str = names.CPU_TASK_QUEUE
    gpu_schedule_to_start_s: float = 600
    hold_validation_timeout_s: float = 24 * 3600
    #: As for a video: by default the detected map becomes the route's when nobody validates.
    on_validation_timeout: ValidationTimeoutPolicy = ValidationTimeoutPolicy.PROCEED
    #: A map the climber already validated elsewhere (in a video's analysis that detected its
    #: own holds): stored as it is, without detection or a wait. The route's run is the only
    #: writer of ``routes.hold_map``; the analysis hands its map over this way.
    accepted_hold_map: HoldMap | None = None


@dataclass
class RouteHoldsResult:
    """What the run returns: the map is stored on the route (``routes.hold_map``), whose id is
    its key; the map itself never travels in the result."""

    route_id: str
    status: Status
    hold_count: int = 0
    used_detected_holds_after_deadline: bool = False


@dataclass
class AttachAnalysisInput:
    """Signal ``attach_analysis``: a video's analysis waits for this route's validated map
    instead of detecting the holds again; the run answers it with ``route_holds_ready``."""

    #: The waiting analysis's workflow id (``analysis-{id}``).
    workflow_id: str


@dataclass
class RouteHoldsReady:
    """Signal ``route_holds_ready``, from the route's run to each analysis waiting on it, once
    the run has ended: the map it stored, or why there is none (the analysis then detects)."""

    route_id: str
    hold_map: HoldMap | None = None
    reason: str | None = None
