"""Seed-000 jobs mapped onto Temporal: what one message means, decided as ack, park or retry.

The AMQP side (`ingress.consumer`) consumes the queues; this module knows nothing of pika.
What each queue means is in `ingress.messages`.

Idempotence: workflow id ``analysis-{analysis_id}`` with ``USE_EXISTING`` (a running run is
attached to) and ``REJECT_DUPLICATE`` (a finished run is never started again); the video and
analysis rows are inserted with ON CONFLICT DO NOTHING. A redelivery never makes a second run or
row. Every check that can reject a message runs before anything is written.

Parsing and validation of a message are in `ingress.messages`; what becomes of it (ack, park,
retry, the backoff) in `ingress.decisions`.

Errors: a message that can never work raises `BadJob` (→ park, the text is the reason). An outage
of what we depend on (Temporal, PostgreSQL, object storage) is not the message's fault: retry
after a growing delay, however long it lasts. Any other error is retried a few times, then parked
with the error as its reason, so a message that crashes the mapping cannot circle forever.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.events import record_and_publish
from core.analyses import FINISHED, analysis_input, start_or_attach
from core.db import session_scope
from core.events import EventPublisher
from core.routes import running_route_holds
from core.settings import Settings
from core.storage import ObjectStore
from ingress.decisions import (
    MAX_UNEXPECTED_FAILURES,
    Ack,
    Backoff,
    Decision,
    FailureCounts,
    Park,
    Retry,
    is_transient,
)
from ingress.hold_detection_jobs import HOLD_DETECTION_QUEUE, map_hold_detection_job
from ingress.messages import (
    GHOST_QUEUE,
    STAGES_OF_QUEUE,
    BadJob,
    LegacyJob,
    LegacyMorphology,
    VideoLocation,
    locate_video,
    parse_job,
)
from ingress.training_jobs import TRAINING_QUEUE, map_training_job
from schema import names
from schema.analysis import LegacyJobInput, Morphology, Stage, StartAnalysisInput, Status
from schema.events import AnalysisEvent
from schema.models import Analysis, Route, User, Video, utcnow

log = logging.getLogger(__name__)

#: Temporal's answer to a start; the SDK retries unavailable servers within it.
START_RPC_TIMEOUT: Final = timedelta(seconds=10)
#: Unsaved uploads expire after 7 days (seed 000 storage lifecycle), as for the API's uploads.
UPLOAD_RETENTION: Final = timedelta(days=7)


# --- mapping a job onto Temporal ----------------------------------------------------------------
def _insert_if_missing(dialect: str, row: SQLModel) -> Any:
    """INSERT ... ON CONFLICT (id) DO NOTHING: a redelivery (or a second bridge) adds nothing."""
    table: Table = type(row).__table__  # type: ignore[attr-defined]
    values = {column.name: getattr(row, column.name) for column in table.columns}
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).values(values).on_conflict_do_nothing(index_elements=["id"])


@dataclass(frozen=True)
class _Known:
    """What the database already knows about a job's user, route, analysis and video."""

    user: User
    route: Route
    analysis: Analysis | None
    video: Video | None
    #: Where ``video_url`` points, when the job has one.
    location: VideoLocation | None
    #: Whether the analysis's run computes the ghost.
    ghost: bool


