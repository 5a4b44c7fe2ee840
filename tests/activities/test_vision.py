"""The GPU activities on real engines, real footage and a real (local-folder) object store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.vision import VisionActivities, VisionConfig
from ascension.media import holds_around_body, write_clip, write_garbage
from core.storage import LocalObjectStore
from engines.holds.learned.data import read_labels
from engines.pose.timeline import SkeletonTimeline
from schema import names
from schema.analysis import Morphology, StageProgress
from schema.documents import decode_advice, decode_ghost_plan
from schema.steps import AdviceInput, DetectHoldsInput, ExtractSkeletonInput, GhostInput

pytestmark = pytest.mark.integration

REAL_WALLS = Path(__file__).resolve().parents[1] / "data" / "real_walls"
BUCKET = "videos"


@pytest.fixture(scope="module")
async def store(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalObjectStore]:
    store = LocalObjectStore(tmp_path_factory.mktemp("objects"))
    await store.ensure_bucket(BUCKET)
    yield store


@pytest.fixture(scope="module")
def vision(store: LocalObjectStore) -> VisionActivities:
    return VisionActivities(store, VisionConfig(device="cpu", pose_workers=1))


@pytest.fixture(scope="module")
async def skeleton_key(
    store: LocalObjectStore, vision: VisionActivities, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A real person filmed by a moving camera, through the skeleton activity."""
    clip = write_clip(
        tmp_path_factory.mktemp("clip") / "climb.mp4",
        image="basketball1.png",
        seconds=2.0,
        size=(360, 640),
        motion="pan",
    )
    await store.upload_file(BUCKET, "uploads/u1/v1.mp4", clip)
    env = ActivityEnvironment()
    beats: list[StageProgress] = []
    env.on_heartbeat = lambda *details: beats.extend(details)
    key = names.result_key("a1", "skeleton")
    result = await env.run(
        vision.extract_skeleton, ExtractSkeletonInput("a1", BUCKET, "uploads/u1/v1.mp4", key)
    )
    assert result.skeleton_key == key
    assert result.frame_count == 60 and result.pose_coverage >= 0.9
    assert beats and beats[-1].done == beats[-1].total == 60  # progress reached the end
    # Checkpoints are removed once the whole skeleton is stored.
    assert not list((store.root / BUCKET / "analyses" / "a1").glob("skeleton-chunks/*"))
    return key


async def test_skeleton_is_stored_as_a_timeline(store: LocalObjectStore, skeleton_key: str):
    timeline = SkeletonTimeline.from_bytes(await store.get_bytes(BUCKET, skeleton_key))
    assert len(timeline) == 60
    assert (timeline.frame_width, timeline.frame_height) == (360, 640)
    assert np.isfinite(timeline.landmarks[timeline.has_pose]).all()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda path: write_garbage(path), "video"),
        (None, "upload"),
    ],
)
async def test_unusable_video_fails_without_retry_and_says_why(
    store: LocalObjectStore, vision: VisionActivities, tmp_path: Path, make, message: str
) -> None:
    key = f"uploads/u1/{tmp_path.name}.mp4"
    if make is not None:
        await store.upload_file(BUCKET, key, make(tmp_path / "bad.mp4"))
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(
            vision.extract_skeleton, ExtractSkeletonInput("a2", BUCKET, key, "out.npz")
        )
    assert caught.value.type == names.INVALID_VIDEO
    assert caught.value.non_retryable
    assert message in caught.value.message
    assert "Traceback" not in caught.value.message


async def test_advice_and_ghost_from_the_stored_skeleton(
    store: LocalObjectStore, vision: VisionActivities, skeleton_key: str
) -> None:
    timeline = SkeletonTimeline.from_bytes(await store.get_bytes(BUCKET, skeleton_key))
    hold_map = holds_around_body(timeline)
    morphology = Morphology(height_cm=180)
    env = ActivityEnvironment()
    advice_key = names.result_key("a1", "advice")
    advice = await env.run(
        vision.generate_advice,
        AdviceInput("a1", BUCKET, skeleton_key, hold_map, morphology, advice_key),
    )
    document = decode_advice(await store.get_bytes(BUCKET, advice.advice_key))
    assert advice.move_count == len(document.moves)
    assert advice.advice_count == len(document.advice)
    assert advice.metrics.hold_count is not None

    ghost_key = names.result_key("a1", "ghost")
    ghost = await env.run(
        vision.compute_ghost,
        GhostInput("a1", BUCKET, skeleton_key, hold_map, morphology, ghost_key),
    )
    if ghost.ghost_key is None:
        # Skipping is allowed, but only with a reason the climber can read.
        assert ghost.skipped_reason
    else:
        drawn = SkeletonTimeline.from_bytes(await store.get_bytes(BUCKET, ghost.ghost_key))
        assert drawn.frame_width == timeline.frame_width
        assert set(np.round(drawn.timestamps_s, 6)) <= set(np.round(timeline.timestamps_s, 6))
        assert ghost.plan_key == names.result_key("a1", "ghost_plan")
        plan = decode_ghost_plan(await store.get_bytes(BUCKET, ghost.plan_key))
        # Without the climber's climb there is no sequence to judge the ghost against.
        assert plan.verdict is None


async def test_holds_detected_on_a_wall_photo_and_refused_on_a_blank_one(
    store: LocalObjectStore, vision: VisionActivities
) -> None:
    # A real gym wall the shipped detector never saw, with 65 hand-drawn boxes.
    wall = REAL_WALLS / "images" / "7CXRoF93ceXrwK82F_jpg.rf.f1f026d004b10005daa3ab32ff3982d6.jpg"
    boxes, _ = read_labels(REAL_WALLS / "labels" / f"{wall.stem}.txt")
    await store.put_bytes(BUCKET, "routes/r1.jpg", wall.read_bytes())
    result = await ActivityEnvironment().run(
        vision.detect_holds, DetectHoldsInput("a3", BUCKET, "routes/r1.jpg")
    )
    assert 0.7 * len(boxes) <= len(result.hold_map.holds) <= 1.3 * len(boxes)

    _, blank = cv2.imencode(".jpg", np.full((768, 1024, 3), 180, np.uint8))
    await store.put_bytes(BUCKET, "routes/blank.jpg", blank.tobytes())
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(
            vision.detect_holds, DetectHoldsInput("a4", BUCKET, "routes/blank.jpg")
        )
    assert caught.value.type == names.NO_HOLDS_FOUND and caught.value.non_retryable
