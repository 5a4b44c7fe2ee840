"""GPU-queue activities: thin adapters from the workflow's small inputs to the vision engines.

Each one reads its inputs from object storage, runs an engine off the event loop (a worker thread;
the skeleton engine fans out to processes itself) while heartbeats keep flowing, stores the big
output and returns keys and counts. A climber's unusable input becomes a non-retryable error whose
message is shown to the climber; anything else is retried by the workflow's policy.
"""

from __future__ import annotations

import asyncio
import contextvars
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.thumbnails import ClimbThumbnail, write_middle_thumbnail
from core.storage import ObjectNotFound, ObjectStore
from engines.errors import EngineInputError
from engines.pose.timeline import SkeletonTimeline
from schema import names
from schema.activities import COMPUTE_GHOST, DETECT_HOLDS, EXTRACT_SKELETON, GENERATE_ADVICE
from schema.documents import (
    AdviceDocument,
    ClimbSpan,
    GhostPlanDocument,
    encode_advice,
    encode_ghost_plan,
)

if TYPE_CHECKING:
    from engines.pose import PosePool
from schema.analysis import ClimbReading, StageProgress
from schema.steps import (
    AdviceInput,
    AdviceResult,
    DetectHoldsInput,
    DetectHoldsResult,
    ExtractSkeletonInput,
    GhostInput,
    GhostResult,
    SkeletonResult,
)

T = TypeVar("T")

#: Heartbeat at least this often while an engine runs; the workflow's timeout is 30 s.
HEARTBEAT_EVERY_S = 5.0


@dataclass
class VisionConfig:
    """What the GPU worker's settings decide for the engines."""

    #: torch device for the ghost solver ("cuda", "cpu"); None = CUDA when torch sees one.
    device: str | None = None
    #: Processes for skeleton extraction; None = every core.
    pose_workers: int | None = None
    #: Longest video accepted, seconds.
    max_video_duration_s: float = 900.0
    #: Largest frame side accepted, pixels.
    max_video_side_px: int = 4096
    #: "learned" (the trained detector) or "classical" (the OpenCV baseline).
    hold_detector: str = "learned"
    #: TorchScript hold-detector weights; None = the shipped weights.
    hold_model_path: Path | None = None


def bad_input(err: EngineInputError) -> ApplicationError:
    """The engine's climber-readable refusal as a non-retryable failure of a documented type."""
    kinds = (cls.__name__.removesuffix("Error") for cls in type(err).__mro__)
    kind = next((k for k in kinds if k in names.BAD_INPUT_ERRORS), names.UNUSABLE_INPUT)
    return ApplicationError(str(err), type=kind, non_retryable=True)


async def run_with_heartbeats(work: Callable[[], T], details: Callable[[], Any] | None = None) -> T:
    """Run blocking ``work`` in a thread, heartbeating every few seconds until it returns."""
    task = asyncio.ensure_future(asyncio.to_thread(work))
    while True:
        done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY_S)
        if done:
            return task.result()
        activity.heartbeat(*([details()] if details else []))


