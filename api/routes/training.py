"""Training programs: the climber's training profile, and programs generated from it.

A program is made by `TrainingProgramWorkflow` on the CPU queue (``POST /training/programs``
starts it and answers 202 with its job id; ``training.completed.{job_id}`` follows). Every start
regenerates from the climber's latest analysed climbs, and each completed analysis starts one by
itself (`activities.regeneration`), which is how new analyses reach the plan; an unchanged plan
is not stored twice. Profiles are checked here, by the engine itself, so an
unknown goal, injury, equipment or grade is a 422 listing the allowed values before anything runs.
"""

from __future__ import annotations

import gzip
import json
import logging
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, select

from api.deps import CurrentUser, Resources, Session
from api.errors import ApiError, not_found, responses
from core.storage import ObjectNotFound
from core.training import start_training_program, training_input
from engines.training import TrainingInputError, allowed_values, profile_from_dict
from schema import names
from schema.models import TrainingProfileRecord, TrainingProgram, TrainingProgramPublic, utcnow

log = logging.getLogger("ascension.api")
router = APIRouter(prefix="/training", tags=["training"])


class GradeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    system: str = Field(max_length=16, description="font, v, french or yds")
    grade: str = Field(max_length=16)


class TrainingProfileIn(BaseModel):
    """What the generator needs; ``GET /training/options`` lists every accepted value."""

    model_config = ConfigDict(extra="forbid")
    level: str | GradeIn = Field(description='current grade: "V5", "6C+", "7a", "5.12a", …')
    level_system: str | None = Field(default=None, max_length=16)
    age: int | None = Field(default=None, description="under 18 the youth safety rules apply")
    days_per_week: int
    session_minutes: int
    goals: list[str] = Field(default_factory=list, max_length=16)
    target_grade: str | GradeIn | None = None
    injuries: list[str] = Field(default_factory=list, max_length=32)
    equipment: list[str] = Field(default_factory=list, max_length=16)


class TrainingProfileOut(BaseModel):
    profile: dict[str, Any]
    updated_at: datetime


class ProgramRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: A one-off profile for this program; the stored profile when absent.
    profile: TrainingProfileIn | None = None


class StartedProgram(BaseModel):
    job_id: uuid.UUID
    workflow_id: str
    status: str = "accepted"


class ProgramWithDocument(TrainingProgramPublic):
    document: dict[str, Any]


def checked_profile(profile: TrainingProfileIn) -> dict[str, Any]:
    """The profile as plain JSON, or 422 naming the field and every allowed value."""
    body = profile.model_dump(exclude_none=True)
    try:
        profile_from_dict(body)
    except TrainingInputError as err:
        details: dict[str, Any] = {"field": err.field, "value": _jsonable(err.value)}
        if err.allowed:
            details["allowed"] = list(err.allowed)
        raise ApiError(422, "invalid_training_profile", str(err), details=details) from None
    return body


def _jsonable(value: object) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value


@router.get("/options", responses=responses(401))
async def training_options(principal: CurrentUser) -> dict[str, Any]:
    """Every value the profile's enumerated fields accept (goals, injuries, equipment, grades)."""
    return dict(allowed_values())


@router.get("/profile", response_model=TrainingProfileOut, responses=responses(401, 404))
async def get_profile(principal: CurrentUser, session: Session) -> TrainingProfileOut:
    record = await session.get(TrainingProfileRecord, principal.user_id)
    if record is None:
        raise not_found("your training profile")
    return TrainingProfileOut(profile=record.profile, updated_at=record.updated_at)


@router.put("/profile", response_model=TrainingProfileOut, responses=responses(401, 422))
async def put_profile(
    profile: TrainingProfileIn, principal: CurrentUser, session: Session
) -> TrainingProfileOut:
    body = checked_profile(profile)
    record = await session.get(TrainingProfileRecord, principal.user_id)
    if record is None:
        record = TrainingProfileRecord(user_id=principal.user_id, profile=body)
    record.profile = body
    record.updated_at = utcnow()
    session.add(record)
    await session.commit()
    return TrainingProfileOut(profile=record.profile, updated_at=record.updated_at)


@router.post(
    "/programs",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=StartedProgram,
    responses=responses(401, 409, 422, 503),
)
async def create_program(
    principal: CurrentUser,
    resources: Resources,
    session: Session,
    request: ProgramRequest | None = None,
) -> StartedProgram:
    """Generate a program from the profile and the latest analysed climbs (always regenerated,
    so new analyses count); ``training.completed.{job_id}`` announces it."""
    if request is not None and request.profile is not None:
        profile = checked_profile(request.profile)
    else:
        record = await session.get(TrainingProfileRecord, principal.user_id)
        if record is None:
            raise ApiError(
                409,
                "training_profile_missing",
                "set your training profile first (PUT /api/v1/training/profile)",
            )
        profile = record.profile
    job_id = uuid.uuid4()
    params = training_input(str(principal.user_id), str(job_id), profile, resources.settings)
    client = await resources.temporal.client()
    try:
        await start_training_program(client, params, task_queue=resources.settings.cpu_task_queue)
    except Exception as exc:
        log.warning("could not start training job %s: %s", job_id, exc)
        raise ApiError(
            503, "unavailable", "the training program could not be started right now; try again"
        ) from None
    return StartedProgram(job_id=job_id, workflow_id=names.training_workflow_id(str(job_id)))


@router.get("/programs/latest", response_model=ProgramWithDocument, responses=responses(401, 404))
async def latest_program(
    principal: CurrentUser, resources: Resources, session: Session
) -> ProgramWithDocument:
    program = (
        await session.exec(
            select(TrainingProgram)
            .where(TrainingProgram.user_id == principal.user_id)
            .order_by(col(TrainingProgram.created_at).desc())
            .limit(1)
        )
    ).first()
    if program is None:
        raise not_found("a training program")
    try:
        raw = await resources.store.get_bytes(resources.settings.bucket, program.document_key)
    except ObjectNotFound:
        raise not_found("the training program's document") from None
    return ProgramWithDocument(
        **TrainingProgramPublic.model_validate(program).model_dump(),
        document=json.loads(gzip.decompress(raw)),
    )


@router.get("/programs", response_model=list[TrainingProgramPublic], responses=responses(401, 422))
async def list_programs(
    principal: CurrentUser,
    session: Session,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[TrainingProgramPublic]:
    """My programs, newest first (without their documents)."""
    programs = (
        await session.exec(
            select(TrainingProgram)
            .where(TrainingProgram.user_id == principal.user_id)
            .order_by(col(TrainingProgram.created_at).desc())
            .limit(limit)
        )
    ).all()
    return [TrainingProgramPublic.model_validate(program) for program in programs]
