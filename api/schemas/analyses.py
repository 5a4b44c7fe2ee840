"""Bodies of the analyses routes (`api.routes.analyses`): what the app sends and gets back.

The result document itself is not here: it is stored JSON with its own schema
(`schema/json/analysis_result.schema.json`), served as it is.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from schema.analysis import Status
from schema.holds import HoldMap
from schema.models import AnalysisPublic


class MorphologyIn(BaseModel):
    height_cm: float | None = Field(default=None, ge=100, le=250)
    arm_span_cm: float | None = Field(default=None, ge=100, le=270)
    weight_kg: float | None = Field(default=None, ge=25, le=250)


class StartRequest(BaseModel):
    video_id: uuid.UUID
    #: The wall: a route whose photo was uploaded, or one with a validated hold map.
    route_id: uuid.UUID
    #: Compute the ghost climber (premium and infinity plans).
    ghost: bool = False
    morphology: MorphologyIn | None = None


class StartedAnalysis(BaseModel):
    analysis_id: uuid.UUID
    #: The seed's name for the same id (RabbitMQ events carry it as `job_id`).
    job_id: uuid.UUID
    workflow_id: str
    status: Status


class Progress(BaseModel):
    percent: float
    step_done: int | None = None
    step_total: int | None = None
    step_attempt: int | None = None
    validation_deadline: str | None = None
    holds_awaiting_validation: bool = False
    last_error: str | None = None
    #: What the analysis waits for besides its steps (its database, through an outage).
    waiting_for: str | None = None


class AnalysisState(BaseModel):
    """What GET answers until the result document exists."""

    analysis_id: uuid.UUID
    status: Status
    stage: str | None
    failure_reason: str | None = None
    progress: Progress | None = None
    created_at: datetime
    updated_at: datetime
    #: A presigned GET (1 h) of the video's thumbnail JPEG; null until the skeleton step made it.
    thumbnail_url: str | None = None


class AnalysisItem(AnalysisPublic):
    #: A presigned GET (1 h) of the video's thumbnail JPEG; null until the skeleton step made it.
    thumbnail_url: str | None = None


class AnalysisPage(BaseModel):
    items: list[AnalysisItem]
    #: Pass as `cursor` for the next page; null on the last page.
    next_cursor: str | None


class HoldsState(BaseModel):
    #: "awaiting_validation", "validated" or "not_ready".
    state: str
    hold_map: HoldMap | None = None
    validation_deadline: str | None = None


class HoldsCorrection(BaseModel):
    hold_map: HoldMap
