"""Body of the RabbitMQ events existing consumers read (seed 000 data flow).

The seed documents ``{"job_id": ..., "status": ...}``; we keep both fields with the seed's meaning
(``status`` is the outcome of the stage: "completed" or "failed") and add context consumers asked
for. `EVENT_JSON_SCHEMA` is published as ``schema/json/analysis_event.schema.json``.
"""

from __future__ import annotations

from typing import Any, Final

from schema.analysis import AnalysisEvent, Stage

SCHEMA_VERSION: Final = 1

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
