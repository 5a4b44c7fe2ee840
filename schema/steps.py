"""Inputs and outputs of the analysis's activities (their names and code: `schema.activities`).

Plain dataclasses, like `schema.analysis`, so the workflow imports them without anything heavy;
new fields always get defaults. Heavy data stays in object storage: these carry its keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from schema.analysis import (
    AnalysisResult,
    ClimbReading,
    MetricsSummary,
    Morphology,
    Stage,
    Status,
)
from schema.holds import HoldMap


@dataclass
class DetectHoldsInput:
    analysis_id: str
    bucket: str
    photo_key: str


@dataclass
class DetectHoldsResult:
    hold_map: HoldMap


@dataclass
class ExtractSkeletonInput:
    analysis_id: str
    bucket: str
    video_key: str
    output_key: str
    max_fps: int = 30


@dataclass
class SkeletonResult:
    skeleton_key: str
    frame_count: int
    fps: float
    duration_s: float
    #: Fraction of frames with a person found, 0..1.
    pose_coverage: float


@dataclass
class AdviceInput:
    analysis_id: str
    bucket: str
    skeleton_key: str
    hold_map: HoldMap
    morphology: Morphology
    output_key: str


@dataclass
class AdviceResult:
    advice_key: str
    move_count: int
    advice_count: int
    metrics: MetricsSummary = field(default_factory=MetricsSummary)
    #: None only in results recorded before climbs were segmented.
    climb: ClimbReading | None = None


@dataclass
class GhostInput:
    analysis_id: str
    bucket: str
    skeleton_key: str
    hold_map: HoldMap
    morphology: Morphology
    output_key: str
    #: The climber's climb (from the advice step); None: the whole video, any hold.
    climb: ClimbReading | None = None


@dataclass
class GhostResult:
    #: None when the ghost was skipped (no route within the climber's reach).
    ghost_key: str | None
    key_pose_count: int
    skipped_reason: str | None = None
    #: The ghost's plan (`schema.documents.GhostPlanDocument`); None when skipped (and in
    #: results recorded before it was returned).
    plan_key: str | None = None


@dataclass
class SaveRouteHoldsInput:
    route_id: str
    hold_map: HoldMap
    #: Owner, so a route the database does not know yet can be created with its map.
    user_id: str | None = None


@dataclass
class RecordStatusInput:
    analysis_id: str
    status: Status
    stage: Stage
    reason: str | None = None


@dataclass
class PersistResultsInput:
    analysis_id: str
    result: AnalysisResult
    metrics: MetricsSummary
    processing_time_ms: int
    #: Where the stored documents are, to assemble the app's result document.
    bucket: str | None = None
    hold_map: HoldMap | None = None


@dataclass
class CleanupUploadInput:
    bucket: str
    video_key: str


@dataclass
class CleanupUploadResult:
    deleted: bool
