"""Body of the RabbitMQ events existing consumers read (seed 000 data flow).

The seed documents ``{"job_id": ..., "status": ...}``; we keep both fields with the seed's meaning
(``status`` is the outcome of the stage: "completed" or "failed") and add context consumers asked
for. `EVENT_JSON_SCHEMA` is published as ``schema/json/analysis_event.schema.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from schema.analysis import Stage, Status

SCHEMA_VERSION: Final = 1


@dataclass
class AnalysisEvent:
    """One RabbitMQ completion/failure event (seed 000 data flow)."""

    job_id: str
    analysis_id: str
    user_id: str
    stage: Stage
    #: "completed" or "failed": the routing key is ``{stage}.{outcome}.{job_id}``.
    outcome: str
    status: Status
    occurred_at: str
    reason: str | None = None
    #: The run's `StartAnalysisInput.redrive`: a redriven run publishes its own events, so a
    #: second failure of a stage is not taken for a duplicate of the first.
    redrive: int = 0
    #: False for an answer owed to a legacy job alone, repeating an outcome the app is told by
    #: the run's own event (a job attached to a run already going): published on the broker
    #: under the job's routing key, but neither logged for nor shown to the app, whose client
    #: sees one frame per outcome. Not part of the body.
    for_app: bool = True

    @property
    def routing_key(self) -> str:
        return f"{self.stage.value}.{self.outcome}.{self.job_id}"

    @property
    def message_id(self) -> str:
        """Same for every retry of one (analysis, stage, outcome, job): consumers deduplicate on
        it. A legacy job answered late gets an event of its own, so its id joins the key; so
        does a redriven run's number, whose events are new ones."""
        key = f"{self.analysis_id}:{self.stage.value}:{self.outcome}"
        if self.redrive:
            key = f"{key}:r{self.redrive}"
        return key if self.job_id == self.analysis_id else f"{key}:{self.job_id}"


EVENT_JSON_SCHEMA: Final[dict[str, Any]] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://ascension.app/schemas/analysis_event.schema.json",
    "title": "Ascension analysis event",
    "description": (
        "Published on exchange ascension.events with routing key {stage}.{status}.{job_id}. "
        "Consumers deduplicate on the AMQP message_id, which is the same for every redelivery "
        "of one (analysis, stage, outcome, job)."
    ),
    "type": "object",
    "required": [
        "job_id",
        "status",
        "analysis_id",
        "user_id",
        "stage",
        "occurred_at",
        "schema_version",
    ],
    "properties": {
        "job_id": {
            "type": "string",
            "description": (
                "The id of the legacy job that asked for this stage, else the analysis id."
            ),
        },
        "status": {"enum": ["completed", "failed"]},
        "analysis_id": {"type": "string"},
        "user_id": {"type": "string"},
        "stage": {"enum": [stage.value for stage in Stage]},
        "analysis_status": {"type": "string", "description": "The analysis status after it."},
        "occurred_at": {"type": "string", "format": "date-time"},
        "reason": {
            "type": "string",
            "description": "Failures only: why, in words the climber understands.",
        },
        "schema_version": {"const": SCHEMA_VERSION},
    },
    "additionalProperties": False,
}


def event_body(event: AnalysisEvent) -> dict[str, Any]:
    """The JSON object published for ``event``."""
    body: dict[str, Any] = {
        "job_id": event.job_id,
        "status": event.outcome,
        "analysis_id": event.analysis_id,
        "user_id": event.user_id,
        "stage": event.stage.value,
        "analysis_status": event.status.value,
        "occurred_at": event.occurred_at,
        "schema_version": SCHEMA_VERSION,
    }
    if event.reason is not None:
        body["reason"] = event.reason
    return body
