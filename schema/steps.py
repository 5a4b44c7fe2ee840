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
class ThumbnailChoice:
    """The thumbnail an activity wrote, and which frame it shows (seen in the run's history)."""

    key: str
    #: Seconds from the start of the video.
    time_s: float
    #: "middle": the middle frame, written before the skeleton exists; "climb": the frame of
    #: the climb where the body is best seen, written once the climb is segmented.
    source: str


@dataclass
class ExtractSkeletonInput:
    analysis_id: str
    bucket: str
    video_key: str
    output_key: str
    max_fps: int = 30
    #: Where to write the video's thumbnail (its middle frame); None: none is written.
    thumbnail_key: str | None = None


@dataclass
class SkeletonResult:
    skeleton_key: str
    frame_count: int
    fps: float
    duration_s: float
    #: Fraction of frames with a person found, 0..1.
    pose_coverage: float
    #: None when no thumbnail was asked for or it could not be made (the analysis goes on).
    thumbnail: ThumbnailChoice | None = None


@dataclass
class AdviceInput:
    analysis_id: str
    bucket: str
    skeleton_key: str
    hold_map: HoldMap
    morphology: Morphology
    output_key: str
    #: The analysed video and where its thumbnail goes: the advice step, which segments the
    #: climb, replaces the middle frame with one of the climb. None: the thumbnail is left.
    video_key: str | None = None
    thumbnail_key: str | None = None


@dataclass
class AdviceResult:
    advice_key: str
    move_count: int
    advice_count: int
    metrics: MetricsSummary = field(default_factory=MetricsSummary)
    #: None only in results recorded before climbs were segmented.
    climb: ClimbReading | None = None
    thumbnail: ThumbnailChoice | None = None


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
