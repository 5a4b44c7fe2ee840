"""Names shared by every process: task queues, search attributes, exchanges, routing keys.

Kept in one module so a rename is one edit and the API, workers, bootstrap and tests agree.
"""

from __future__ import annotations

from typing import Final

# --- Temporal ---------------------------------------------------------------------------------
#: Default task-queue names; processes read the effective ones from settings.
CPU_TASK_QUEUE: Final = "ascension-cpu"
GPU_TASK_QUEUE: Final = "ascension-gpu"

#: Custom search attributes support staff filter on in the Web UI, with their Temporal types.
#: The bootstrap registers them on the dev server; the workflow upserts them.
SEARCH_ATTRIBUTE_TYPES: Final[dict[str, str]] = {
    "AnalysisId": "Keyword",
    "UserId": "Keyword",
    "AnalysisStatus": "Keyword",
    "AnalysisStage": "Keyword",
}

# --- RabbitMQ (seed 000 topology, kept for existing consumers) -----------------------------------
VISION_EXCHANGE: Final = "ascension.vision"
TRAINING_EXCHANGE: Final = "ascension.training"
EVENTS_EXCHANGE: Final = "ascension.events"
VISION_QUEUES: Final = (
    "vision.hold_detection",
    "vision.skeleton",
    "vision.advice",
    "vision.ghost",
)
TRAINING_QUEUES: Final = ("training.program",)

# --- Object storage -----------------------------------------------------------------------------
VIDEOS_BUCKET: Final = "ascension-videos"


def upload_key(user_id: str, video_id: str) -> str:
    return f"uploads/{user_id}/{video_id}.mp4"


def saved_key(user_id: str, video_id: str) -> str:
    return f"saved/{user_id}/{video_id}.mp4"


def thumbnail_key(video_id: str) -> str:
    return f"thumbnails/{video_id}.jpg"