class JobMapper:
    """Maps one job to a workflow start; runs on the event loop, decides ack, park or retry."""

    def __init__(
        self,
        client: Client,
        engine: AsyncEngine,
        store: ObjectStore,
        settings: Settings,
        *,
        publisher: EventPublisher | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self._client = client
        self._publisher = publisher
        self._engine = engine
        self._store = store
        self._settings = settings
        self._backoff = backoff or Backoff()
        self._failures = FailureCounts()

    async def decide(self, queue: str, body: bytes) -> Decision:
        """Never raises: every outcome is a decision the consumer thread carries out."""
        try:
            accepted = await self.map_job(queue, body)
        except BadJob as bad:
            log.warning("parking a %s message: %s", queue, bad)
            return Park(str(bad))
        except Exception as err:
            reason = f"{type(err).__name__}: {err}"
            if is_transient(err):
                delay = self._backoff.next_delay()
                log.warning("%s message requeued in %.1f s: %s", queue, delay, reason)
                return Retry(delay, reason)
            attempts = self._failures.add(queue, body)
            if attempts >= MAX_UNEXPECTED_FAILURES:
                log.error("parking a %s message after %d errors: %s", queue, attempts, reason)
                return Park(f"could not be handled after {attempts} attempts: {reason}")
            log.exception("%s message failed (attempt %d); requeued", queue, attempts)
            return Retry(self._backoff.next_delay(), reason)
        self._backoff.reset()
        self._failures.forget(queue, body)
        return accepted

    async def map_job(self, queue: str, body: bytes) -> Ack:
        """Validate, make sure the rows exist, then start or attach to the analysis's run."""
        if queue == TRAINING_QUEUE:
            workflow_id = await map_training_job(
                body,
                client=self._client,
                engine=self._engine,
                settings=self._settings,
                bad_job=BadJob,
                rpc_timeout=START_RPC_TIMEOUT,
            )
            return Ack(workflow_id, "training program started or attached")
        if queue == HOLD_DETECTION_QUEUE:
            workflow_id, what = await map_hold_detection_job(
                body,
                client=self._client,
                engine=self._engine,
                store=self._store,
                settings=self._settings,
                bad_job=BadJob,
                rpc_timeout=START_RPC_TIMEOUT,
            )
            return Ack(workflow_id, what)
        job = parse_job(queue, body)
        workflow_id = names.analysis_workflow_id(str(job.analysis_id))
        legacy = LegacyJobInput(str(job.job_id), list(STAGES_OF_QUEUE[queue]))
        params = await self._prepare(queue, job)
        if params is None:
            await self._answer_ended(job, legacy)
            return Ack(workflow_id, "the analysis has already ended; its events were sent")
        if params.route_hold_map is None:
            # As for the API: a route whose own run detects or awaits the climber is waited on.
            params.route_holds_workflow_id = await running_route_holds(
                self._client, params.route_id, rpc_timeout=START_RPC_TIMEOUT
            )
        try:
            # Redelivered while running: attach. Already finished: refused (→ ack below).
            await start_or_attach(
                self._client,
                params,
                legacy_job=legacy,
                # Visible in the Web UI: which legacy job started the run.
                memo={"legacy_job_id": str(job.job_id), "legacy_queue": queue},
                rpc_timeout=START_RPC_TIMEOUT,
            )
        except WorkflowAlreadyStartedError:
            await self._answer_ended(job, legacy)
            return Ack(workflow_id, "the run has already finished; its events were sent")
        log.info("%s job %s → workflow %s", queue, job.job_id, workflow_id)
        return Ack(workflow_id, "started or attached")

    async def _answer_ended(self, job: LegacyJob, legacy: LegacyJobInput) -> None:
        """Publish the events a job asks for when its analysis has already ended.

        A producer that waits for ``skeleton.completed`` before sending the advice job finds the
        analysis finished (advice takes milliseconds), so without this it would wait forever.
        Stages before the one that failed completed; that one and later ones failed.
        """
        async with session_scope(self._engine) as session:
            analysis = await session.get(Analysis, job.analysis_id)
        if analysis is None or analysis.status not in FINISHED:
            raise RuntimeError(f"analysis {job.analysis_id} has no final status yet")
        order = list(Stage)
        failed_at = (
            order.index(Stage(analysis.stage))
            if analysis.status is not Status.COMPLETED and analysis.stage in set(Stage)
            else len(order)
        )
        for stage in legacy.stages:
            completed = order.index(stage) < failed_at
            event = AnalysisEvent(
                job_id=legacy.job_id,
                analysis_id=str(analysis.id),
                user_id=str(analysis.user_id),
                stage=stage,
                outcome="completed" if completed else "failed",
                status=Status(analysis.status),
                occurred_at=datetime.now(UTC).isoformat(),
                reason=None if completed else analysis.failure_reason,
                for_app=False,  # the app was told by the run's own events
            )
            await record_and_publish(self._engine, self._publisher, event)

    async def _prepare(self, queue: str, job: LegacyJob) -> StartAnalysisInput | None:
        """The workflow input, creating the video and analysis rows if they are missing.

        Returns None when the analysis has already ended (nothing to start). Every check that
        can park the message runs before anything is written.
        """
        bucket = self._settings.bucket
        known = await self._known(job)
        location = known.location
        tier = known.user.subscription_tier
        if queue == GHOST_QUEUE and not (known.ghost and tier.includes_ghost):
            why = f"plan {tier.value}" if not tier.includes_ghost else "ghost not requested"
            raise BadJob(f"analysis {job.analysis_id} runs without the ghost climber ({why})")
        if known.analysis is not None:
            if known.analysis.status in FINISHED:
                return None
            assert known.video is not None  # `_known` checked the analysis's video
            return self._workflow_input(job, known, known.analysis, known.video)
        assert location is not None  # `_known` requires it for a new analysis
        if not await self._store.exists(bucket, location.key):
            raise BadJob(f"video_url: no video uploaded at s3://{bucket}/{location.key}")
        video = known.video or self._new_video(known.user, location)
        analysis = await self._create(job, known, video)
        return self._workflow_input(job, known, analysis, video)

    async def _known(self, job: LegacyJob) -> _Known:
        """The rows the job names, checked against each other; `BadJob` when they disagree."""
        async with session_scope(self._engine) as session:
            user = await session.get(User, job.user_id)
            if user is None:
                raise BadJob(f"user_id: unknown user {job.user_id}")
            location = (
                locate_video(job.video_url, bucket=self._settings.bucket, user_id=user.id)
                if job.video_url is not None
                else None
            )
            route = await session.get(Route, job.route_id)
            if route is None or route.user_id != user.id:
                raise BadJob(f"route_id: user {user.id} has no route {job.route_id}")
            analysis = await session.get(Analysis, job.analysis_id)
            if analysis is not None:
                if analysis.user_id != user.id or analysis.route_id != route.id:
                    raise BadJob(f"analysis_id: {analysis.id} belongs to another user or route")
                video = await session.get(Video, analysis.video_id)
                if video is None or (location is not None and video.storage_url != location.key):
                    raise BadJob(f"video_url: analysis {analysis.id} is of another video")
                return _Known(user, route, analysis, video, location, analysis.ghost_requested)
            if location is None:
                raise BadJob(
                    f"video_url: Field required to start analysis {job.analysis_id}, "
                    "which does not exist yet"
                )
            existing = await session.get(Video, location.video_id)
            if existing is not None and (
                existing.user_id != user.id or existing.storage_url != location.key
            ):
                raise BadJob(f"video_url: video {existing.id} is another user's or elsewhere")
            # The seed's ghost jobs come after the skeleton job; a plan with the ghost gets it.
            return _Known(
                user, route, None, existing, location, user.subscription_tier.includes_ghost
            )

    @staticmethod
    def _new_video(user: User, location: VideoLocation) -> Video:
        video = Video(
            id=location.video_id, user_id=user.id, storage_url=location.key, saved=location.saved
        )
        if not location.saved:
            video.expires_at = video.uploaded_at + UPLOAD_RETENTION
        return video

    async def _create(self, job: LegacyJob, known: _Known, video: Video) -> Analysis:
        created = job.created_at if job.created_at.tzinfo else job.created_at.replace(tzinfo=UTC)
        analysis = Analysis(
            id=job.analysis_id,
            video_id=video.id,
            user_id=known.user.id,
            route_id=known.route.id,
            ghost_requested=known.ghost,
            created_at=created,
            updated_at=utcnow(),
        )
        async with self._engine.begin() as conn:
            await conn.execute(_insert_if_missing(conn.dialect.name, video))
            await conn.execute(_insert_if_missing(conn.dialect.name, analysis))
        return analysis

    def _workflow_input(
        self, job: LegacyJob, known: _Known, analysis: Analysis, video: Video
    ) -> StartAnalysisInput:
        morphology = job.user_morphology or LegacyMorphology()
        return analysis_input(
            analysis,
            known.user,
            known.route,
            self._settings,
            video_key=video.storage_url,
            morphology=Morphology(**morphology.model_dump()),
        )