class VisionActivities:
    """Activities of the GPU worker, sharing one object store and the worker's config."""

    def __init__(
        self,
        store: ObjectStore,
        config: VisionConfig | None = None,
        *,
        pose_pool: PosePool | None = None,
    ) -> None:
        self._store = store
        self._config = config or VisionConfig()
        self._pose_pool = pose_pool  # owned by the worker process, which starts and closes it
        self._hold_model: Any = None

    async def _load_timeline(self, bucket: str, key: str) -> SkeletonTimeline:
        return SkeletonTimeline.from_bytes(await self._store.get_bytes(bucket, key))

    # --- hold detection ----------------------------------------------------------------------
    @activity.defn(name=DETECT_HOLDS.name)
    async def detect_holds(self, params: DetectHoldsInput) -> DetectHoldsResult:
        """Wall photo -> hold map (the learned detector, or the classical baseline)."""
        from engines.holds import decode_photo, detect_holds

        try:
            data = await self._store.get_bytes(params.bucket, params.photo_key)
        except ObjectNotFound:
            raise ApplicationError(
                "the wall photo was not uploaded; upload it and try again",
                type=names.INVALID_PHOTO,
                non_retryable=True,
            ) from None
        model = await asyncio.to_thread(self._model)

        def detect() -> DetectHoldsResult:
            image = decode_photo(data)
            return DetectHoldsResult(detect_holds(image, model=model).hold_map)

        try:
            return await run_with_heartbeats(detect)
        except EngineInputError as err:
            raise bad_input(err) from None

    def _model(self) -> Any:
        if self._hold_model is None and self._config.hold_detector == "learned":
            from engines.ghost import default_device
            from engines.holds import SHIPPED_WEIGHTS, load_hold_model

            device = self._config.device or str(default_device())
            path = self._config.hold_model_path or SHIPPED_WEIGHTS
            self._hold_model = load_hold_model(path, device=device)
        return self._hold_model

    # --- skeleton ------------------------------------------------------------------------------
    @activity.defn(name=EXTRACT_SKELETON.name)
    async def extract_skeleton(self, params: ExtractSkeletonInput) -> SkeletonResult:
        """Video -> per-frame skeleton, resuming from the chunks an earlier attempt stored."""
        from engines.pose import extract_skeleton

        info = activity.info()
        previous = _previous_progress(info.heartbeat_details)
        completed: dict[int, SkeletonTimeline] = {}
        for index in previous.completed_chunks:
            try:
                completed[index] = await self._load_timeline(
                    params.bucket, _chunk_key(params.analysis_id, index)
                )
            except ObjectNotFound:
                continue  # redo a chunk whose checkpoint went missing
        if completed:
            activity.logger.info("resuming skeleton after %d stored chunks", len(completed))

        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        progress = StageProgress(0, 0, completed_chunks=sorted(completed))

        def beat() -> None:
            loop.call_soon_threadsafe(activity.heartbeat, progress, context=context)

        def on_progress(done: int, total: int) -> None:
            progress.done, progress.total = done, total
            beat()

        def on_chunk_done(index: int, chunk: SkeletonTimeline) -> None:
            # Store the checkpoint before announcing it: a retry trusts the heartbeat's list.
            key = _chunk_key(params.analysis_id, index)
            asyncio.run_coroutine_threadsafe(
                self._store.put_bytes(params.bucket, key, chunk.to_bytes()), loop
            ).result()
            progress.completed_chunks = sorted({*progress.completed_chunks, index})
            beat()

        with tempfile.TemporaryDirectory(prefix="ascension-video-") as folder:
            video = Path(folder) / "video"
            try:
                await self._store.download_file(params.bucket, params.video_key, video)
            except ObjectNotFound:
                raise ApplicationError(
                    "the video was not uploaded (or has expired); upload it again",
                    type=names.INVALID_VIDEO,
                    non_retryable=True,
                ) from None
            # The middle frame while the skeleton is extracted: the app's list has a picture
            # from now on, even if no climb is ever found in this video.
            thumbnail = asyncio.ensure_future(
                write_middle_thumbnail(self._store, params.bucket, params.thumbnail_key, video)
                if params.thumbnail_key
                else asyncio.sleep(0, None)
            )
            try:
                timeline = await run_with_heartbeats(
                    lambda: extract_skeleton(
                        video,
                        max_fps=params.max_fps,
                        workers=self._config.pose_workers,
                        pool=self._pose_pool,
                        on_progress=on_progress,
                        completed_chunks=completed,
                        on_chunk_done=on_chunk_done,
                        max_duration_s=self._config.max_video_duration_s,
                        max_side_px=self._config.max_video_side_px,
                    ),
                    lambda: progress,
                )
            except EngineInputError as err:
                raise bad_input(err) from None
            finally:
                written = await thumbnail
        await self._store.put_bytes(params.bucket, params.output_key, timeline.to_bytes())
        for index in progress.completed_chunks:  # checkpoints are no longer needed
            await self._store.delete(params.bucket, _chunk_key(params.analysis_id, index))
        return SkeletonResult(
            skeleton_key=params.output_key,
            frame_count=len(timeline),
            fps=(len(timeline) - 1) / timeline.duration_s if timeline.duration_s else 0.0,
            duration_s=timeline.duration_s,
            pose_coverage=timeline.coverage,
            thumbnail=written,
        )

    # --- biomechanics and advice -----------------------------------------------------------------
    @activity.defn(name=GENERATE_ADVICE.name)
    async def generate_advice(self, params: AdviceInput) -> AdviceResult:
        """Skeleton + validated holds -> contacts, moves, biomechanics, advice and metrics."""
        from engines.advice import generate_advice
        from engines.biomech import analyse
        from engines.climb import climb_reading, find_climb, on_wall_view, wall_holds
        from engines.contacts import find_moves, track_contacts

        timeline = await self._load_timeline(params.bucket, params.skeleton_key)
        climb_thumbnail = (
            ClimbThumbnail(self._store, params.bucket, params.video_key, params.thumbnail_key)
            if params.video_key and params.thumbnail_key
            else None
        )

        def advise() -> tuple[Any, ClimbReading, AdviceDocument]:
            # Only the climb feeds the analysis: walking in, standing on the mat and stepping
            # off stay in the skeleton (the phone draws them) but are no contacts or moves.
            segment = find_climb(timeline, params.hold_map)
            climbing = on_wall_view(timeline, segment)
            # Holds lying on the floor stay on the climber's map but are no part of the route.
            wall = wall_holds(params.hold_map, segment.floor_holds)
            track = track_contacts(climbing, wall)
            moves = find_moves(track, climbing)
            biomech = analyse(climbing, track, moves, params.morphology)
            items = generate_advice(climbing, track, moves, biomech, wall, params.morphology)
            summary = biomech.summary()
            reading = climb_reading(segment, track, wall, moves)
            document = AdviceDocument(
                climb=ClimbSpan(
                    start_s=reading.start_s,
                    end_s=reading.end_s,
                    start=reading.start,
                    end=reading.end,
                    finish=reading.finish,
                    start_holds=reading.start_holds,
                    top_hold=reading.top_hold,
                    floor_holds=reading.floor_holds,
                ),
                moves=[move.to_dict() for move in moves],
                move_figures=[figures.to_dict() for figures in biomech.moves],
                advice=[item.to_dict() for item in items],
                metrics=dict(summary.__dict__),
            )
            return summary, reading, document

        try:
            summary, reading, document = await run_with_heartbeats(advise)
            thumbnail = (
                await climb_thumbnail.write(timeline, reading.start_s, reading.end_s)
                if climb_thumbnail
                else None
            )
        except EngineInputError as err:
            raise bad_input(err) from None
        finally:
            if climb_thumbnail:
                await climb_thumbnail.close()
        await self._store.put_bytes(
            params.bucket,
            params.output_key,
            encode_advice(document),
            content_type="application/gzip",
        )
        return AdviceResult(
            advice_key=params.output_key,
            move_count=len(document.moves),
            advice_count=len(document.advice),
            metrics=summary,
            climb=reading,
            thumbnail=thumbnail,
        )

    # --- ghost climber ---------------------------------------------------------------------------
    @activity.defn(name=COMPUTE_GHOST.name)
    async def compute_ghost(self, params: GhostInput) -> GhostResult:
        """The optimal movement for this climber's body; skipped (not failed) when no route fits."""
        from engines.ghost import GhostInputError, compute_ghost

        timeline = await self._load_timeline(params.bucket, params.skeleton_key)
        try:
            ghost = await run_with_heartbeats(
                lambda: compute_ghost(
                    timeline,
                    params.hold_map,
                    params.morphology,
                    device=self._config.device,
                    climb=params.climb,
                )
            )
        except GhostInputError as err:
            activity.logger.info("ghost skipped: %s", err)
            return GhostResult(ghost_key=None, key_pose_count=0, skipped_reason=str(err))
        await self._store.put_bytes(params.bucket, params.output_key, ghost.timeline.to_bytes())
        plan = GhostPlanDocument(
            moves=[move.to_dict() for move in ghost.moves],
            # The verdict says whether the ghost beats the climber's own sequence, so the app
            # never presents it as an improvement when it is not one (None: nothing to compare).
            verdict=ghost.verdict.to_dict() if ghost.verdict is not None else None,
        )
        plan_key = names.result_key(params.analysis_id, "ghost_plan")
        await self._store.put_bytes(params.bucket, plan_key, encode_ghost_plan(plan))
        return GhostResult(
            ghost_key=params.output_key,
            key_pose_count=len(ghost.key_times_s),
            plan_key=plan_key,
        )


def _chunk_key(analysis_id: str, index: int) -> str:
    return f"analyses/{analysis_id}/skeleton-chunks/{index:05d}.npz"


def _previous_progress(details: Any) -> StageProgress:
    """The checkpoint of the last attempt, from its heartbeat details (empty on attempt 1).

    The SDK hands details back decoded without a type, so a `StageProgress` arrives as a dict.
    """
    if not details or not isinstance(details[0], dict):
        return StageProgress(0, 0)
    raw = details[0]
    try:
        return StageProgress(
            done=int(raw.get("done", 0)),
            total=int(raw.get("total", 0)),
            unit=str(raw.get("unit", "frames")),
            completed_chunks=[int(index) for index in raw.get("completed_chunks", [])],
        )
    except (TypeError, ValueError):  # an unreadable checkpoint only costs recomputation
        return StageProgress(0, 0)
