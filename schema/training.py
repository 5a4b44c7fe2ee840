"""Wire contract of a training program: the workflow's and its activities' inputs and outputs.

Plain dataclasses, like `schema.analysis`, so `workflows.training_program` imports nothing heavy.
The profile travels as the plain JSON object the API and the legacy ``training.program`` job carry;
`engines.training.profile_from_dict` checks it inside the generating activity. The plan document
itself (about 50 KB) never travels through history: the generating activity stores it and passes
its key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

#: Analysed climbs read for the plan's history (newest first).
DEFAULT_HISTORY_LIMIT: Final = 20


@dataclass
class TrainingProgramInput:
    """One request for a program: from the API (``POST /training/programs``) or a legacy job."""

    user_id: str
    #: The request's id: the events' ``{job_id}`` and the stored program's id when it is new.
    job_id: str
    #: The climber's profile as plain JSON (``history`` is ignored: it comes from analyses).
    profile: dict[str, Any]
    bucket: str
    #: The seed's ``training.program`` job this run answers, if a legacy producer sent it.
    legacy_job: bool = False
    history_limit: int = DEFAULT_HISTORY_LIMIT


@dataclass
class GenerateProgramInput:
    user_id: str
    job_id: str
    profile: dict[str, Any]
    bucket: str
    history_limit: int = DEFAULT_HISTORY_LIMIT


@dataclass
class GeneratedProgram:
    """The stored plan document and what identifies it."""

    document_key: str
    #: sha256 of the document's bytes: two identical plans have the same one.
    plan_sha256: str
    #: sha256 of the full profile the plan was generated from (analysis history included).
    profile_sha256: str
    version: int
    analyses_used: int
    weeks: int
    #: Constraints that could not all hold (the plan explains each).
    conflicts: list[str] = field(default_factory=list)
    #: The analyses whose result documents made the plan's history, newest first (the
    #: document cites them under ``sources.analyses``).
    analysis_ids: list[str] = field(default_factory=list)


@dataclass
class RegenerateProgramInput:
    """An analysis has completed: refresh its climber's program, if they have one.

    Sent by `VideoAnalysisWorkflow` once the result document is stored (``persist_results``),
    so the new analysis is part of the history the regenerated plan reads.
    """

    user_id: str
    analysis_id: str
    bucket: str
    #: Where `TrainingProgramWorkflow` runs (the analysis's own CPU queue).
    cpu_task_queue: str


@dataclass
class RegenerationRequested:
    """What became of the request: a job started (or already started for this analysis), or
    why none was (the climber has no training profile and no program)."""

    job_id: str | None = None
    skipped_reason: str | None = None


@dataclass
class PersistProgramInput:
    user_id: str
    job_id: str
    program: GeneratedProgram


@dataclass
class PersistProgramResult:
    program_id: str
    #: False when the climber's latest program was already this exact plan (nothing stored).
    stored: bool


@dataclass
class TrainingProgramResult:
    job_id: str
    program_id: str
    stored: bool
    document_key: str
    conflicts: list[str] = field(default_factory=list)


@dataclass
class TrainingEvent:
    """``training.completed.{job_id}`` / ``training.failed.{job_id}`` on ``ascension.events``."""

    job_id: str
    user_id: str
    #: "completed" or "failed".
    outcome: str
    occurred_at: str
    program_id: str | None = None
    reason: str | None = None

    @property
    def routing_key(self) -> str:
        return f"training.{self.outcome}.{self.job_id}"

    @property
    def message_id(self) -> str:
        """The same for every retry of one job's outcome: consumers deduplicate on it."""
        return f"training:{self.job_id}:{self.outcome}"


TRAINING_EVENT_SCHEMA_VERSION: Final = 1


def training_event_body(event: TrainingEvent) -> dict[str, Any]:
    """The JSON object published for ``event`` (the seed documents ``job_id`` and ``status``)."""
    body: dict[str, Any] = {
        "job_id": event.job_id,
        "status": event.outcome,
        "user_id": event.user_id,
        "stage": "training",
        "occurred_at": event.occurred_at,
        "schema_version": TRAINING_EVENT_SCHEMA_VERSION,
    }
    if event.program_id is not None:
        body["program_id"] = event.program_id
    if event.reason is not None:
        body["reason"] = event.reason
    return body
