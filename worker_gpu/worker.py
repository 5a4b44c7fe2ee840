"""The GPU worker: hold detection, skeleton, advice and ghost on the GPU task queue.

It registers only vision activities (no workflows): GPU machines scale with video minutes, the
CPU worker with analyses. Activity slots are sized to the device, because every skeleton
extraction already spreads over all cores and every ghost solve fills the GPU.
"""

from __future__ import annotations

import os
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from activities.vision import VisionActivities, VisionConfig
from ascension.settings import Settings
from ascension.storage import ObjectStore


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


def gpu_activities(store: ObjectStore, settings: Settings) -> list[Any]:
    vision = VisionActivities(store, vision_config(settings))
    return [
        vision.detect_holds,
        vision.extract_skeleton,
        vision.generate_advice,
        vision.compute_ghost,
    ]


def build_gpu_worker(
    client: Client, store: ObjectStore, settings: Settings, *, task_queue: str, **options: Any
) -> Worker:
    options.setdefault("max_concurrent_activities", activity_slots(settings))
    return Worker(
        client, task_queue=task_queue, activities=gpu_activities(store, settings), **options
    )
