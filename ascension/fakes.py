"""Fake activities registered under the production names, shared by the orchestration bench
(`ascension bench orchestration`) and the tests (`tests/utils/pipeline.py`).

They do the bookkeeping the real activities do (record statuses, collect events, pretend nothing)
and return well-formed results, so the workflow's orchestration runs on its own. Behaviour
toggles (fail once, bad input, hang) let a test drive each failure path. No worker process ever
registers these.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import numpy as np
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.storage import ObjectNotFound, ObjectStore
from engines.pose.timeline import SkeletonTimeline
from schema import names
from schema.activities import (
    CLEANUP_UPLOAD,
    COMPUTE_GHOST,
    DETECT_HOLDS,
    EXTRACT_SKELETON,
    GENERATE_ADVICE,
    HAND_OVER_ROUTE_HOLDS,
    PERSIST_RESULTS,
    PUBLISH_EVENT,
    RECORD_ANALYSIS_STATUS,
    REQUEST_TRAINING_REGENERATION,
    SAVE_ROUTE_HOLDS,
)
from schema.analysis import MetricsSummary, StageProgress
from schema.documents import AdviceDocument, GhostPlanDocument, encode_advice, encode_ghost_plan
from schema.events import AnalysisEvent
from schema.holds import Hold, HoldMap
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


def detected_map() -> HoldMap:
    return HoldMap(
        image_width=1920,
        image_height=1080,
        holds=[
            Hold("h1", 0.20, 0.80, "jug", color="yellow", confidence=0.9),
            Hold("h2", 0.35, 0.55, "crimp", color="yellow", confidence=0.7),
            Hold("h3", 0.50, 0.30, "sloper", color="yellow", confidence=0.6),
        ],
    )


def walking_timeline(frames: int, fps: float = 30.0) -> SkeletonTimeline:
    """A full-size skeleton timeline (every landmark moving smoothly), as a long video produces."""
    t = np.arange(frames) / fps
    base = np.random.default_rng(7).uniform(0.2, 0.8, size=(33, 2))
    xy = base[None] + 0.05 * np.sin(t[:, None, None] + np.arange(33)[None, :, None])
    landmarks = np.concatenate(
        [xy, np.zeros((frames, 33, 1)), np.full((frames, 33, 1), 0.9)], axis=2
    )
    return SkeletonTimeline(t, landmarks, np.zeros(frames), 1920, 1080, fps)


#: The fake ghost's verdict (`engines.ghost.GhostVerdict.to_dict`), as the result document
#: should carry it.
GHOST_VERDICT = {
    "verdict": "same_as_climber",
    "message": "Your sequence was already the most efficient one we found for your body; "
    "the ghost shows it with smoother timing.",
    "ghost_effort": 9.5,
    "climber_effort": None,
}


@dataclass
class FakePipeline:
    """Records every call; class attributes configure failures."""

    events: list[AnalysisEvent] = field(default_factory=list)
    statuses: list[RecordStatusInput] = field(default_factory=list)
    saved_routes: list[SaveRouteHoldsInput] = field(default_factory=list)
    persisted: list[PersistResultsInput] = field(default_factory=list)
    cleaned: list[str] = field(default_factory=list)
    regenerations: list[RegenerateProgramInput] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    skeleton_failures_left: int = 0
    skeleton_bad_input: bool = False
    #: Hold detection finds no holds on the photo (bad input, never retried).
    detect_bad_input: bool = False
    skeleton_hangs_first_attempt: bool = False
    skeleton_started: asyncio.Event = field(default_factory=asyncio.Event)
    #: What hold detection finds.
    hold_map: HoldMap = field(default_factory=lambda: detected_map())
    #: Frames of the "video"; with `store` set, a skeleton timeline of that length is written.
    frames: int = 300
    store: ObjectStore | None = None
    started_order: list[str] = field(default_factory=list)
    skeleton_gate: asyncio.Event | None = None
    #: When set, skeleton extraction takes this long, heartbeating progress every 0.2 s.
    skeleton_seconds: float | None = None
    #: With `store` set: the bytes skeleton extraction found at its video key, per analysis.
    videos_read: dict[str, bytes] = field(default_factory=dict)
    #: False: skeleton extraction returns at once, without progress heartbeats (the bench
    #: measures orchestration alone).
    heartbeats: bool = True
    #: With `store` set: the bytes advice generation stores instead of a valid advice document
    #: (a step that produced something the result document cannot take).
    advice_document: bytes | None = None

    # --- GPU ---------------------------------------------------------------------------------
    @activity.defn(name=DETECT_HOLDS.name)
    async def detect_holds(self, params: DetectHoldsInput) -> DetectHoldsResult:
        self.calls.append(DETECT_HOLDS.name)
        if self.detect_bad_input:
            raise ApplicationError(
                "we found no holds on this photo; photograph the whole wall",
                type=names.NO_HOLDS_FOUND,
                non_retryable=True,
            )
        return DetectHoldsResult(self.hold_map)

    @activity.defn(name=EXTRACT_SKELETON.name)
    async def extract_skeleton(self, params: ExtractSkeletonInput) -> SkeletonResult:
        self.calls.append(EXTRACT_SKELETON.name)
        self.skeleton_started.set()
        info = activity.info()
        if self.skeleton_bad_input:
            raise ApplicationError(
                "we could not read this video: the file is not a video",
                type=names.INVALID_VIDEO,
                non_retryable=True,
            )
        if self.skeleton_failures_left > 0:
            self.skeleton_failures_left -= 1
            raise RuntimeError("GPU out of memory (transient)")
        if self.skeleton_hangs_first_attempt and info.attempt == 1:
            # A worker that died: no heartbeats, never returns.
            await asyncio.sleep(3600)
        self.started_order.append(params.analysis_id)
        if self.store is not None:
            with contextlib.suppress(ObjectNotFound):  # tests that never uploaded a video
                video = await self.store.get_bytes(params.bucket, params.video_key)
                self.videos_read[params.analysis_id] = video
        if self.skeleton_gate is not None:
            # Half the video done, then hold until the test has looked at the progress.
            activity.heartbeat(StageProgress(self.frames // 2, self.frames))
            await self.skeleton_gate.wait()
        if self.skeleton_seconds is not None:
            beats = max(1, round(self.skeleton_seconds / 0.2))
            for beat in range(beats):
                activity.heartbeat(StageProgress(beat * self.frames // beats, self.frames))
                await asyncio.sleep(0.2)
        step = max(1, self.frames // 3)
        for frame in range(0, self.frames if self.heartbeats else 0, step):
            activity.heartbeat(StageProgress(frame, self.frames))
            await asyncio.sleep(0)
        if self.store is not None:
            timeline = walking_timeline(self.frames)
            await self.store.put_bytes(params.bucket, params.output_key, timeline.to_bytes())
        return SkeletonResult(params.output_key, self.frames, 30.0, self.frames / 30.0, 0.97)

    @activity.defn(name=GENERATE_ADVICE.name)
    async def generate_advice(self, params: AdviceInput) -> AdviceResult:
        self.calls.append(GENERATE_ADVICE.name)
        metrics = MetricsSummary(max_reach_cm=171.0, avg_tension=0.4, movement_efficiency=0.8)
        if self.store is not None:
            data = self.advice_document or encode_advice(AdviceDocument())
            await self.store.put_bytes(params.bucket, params.output_key, data)
        return AdviceResult(params.output_key, move_count=6, advice_count=3, metrics=metrics)

    @activity.defn(name=COMPUTE_GHOST.name)
    async def compute_ghost(self, params: GhostInput) -> GhostResult:
        self.calls.append(COMPUTE_GHOST.name)
        plan_key = names.result_key(params.analysis_id, "ghost_plan")
        if self.store is not None:
            ghost = walking_timeline(self.frames)
            await self.store.put_bytes(params.bucket, params.output_key, ghost.to_bytes())
            # The plan as the real activity stores it, with the verdict on the climber's moves.
            plan = encode_ghost_plan(GhostPlanDocument(verdict=GHOST_VERDICT))
            await self.store.put_bytes(params.bucket, plan_key, plan)
        return GhostResult(params.output_key, key_pose_count=6, plan_key=plan_key)

    # --- CPU ---------------------------------------------------------------------------------
    @activity.defn(name=SAVE_ROUTE_HOLDS.name)
    async def save_route_holds(self, params: SaveRouteHoldsInput) -> None:
        self.saved_routes.append(params)

    @activity.defn(name=HAND_OVER_ROUTE_HOLDS.name)
    async def hand_over_route_holds(self, params: RouteHoldsInput) -> None:
        """The route's run would store the map: recorded with the maps stored directly."""
        assert params.accepted_hold_map is not None
        self.saved_routes.append(
            SaveRouteHoldsInput(params.route_id, params.accepted_hold_map, params.user_id)
        )

    @activity.defn(name=RECORD_ANALYSIS_STATUS.name)
    async def record_analysis_status(self, params: RecordStatusInput) -> None:
        self.statuses.append(params)

    @activity.defn(name=PERSIST_RESULTS.name)
    async def persist_results(self, params: PersistResultsInput) -> None:
        self.persisted.append(params)

    @activity.defn(name=PUBLISH_EVENT.name)
    async def publish_event(self, event: AnalysisEvent) -> None:
        self.events.append(event)

    @activity.defn(name=CLEANUP_UPLOAD.name)
    async def cleanup_upload(self, params: CleanupUploadInput) -> CleanupUploadResult:
        self.cleaned.append(params.video_key)
        return CleanupUploadResult(deleted=True)

    @activity.defn(name=REQUEST_TRAINING_REGENERATION.name)
    async def request_training_regeneration(
        self, params: RegenerateProgramInput
    ) -> RegenerationRequested:
        self.regenerations.append(params)
        return RegenerationRequested(skipped_reason="no training profile in the fake pipeline")

    @property
    def routing_keys(self) -> list[str]:
        return [event.routing_key for event in self.events]

    def gpu_activities(self) -> list:
        return [self.detect_holds, self.extract_skeleton, self.generate_advice, self.compute_ghost]

    def cpu_activities(self) -> list:
        return [
            self.save_route_holds,
            self.record_analysis_status,
            self.persist_results,
            self.publish_event,
            self.cleanup_upload,
            self.request_training_regeneration,
            self.hand_over_route_holds,
        ]
