"""Kill the GPU worker mid-video: the retry resumes from the stored chunks, not from frame 0.

Everything is real: the `ascension worker gpu` process, the Temporal dev server, MinIO, MediaPipe
on a real person filmed by a moving camera. The worker is killed with SIGKILL (no drain, no
goodbye), exactly as a crashed machine would vanish; Temporal notices through the heartbeat
timeout and a second worker process picks up the retry with the first attempt's heartbeat details.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from ascension.media import write_clip
from core.payloads import make_data_converter
from core.settings import Settings
from core.storage import ObjectNotFound, ObjectStore, make_object_store
from engines.pose import extract_skeleton
from engines.pose.timeline import SkeletonTimeline
from schema import names
from schema.steps import ExtractSkeletonInput, SkeletonResult
from tests.utils.skeleton_probe import SkeletonProbeInput, SkeletonProbeWorkflow

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CLIP_SECONDS = 30.0  # six 5-second chunks: time to kill the worker between the first and last
REUSED = re.compile(r"skeleton: \d+ frames at [\d.]+ fps, (\d+) chunks \((\d+) reused\)")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clip(
        tmp_path_factory.mktemp("clip") / "climb.mp4",
        image="basketball1.png",
        seconds=CLIP_SECONDS,
        size=(360, 640),
        motion="pan",
    )


@pytest.fixture
async def store(stack_settings: Settings) -> AsyncIterator[ObjectStore]:
    store = make_object_store(stack_settings)
    await store.ensure_bucket(stack_settings.bucket)
    await store.ensure_bucket(stack_settings.payload_bucket)
    yield store
    await store.close()


@pytest.fixture
def worker_settings(
    stack_settings: Settings, temporal_dev_env: WorkflowEnvironment, tmp_path: Path
) -> Settings:
    client = temporal_dev_env.client
    return stack_settings.model_copy(
        update={
            "temporal_address": client.service_client.config.target_host,
            "temporal_namespace": client.namespace,
            "gpu_task_queue": f"gpu-{uuid.uuid4().hex[:12]}",
            "pose_workers": 2,  # a warm pose pool, as deployed; six chunks leave time to kill
            "data_dir": tmp_path,
        }
    )


class GpuWorkerProcess:
    """`ascension worker gpu` in its own process, its log kept in a file."""

    def __init__(self, settings: Settings, log: Path) -> None:
        env = {**os.environ, **settings.as_environment(WORKER_FIELDS)}
        self.log = log
        self._log_file = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ascension.cli", "worker", "gpu"],
            cwd=REPO,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log_file.close()

    def output(self) -> str:
        return self.log.read_text()


@pytest.fixture
def gpu_workers() -> Iterator[list[GpuWorkerProcess]]:
    """Worker processes a test started, stopped (or reaped) whatever the test did."""
    started: list[GpuWorkerProcess] = []
    yield started
    for worker in started:
        worker.stop()


#: What a deployed GPU worker is configured with.
WORKER_FIELDS = (
    "temporal_address",
    "temporal_namespace",
    "gpu_task_queue",
    "pose_workers",
    "data_dir",
    "database_url",
    "object_store",
    "s3_endpoint",
    "s3_access_key",
    "s3_secret_key",
    "s3_secure",
    "bucket",
    "payload_bucket",
    "amqp_url",
)


def _children(pid: int) -> set[int]:
    """Processes whose parent is ``pid`` (from /proc: no psutil needed for one field)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            after_name = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # it ended while we looked
            continue
        if int(after_name[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


async def _checkpointed_chunks(handle: WorkflowHandle, client: Client) -> list[int]:
    """The chunk indexes the server holds in the running attempt's last heartbeat."""
    description = await handle.describe()
    for pending in description.raw_description.pending_activities:
        if pending.attempt == 1 and pending.heartbeat_details.payloads:
            (details,) = await client.data_converter.decode(pending.heartbeat_details.payloads)
            return [int(index) for index in details.get("completed_chunks", [])]
    return []


async def test_killed_gpu_worker_resumes_the_skeleton_from_stored_chunks(
    temporal_dev_env: WorkflowEnvironment,
    worker_settings: Settings,
    store: ObjectStore,
    clip: Path,
    gpu_workers: list[GpuWorkerProcess],
    tmp_path: Path,
) -> None:
    settings = worker_settings
    analysis_id = f"resume-{uuid.uuid4().hex[:8]}"
    video_key = names.upload_key("climber-1", analysis_id)
    await store.upload_file(settings.bucket, video_key, clip)
    skeleton_key = names.result_key(analysis_id, "skeleton")
    client = await Client.connect(
        settings.temporal_address or "",
        namespace=settings.temporal_namespace,
        data_converter=make_data_converter(store, settings.payload_bucket),
    )
    workflow_queue = f"wf-{uuid.uuid4().hex[:12]}"

    gpu_workers.append(GpuWorkerProcess(settings, tmp_path / "first-worker.log"))
    async with Worker(client, task_queue=workflow_queue, workflows=[SkeletonProbeWorkflow]):
        handle = await client.start_workflow(
            SkeletonProbeWorkflow.run,
            SkeletonProbeInput(
                ExtractSkeletonInput(analysis_id, settings.bucket, video_key, skeleton_key),
                gpu_task_queue=settings.gpu_task_queue,
            ),
            id=f"skeleton-probe-{analysis_id}",
            task_queue=workflow_queue,
        )
        # Wait until the server holds a heartbeat naming a stored chunk, then pull the plug.
        checkpointed: list[int] = []
        for _ in range(1200):
            checkpointed = await _checkpointed_chunks(handle, client)
            if checkpointed:
                break
            assert gpu_workers[0].process.poll() is None, gpu_workers[0].output()
            await asyncio.sleep(0.1)
        assert checkpointed, "the first worker never reported a stored chunk"
        pose_processes = _children(gpu_workers[0].process.pid)
        assert len(pose_processes) >= 2  # its pose pool (and multiprocessing's tracker)
        gpu_workers[0].kill()
        for index in checkpointed:  # the checkpoints the retry will trust are really stored
            key = f"analyses/{analysis_id}/skeleton-chunks/{index:05d}.npz"
            assert await store.get_bytes(settings.bucket, key)

        gpu_workers.append(GpuWorkerProcess(settings, tmp_path / "second-worker.log"))
        result: SkeletonResult = await asyncio.wait_for(handle.result(), timeout=300)

    # The dead worker's pose processes noticed and ended rather than holding memory forever.
    for _ in range(100):
        if not any(_alive(pid) for pid in pose_processes):
            break
        await asyncio.sleep(0.1)
    assert not [pid for pid in pose_processes if _alive(pid)]

    # The second attempt ran on the new worker and reused at least the chunks seen stored.
    history = await handle.fetch_history()
    attempts = [
        event.activity_task_started_event_attributes.attempt
        for event in history.events
        if event.HasField("activity_task_started_event_attributes")
    ]
    assert attempts == [2]  # only the completing attempt's start is written to history
    first, second = gpu_workers[0].output(), gpu_workers[1].output()
    (chunks, reused_first), *_ = [tuple(map(int, m)) for m in REUSED.findall(first)]
    assert reused_first == 0
    (chunks_again, reused), *_ = [tuple(map(int, m)) for m in REUSED.findall(second)]
    assert chunks_again == chunks == 6
    assert len(checkpointed) <= reused < chunks
    assert "resuming skeleton after" in second

    # The stitched result is exactly what one uninterrupted extraction gives.
    assert result.frame_count == int(CLIP_SECONDS * 30) and result.pose_coverage >= 0.9
    stored = SkeletonTimeline.from_bytes(await store.get_bytes(settings.bucket, skeleton_key))
    whole = await asyncio.to_thread(extract_skeleton, clip, workers=1)
    np.testing.assert_array_equal(stored.quality, whole.quality)
    np.testing.assert_allclose(stored.landmarks, whole.landmarks, atol=1e-6, equal_nan=True)

    # Checkpoints are gone once the skeleton is stored.
    for index in range(chunks):
        key = f"analyses/{analysis_id}/skeleton-chunks/{index:05d}.npz"
        with pytest.raises(ObjectNotFound):
            await store.get_bytes(settings.bucket, key)
