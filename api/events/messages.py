"""What the hub carries: events as they arrive (`LoggedEvent`) and the frames sockets get
(`PushMessage`), with the mapping from a routing key to a frame type.

Kept apart from the parts that move them (broker thread, event log, registry, progress) because
every one of those speaks these types, and the frame format is the WebSocket contract.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Row, Table

from schema.analysis import AnalysisProgress, Stage
from schema.models import Analysis, AnalysisEventRecord

#: The event log and the analyses, as SQLAlchemy Core tables (the hub reads them without ORM).
EVENTS = cast(Table, AnalysisEventRecord.__table__)  # type: ignore[attr-defined]
ANALYSES = cast(Table, Analysis.__table__)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PushMessage:
    """One WebSocket frame. ``id`` is the event's id in the log (None for progress)."""

    id: int | None
    type: str
    analysis_id: str
    stage: str
    occurred_at: str
    data: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))


def message_type(routing_key: str) -> str:
    """The frame type for a routing key ``{stage}.{outcome}.{job_id}``."""
    stage, outcome, _ = routing_key.split(".", 2)
    if outcome == "completed":
        if stage == Stage.HOLD_DETECTION.value:
            return "holds_detected"
        return "analysis_completed" if stage == Stage.ANALYSIS.value else "stage_completed"
    return "analysis_failed" if stage == Stage.ANALYSIS.value else "stage_failed"


@dataclass
class LoggedEvent:
    """An event as it arrives: from the table (with its id) or the broker (id in a header)."""

    id: int | None
    user_id: str
    routing_key: str
    body: dict[str, Any]
    message_id: str | None = None

    @property
    def analysis_id(self) -> str:
        return str(self.body.get("analysis_id", ""))

    def message(self, hold_map: dict[str, Any] | None = None) -> PushMessage:
        data = dict(self.body)
        kind = message_type(self.routing_key)
        if kind == "holds_detected":
            data["hold_map"] = hold_map
        return PushMessage(
            id=self.id,
            type=kind,
            analysis_id=self.analysis_id,
            stage=str(self.body.get("stage", self.routing_key.split(".", 1)[0])),
            occurred_at=str(self.body.get("occurred_at", "")),
            data=data,
        )


def event_from_row(row: Row[Any]) -> LoggedEvent:
    return LoggedEvent(row.id, str(row.user_id), row.routing_key, dict(row.body), row.message_id)


def progress_message(analysis_id: str, progress: AnalysisProgress) -> PushMessage:
    return PushMessage(
        id=None,
        type="progress",
        analysis_id=analysis_id,
        stage=progress.stage.value,
        occurred_at=datetime.now(UTC).isoformat(),
        data={
            "percent": progress.percent,
            "stage": progress.stage.value,
            "status": progress.status.value,
            "step_done": progress.step_done,
            "step_total": progress.step_total,
        },
    )


def canonical_user(value: object) -> str:
    """A user id as the registry keys it (the UUID's canonical text when it is one)."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return str(value)


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
