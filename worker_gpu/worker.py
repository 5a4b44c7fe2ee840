"""The GPU worker: hold detection, skeleton, advice and ghost on the GPU task queue.

It registers only vision activities (no workflows): GPU machines scale with video minutes, the
CPU worker with analyses. Activity slots are sized to the device, because every skeleton
extraction already spreads over all cores and every ghost solve fills the GPU.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from activities.vision import VisionActivities, VisionConfig
from core.settings import Settings
from core.storage import ObjectStore
from engines.pose import PosePool
from engines.pose.parallel import available_cores


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def vision_config(settings: Settings) -> VisionConfig:
    device = None if settings.vision_device == "auto" else settings.vision_device
    return VisionConfig(
        device=device,
        pose_workers=settings.pose_workers,
        max_video_duration_s=settings.max_video_duration_s,
        max_video_side_px=settings.max_video_side_px,
        hold_detector=settings.hold_detector,
        hold_model_path=settings.hold_model_path,
    )


def activity_slots(settings: Settings) -> int:
    """How many vision steps run at once on this worker.

    On CPU the skeleton engine already uses every core, so two slots keep the cores busy while
    one step waits on storage. With CUDA the GPU does the heavy work and the cores feed it.
    """
    if settings.gpu_activity_slots:
        return settings.gpu_activity_slots
    cores = os.cpu_count() or 1
    return max(2, cores // 4) if cuda_available() else 2


def start_pose_pool(settings: Settings) -> PosePool | None:
    """Starts the skeleton processes this worker keeps for its whole life (blocking, seconds).

    Each process imports MediaPipe and builds its graph once, instead of once per video: on a
    30-second video that start-up is a fifth of the extraction. ``None`` with one worker: then
    chunks run in the activity's own thread.
    """
    workers = settings.pose_workers or available_cores()
    if workers < 2:
        return None
    pool = PosePool(workers)
    try:
        pool.start()
    except BaseException:
        pool.close()
        raise
    return pool


def gpu_activities(
    store: ObjectStore, settings: Settings, *, pose_pool: PosePool | None = None
) -> list[Any]:
    vision = VisionActivities(store, vision_config(settings), pose_pool=pose_pool)
    return [
        vision.detect_holds,
        vision.extract_skeleton,
        vision.generate_advice,
        vision.compute_ghost,
    ]


#: Heartbeats carry the progress the app shows (`api.progress`). The SDK sends them at most
#: every 0.8 x heartbeat timeout (24 s here) unless told otherwise: a 25 s skeleton step then
#: showed no progress at all. One a second is cheap for the server and live for the climber.
HEARTBEAT_THROTTLE = timedelta(seconds=1)


def build_gpu_worker(
    client: Client,
    store: ObjectStore,
    settings: Settings,
    *,
    task_queue: str,
    pose_pool: PosePool | None = None,
    **options: Any,
) -> Worker:
    options.setdefault("max_concurrent_activities", activity_slots(settings))
    options.setdefault("max_heartbeat_throttle_interval", HEARTBEAT_THROTTLE)
    activities = gpu_activities(store, settings, pose_pool=pose_pool)
    return Worker(client, task_queue=task_queue, activities=activities, **options)
