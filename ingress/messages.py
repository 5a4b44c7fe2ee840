"""Seed-000 job messages: the queues with a mapping, the stages each one's events answer, and the
parsing and validation of one message (`parse_job`, `locate_video`), which raise `BadJob` for a
message that can never work. Nothing here touches the database, storage or Temporal.

What each queue means here:

- ``vision.skeleton`` ("analyse this video on this route") starts the `VideoAnalysisWorkflow`
  ``analysis-{analysis_id}``. The run does everything the seed chained from there (holds,
  skeleton, advice, ghost) and publishes the documented events with ``job_id = analysis_id``.
- ``vision.advice`` and ``vision.ghost``: the seed's API chained these after
  ``skeleton.completed`` for the same analysis; here they are stages of that same run, so the
  message is answered by making sure the run exists (start-or-attach with the same workflow id,
  which almost always attaches). Without a ``video_url`` it needs the analysis to be known. A
  ghost job for a run that will not compute the ghost (freemium plan, or not requested) is parked:
  it would wait forever for a ``ghost.completed`` that never comes.
- ``vision.hold_detection`` ("detect the holds on this route's photo") starts or attaches to the
  route's `RouteHoldsWorkflow` ``route-holds-{route_id}`` with the job's id, which names its
  ``hold_detection.completed.{job_id}`` (`ingress.hold_detection_jobs`).
- ``training.program`` starts the `TrainingProgramWorkflow` ``training-{job_id}``
  (`ingress.training_jobs`).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ingress.hold_detection_jobs import HOLD_DETECTION_QUEUE
from ingress.training_jobs import TRAINING_QUEUE
from schema.analysis import Stage

SKELETON_QUEUE: Final = "vision.skeleton"
ADVICE_QUEUE: Final = "vision.advice"
GHOST_QUEUE: Final = "vision.ghost"
#: The queues with a mapping: every queue of seed 000.
MAPPED_QUEUES: Final = (
    HOLD_DETECTION_QUEUE,
    SKELETON_QUEUE,
    ADVICE_QUEUE,
    GHOST_QUEUE,
    TRAINING_QUEUE,
)
#: The stages whose events answer a job of each queue (as the original workers' `_notify`).
STAGES_OF_QUEUE: Final = {
    SKELETON_QUEUE: (Stage.SKELETON, Stage.ANALYSIS),
    ADVICE_QUEUE: (Stage.ADVICE,),
    GHOST_QUEUE: (Stage.GHOST,),
}


# --- the message --------------------------------------------------------------------------------
class BadJob(ValueError):
    """The message can never be mapped; the text is the parking reason."""


class LegacyMorphology(BaseModel):
    """``user_morphology`` of the seed's ghost jobs; every field optional."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    height_cm: float | None = Field(default=None, gt=0, le=300)
    arm_span_cm: float | None = Field(default=None, gt=0, le=300)
    weight_kg: float | None = Field(default=None, gt=0, le=400)


class LegacyJob(BaseModel):
    """One job in seed 000's format. Unknown fields are ignored (producers add their own)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    job_id: uuid.UUID
    analysis_id: uuid.UUID
    user_id: uuid.UUID
    route_id: uuid.UUID
    created_at: datetime
    #: ``s3://{bucket}/uploads|saved/{user_id}/{video_id}.mp4``; required to start an analysis.
    video_url: str | None = None
    user_morphology: LegacyMorphology | None = None


def parse_job(queue: str, body: bytes) -> LegacyJob:
    """The job in ``body``, or `BadJob` saying every field that is wrong."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BadJob(f"not JSON: {err}") from None
    if not isinstance(data, dict):
        raise BadJob(f"not a JSON object but a {type(data).__name__}")
    try:
        job = LegacyJob.model_validate(data)
    except ValidationError as err:
        problems = [
            f"{'.'.join(str(part) for part in error['loc']) or 'message'}: {error['msg']}"
            for error in err.errors()
        ]
        raise BadJob("; ".join(problems)) from None
    if queue == SKELETON_QUEUE and job.video_url is None:
        raise BadJob("video_url: Field required")
    return job


@dataclass(frozen=True)
class VideoLocation:
    """Where ``video_url`` points inside our bucket."""

    key: str
    video_id: uuid.UUID
    saved: bool


_VIDEO_KEY = re.compile(r"(uploads|saved)/([^/]+)/([^/]+)\.mp4")


def locate_video(url: str, *, bucket: str, user_id: uuid.UUID) -> VideoLocation:
    """The key of ``url`` in our layout; anything else is bad input, never fetched."""
    expected = f"s3://{bucket}/uploads/{user_id}/{{video_id}}.mp4"
    parts = urlsplit(url)
    if parts.scheme != "s3" or parts.query or parts.fragment:
        raise BadJob(f"video_url: {url!r} is not of the form {expected}")
    if parts.netloc != bucket:
        raise BadJob(f"video_url: bucket {parts.netloc!r} is not ours ({bucket!r})")
    match = _VIDEO_KEY.fullmatch(parts.path.lstrip("/"))
    if match is None:
        raise BadJob(f"video_url: {url!r} is not of the form {expected} (or saved/...)")
    folder, owner, video = match.groups()
    if owner != str(user_id):
        raise BadJob(f"video_url: the video is in the folder of {owner!r}, not of user {user_id}")
    try:
        video_id = uuid.UUID(video)
    except ValueError:
        raise BadJob(f"video_url: video id {video!r} is not a UUID") from None
    key = f"{folder}/{user_id}/{video_id}.mp4"
    if key != match.group(0):
        raise BadJob(f"video_url: video id {video!r} is not a canonical lower-case UUID")
    return VideoLocation(key, video_id, saved=folder == "saved")
