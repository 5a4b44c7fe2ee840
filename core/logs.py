"""Process logging: plain text for a terminal, or one JSON object per line for a log shipper.

``ASCENSION_LOG_FORMAT=json`` makes every record one line that Loki, Elasticsearch or
``jq`` read without a parser of their own, and puts the analysis and workflow ids the record
belongs to in fields of their own: support finds every line of one analysis across the API,
both workers and the ingress by ``analysis_id``, whatever the message says.

Where the ids come from, so that no call site has to pass them:

* in an activity, `temporalio.activity.info()` (the workflow id; an ``analysis-{id}`` workflow
  names its analysis);
* in workflow code, the ``temporal_workflow`` details `temporalio.workflow.logger` attaches;
* in the API, the fields `log_context` binds for the current request (the request middleware
  binds the method, route and request id; a handler that learns an analysis id binds it).

Fields that are known neither way are left out rather than written as null.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from temporalio import activity

from schema.names import analysis_id_of_workflow

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

#: Fields bound to the current request (or CLI command). `log_context` opens a fresh dict that
#: `bind_log_fields` then fills in place, so a field a handler binds deep inside the request
#: (even from a task that copied the context) reaches the request's own last line too.
_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "ascension_log_context", default=None
)


def bind_log_fields(**fields: str | None) -> None:
    """Add fields to every later record of the current request (None values are ignored)."""
    current = _context.get()
    if current is None:
        current = {}
        _context.set(current)
    current.update({key: str(value) for key, value in fields.items() if value is not None})


@contextlib.contextmanager
def log_context(**fields: str | None) -> Iterator[dict[str, Any]]:
    """Bind fields for the duration of a block (one API request), on top of the outer ones;
    yields the block's fields, which `bind_log_fields` adds to."""
    token = _context.set(dict(_context.get() or {}))
    bind_log_fields(**fields)
    try:
        yield _context.get() or {}
    finally:
        _context.reset(token)


def _temporal_fields(record: logging.LogRecord) -> dict[str, str]:
    fields: dict[str, str] = {}
    details = getattr(record, "temporal_workflow", None) or getattr(
        record, "temporal_activity", None
    )
    if isinstance(details, Mapping):
        for key in ("workflow_id", "run_id", "workflow_run_id", "activity_type", "workflow_type"):
            if details.get(key):
                fields[key] = str(details[key])
    if activity.in_activity():
        info = activity.info()
        fields.setdefault("workflow_id", info.workflow_id or "")
        fields.setdefault("activity_type", info.activity_type)
        fields["attempt"] = str(info.attempt)
    if "workflow_run_id" in fields:
        fields["run_id"] = fields.pop("workflow_run_id")
    analysis_id = analysis_id_of_workflow(fields.get("workflow_id"))
    if analysis_id is not None:
        fields["analysis_id"] = analysis_id
    return {key: value for key, value in fields.items() if value}


class ContextFilter(logging.Filter):
    """Copies the current ids onto the record as ``record.context`` (a dict); never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = dict(_context.get() or {})
        for key, value in _temporal_fields(record).items():
            fields.setdefault(key, value)
        record.context = fields
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line: time (UTC, ISO 8601), level, logger, message,
    the context fields, and the traceback as one string (it was already redacted)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "context", None) or {})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


def make_handler(log_format: LogFormat, stream: Any = None) -> logging.Handler:
    """A stream handler (stderr unless told) in the given format, with the context filter."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    return handler


def configure_logging(log_format: LogFormat, *, level: int = logging.INFO) -> None:
    """Give the root logger one handler in ``log_format``; what `ascension` runs first. Calling
    again replaces that handler only (a test harness' capture handlers stay). In JSON mode
    `ascension api` hands uvicorn no logging config of its own, so its records come here too."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "ascension_handler", False):
            root.removeHandler(handler)
    handler = make_handler(log_format)
    handler.ascension_handler = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
