"""Fault suite: MinIO restarted while the real skeleton step runs.

The skeleton is extracted by the production activity (`VisionActivities.extract_skeleton`,
MediaPipe on a filmed person) on a GPU worker of this test; the other vision steps are the shared
fakes, which still store their outputs (no ghost: `STAGES`). Every process talks to a MinIO of
this module's own. The worker's store holds the second chunk's checkpoint until the server has
been stopped, so the step is certain to fail while MinIO is down (its data folder stays); the
server is started again on the same port and folder once that attempt has failed, and Temporal's
retry resumes from the chunk stored before the restart. The analysis must complete with nothing
lost (`tests.utils.faults.assert_nothing_lost`), the thumbnail too, and no checkpoint left behind.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.vision import VisionActivities, VisionConfig
from ascension.media import write_clip
from ascension.servers import MinioServer
from ascension.toolchain import components
from core.analyses import start_or_attach, submit_hold_map
from core.settings import Settings
from core.storage import S3ObjectStore, make_object_store
from core.temporal_client import connect_temporal
from schema import names
from schema.activities import EXTRACT_SKELETON
from schema.analysis import Stage, Status
from tests.utils.activity_failures import failed_attempts
from tests.utils.faults import (
    COMPLETED_STAGES,
    assert_nothing_lost,
    consumer_queue,
    start_input,
    until,
)
from tests.utils.pipeline import FakePipeline, wait_for_status
from worker_cpu.worker import CpuResources, build_cpu_worker, open_cpu_resources
from worker_gpu.worker import HEARTBEAT_THROTTLE

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CLIP_SECONDS = 15.0  # three 5-second chunks
MAX_FPS = 10  # the step's option: 150 frames keep the test short on a loaded machine
#: No ghost: the fake's is drawn for another frame size than this video's, and the ghost is not
#: what this test is about.
STAGES = tuple(stage for stage in COMPLETED_STAGES if stage is not Stage.GHOST)


class HeldCheckpoint(S3ObjectStore):
    """The worker's real store, except that the second chunk's checkpoint waits for ``go``
    (``reached`` says it is waiting): the test stops MinIO in between."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            settings.s3_endpoint, settings.s3_access_key, settings.s3_secret_key, secure=False
        )
        self.reached = asyncio.Event()
        self.go = asyncio.Event()

    async def put_bytes(
        self, bucket: str, key: str, data: bytes, *, content_type: str = "application/octet-stream"
    ) -> None:
        if key.endswith("/skeleton-chunks/00001.npz") and not self.reached.is_set():
            self.reached.set()
            await self.go.wait()
        await super().put_bytes(bucket, key, data, content_type=content_type)


@pytest.fixture(scope="module")
def minio(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MinioServer]:
    """A server of this module's own: restarting it disturbs nothing else in the session."""
    binary = components.minio_path(settings)
    if binary is None:
        report = components.report_minio(settings)
        pytest.fail(f"minio is missing. Fix: {report.fix}", pytrace=False)
    server = MinioServer(binary, tmp_path_factory.mktemp("minio-restart"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def minio_settings(stack_settings: Settings, minio: MinioServer) -> Settings:
    return stack_settings.model_copy(
        update={
            "s3_endpoint": minio.endpoint,
            "s3_access_key": minio.access_key,
            "s3_secret_key": minio.secret_key,
            "s3_secure": False,
        }
    )


@pytest.fixture
async def resources(minio_settings: Settings) -> AsyncIterator[CpuResources]:
    async with open_cpu_resources(minio_settings, create_tables=True) as res:
        await res.store.ensure_bucket(minio_settings.bucket)
        await res.store.ensure_bucket(minio_settings.payload_bucket)
        yield res


async def test_analysis_survives_a_minio_restart_mid_skeleton(
    temporal_dev_env: WorkflowEnvironment,
    minio_settings: Settings,
    resources: CpuResources,
    minio: MinioServer,
    amqp_url: str,
    task_queue: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Not lost: the uploaded video and the checkpoint stored before the restart (the retry
    resumes from it), the thumbnail, the result document, the completed row and its one metrics
    row, one event-log row per event, and every completion event (copies only under one id)."""
    settings = minio_settings
    target = temporal_dev_env.client.service_client.config.target_host
    client = await connect_temporal(settings, resources.store, target=target)
    clip = write_clip(
        tmp_path / "climb.mp4",
        image="basketball1.png",
        seconds=CLIP_SECONDS,
        size=(360, 640),
        motion="pan",
    )
    video = await asyncio.to_thread(clip.read_bytes)
    params = await start_input(
        resources.engine, resources.store, settings.bucket, task_queue, video
    )
    params.options.max_fps = MAX_FPS
    params.options.ghost = False
    queue = consumer_queue(amqp_url, params.analysis_id)
    fake = FakePipeline(store=make_object_store(settings), frames=int(CLIP_SECONDS * MAX_FPS))
    held = HeldCheckpoint(settings)
    vision = VisionActivities(held, VisionConfig(device="cpu", pose_workers=1))
    gpu_activities: list[Callable[..., Any]] = [
        fake.detect_holds,
        vision.extract_skeleton,
        fake.generate_advice,
        fake.compute_ghost,
    ]

    caplog.set_level(logging.INFO, logger="temporalio.activity")
    async with (
        build_cpu_worker(client, resources, task_queue=params.cpu_task_queue),
        Worker(
            client,
            task_queue=params.gpu_task_queue,
            activities=gpu_activities,
            max_heartbeat_throttle_interval=HEARTBEAT_THROTTLE,
        ),
    ):
        handle = await start_or_attach(client, params)
        await wait_for_status(handle, Status.AWAITING_HOLD_VALIDATION)
        await submit_hold_map(handle, fake.hold_map)

        with failed_attempts() as failures:
            await asyncio.wait_for(held.reached.wait(), timeout=120)
            await asyncio.to_thread(minio.stop)
            held.go.set()  # the checkpoint is written to a stopped server

            async def failed() -> bool:
                return failures[EXTRACT_SKELETON.name] >= 1

            await until(failed, "the skeleton step failing while MinIO is down")
            await asyncio.to_thread(minio.start)
        result = await asyncio.wait_for(handle.result(), timeout=120)
    await held.close()
    assert fake.store is not None
    await fake.store.close()

    assert "resuming skeleton after 1 stored chunks" in caplog.text
    store, bucket = resources.store, settings.bucket
    assert await store.get_bytes(bucket, names.thumbnail_key(params.video_id))
    chunks = await store.list_keys(bucket, f"analyses/{params.analysis_id}/skeleton-chunks/")
    assert chunks == []
    found = await assert_nothing_lost(
        result=result,
        params=params,
        engine=resources.engine,
        store=store,
        amqp_url=amqp_url,
        queue=queue,
        stages=STAGES,
    )
    print(f"after a MinIO restart mid-skeleton: {found}")
