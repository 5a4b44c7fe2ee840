"""Thumbnails (issue 18 item 3) written by the skeleton and advice activities into real MinIO:
the middle frame before the skeleton exists, then the climb's best-seen frame."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import cv2
import numpy as np
import pytest
from temporalio.testing import ActivityEnvironment

from activities.vision import VisionActivities, VisionConfig
from ascension.media import holds_around_body, write_clip
from core.settings import Settings
from core.storage import ObjectStore, make_object_store
from engines.pose.thumbnail import MAX_SIDE_PX
from engines.pose.timeline import SkeletonTimeline
from schema import names
from schema.analysis import Morphology
from schema.steps import AdviceInput, ExtractSkeletonInput

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def store(stack_settings: Settings) -> AsyncIterator[ObjectStore]:
    store = make_object_store(stack_settings)
    await store.ensure_bucket(stack_settings.bucket)
    yield store
    await store.close()


def _picture(jpeg: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "the thumbnail is a JPEG"
    return image


async def test_skeleton_writes_the_middle_frame_and_advice_the_climbs(
    store: ObjectStore, stack_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    bucket = stack_settings.bucket
    video_id, analysis_id = str(uuid.uuid4()), str(uuid.uuid4())
    clip = write_clip(
        tmp_path_factory.mktemp("thumb") / "climb.mp4",
        image="basketball1.png",
        seconds=3.0,
        size=(360, 640),
        motion="pan",
    )
    video_key = names.pinned_video_key("u-thumb", video_id, analysis_id)
    thumbnail_key = names.thumbnail_key(video_id)
    await store.upload_file(bucket, video_key, clip, content_type="video/mp4")
    vision = VisionActivities(store, VisionConfig(device="cpu", pose_workers=1))
    env = ActivityEnvironment()
    try:
        skeleton = await env.run(
            vision.extract_skeleton,
            ExtractSkeletonInput(
                analysis_id,
                bucket,
                video_key,
                names.result_key(analysis_id, "skeleton"),
                thumbnail_key=thumbnail_key,
            ),
        )
        assert skeleton.thumbnail is not None
        assert skeleton.thumbnail.key == thumbnail_key
        assert skeleton.thumbnail.source == "middle"
        assert skeleton.thumbnail.time_s == pytest.approx(1.5, abs=0.05)
        middle = await store.get_bytes(bucket, thumbnail_key)
        assert _picture(middle).shape[:2] == (MAX_SIDE_PX, 360)

        timeline = SkeletonTimeline.from_bytes(await store.get_bytes(bucket, skeleton.skeleton_key))
        advice = await env.run(
            vision.generate_advice,
            AdviceInput(
                analysis_id,
                bucket,
                skeleton.skeleton_key,
                holds_around_body(timeline),
                Morphology(height_cm=180),
                names.result_key(analysis_id, "advice"),
                video_key=video_key,
                thumbnail_key=thumbnail_key,
            ),
        )
        assert advice.climb is not None and advice.thumbnail is not None
        assert advice.thumbnail.source == "climb"
        assert advice.climb.start_s <= advice.thumbnail.time_s <= advice.climb.end_s
        # The chosen frame has the pose best seen over the climb.
        index = int(np.argmin(np.abs(timeline.timestamps_s - advice.thumbnail.time_s)))
        assert timeline.has_pose[index]
        climb = _picture(await store.get_bytes(bucket, thumbnail_key))
        assert climb.shape == _picture(middle).shape
        if abs(advice.thumbnail.time_s - skeleton.thumbnail.time_s) > 0.2:
            # A panning camera: another moment is another picture, so it was replaced.
            assert np.abs(climb.astype(int) - _picture(middle).astype(int)).mean() > 2
    finally:
        await store.delete_prefix(bucket, names.analysis_prefix(analysis_id))
        await store.delete(bucket, video_key)
        await store.delete(bucket, thumbnail_key)


async def test_no_thumbnail_key_writes_nothing(
    store: ObjectStore, stack_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    bucket = stack_settings.bucket
    video_id, analysis_id = str(uuid.uuid4()), str(uuid.uuid4())
    clip = write_clip(tmp_path_factory.mktemp("thumb") / "c.mp4", seconds=1.0, size=(240, 320))
    video_key = names.pinned_video_key("u-thumb", video_id, analysis_id)
    await store.upload_file(bucket, video_key, clip, content_type="video/mp4")
    vision = VisionActivities(store, VisionConfig(device="cpu", pose_workers=1))
    try:
        skeleton = await ActivityEnvironment().run(
            vision.extract_skeleton,
            ExtractSkeletonInput(
                analysis_id, bucket, video_key, names.result_key(analysis_id, "skeleton")
            ),
        )
        assert skeleton.thumbnail is None
        assert not await store.exists(bucket, names.thumbnail_key(video_id))
    finally:
        await store.delete_prefix(bucket, names.analysis_prefix(analysis_id))
        await store.delete(bucket, video_key)
