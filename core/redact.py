"""Secrets never reach a log: a logging filter that blanks them out of every record.

What it redacts, wherever it appears in a message, its arguments, a traceback or a stack:

- JWTs (``eyJ...``: our access tokens), whole;
- argon2 password hashes (``$argon2id$v=19$...``);
- presigned-URL signatures (``X-Amz-Signature=...``, ``X-Amz-Credential=...``) and the
  ``Signature=`` of a SigV4 ``Authorization`` header;
- ``Authorization`` header values (``Bearer ...``, ``Basic ...``);
- values named ``token``, ``access_token``, ``refresh_token``, ``password``, ``secret`` or
  ``api_key`` (query strings, JSON, ``key=value``), so an opaque refresh token is caught too;
- passwords in URLs (``amqp://user:password@host``).

`install_log_redaction` applies it to every record the process creates (through the log-record
factory, so handlers added later, uvicorn's and pytest's included, only ever see the redacted
record). The SQL engines log no statement parameters at all (``hide_parameters``, in
`core.db.make_engine`); this filter is the second line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

REDACTED = "[redacted]"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # A JWT: three base64url parts, the first two JSON objects ("eyJ" is '{"').
    (re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), REDACTED),
    (re.compile(r"\$argon2(?:id|i|d)\$[^\s'\",)\]}]*"), "$argon2" + REDACTED),
    (
        re.compile(r"(?i)\b(X-Amz-(?:Signature|Credential|Security-Token)=)[^&\s'\"]+"),
        r"\1" + REDACTED,
    ),
    (re.compile(r"(?i)\b(Signature=)[0-9a-f]{16,}"), r"\1" + REDACTED),
    (
        re.compile(
            r"(?i)(\bauthorization['\"]?\s*[:=,]\s*(?:b?['\"])?\s*(?:bearer\s+|basic\s+)?)"
            r"[^\s'\",)\]}]+"
        ),
        r"\1" + REDACTED,
    ),
    (
        re.compile(
            r"(?i)((?<![A-Za-z0-9])(?:access_|refresh_)?(?:token|password|secret(?:_key)?|api_key)"
            r"['\"]?\s*[:=]\s*['\"]?)[^\s&'\",)\]}]+"
        ),
        r"\1" + REDACTED,
    ),
    (re.compile(r"([a-z][a-z0-9+.-]*://[^\s:/@'\"]+:)[^\s@/'\"]+(@)"), r"\1" + REDACTED + r"\2"),
)


def redact(text: str) -> str:
    """``text`` with every secret replaced by ``[redacted]``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_arg(value: Any) -> Any:
    if value is None or isinstance(value, int | float):
        return value  # numbers keep their %d / %.2f formatting
    if isinstance(value, str):
        return redact(value)
    try:
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    except Exception:
        return value
    cleaned = redact(text)
    return value if cleaned == text else cleaned


class RedactSecrets(logging.Filter):
    """Rewrites a record in place so that no handler can print a secret; never drops one.

    The message is formatted with its arguments first and redacted whole (a secret is often
    recognised by its context, ``refresh_token=...``, which only the formatted text has). Records
    of uvicorn's access log keep their arguments, each redacted: its formatter unpacks them.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and record.name.startswith("uvicorn.access"):
            self._redact_args(record)
        else:
            try:
                message = record.getMessage()
            except Exception:  # a broken format: leave it to the handler to report
                self._redact_args(record)
            else:
                record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            # Formatted once here, redacted; formatters reuse `exc_text` instead of the raw
            # exception (whose text may carry SQL parameters or a token).
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True

    @staticmethod
    def _redact_args(record: logging.LogRecord) -> None:
        if isinstance(record.args, Mapping):
            record.args = {key: _redact_arg(value) for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            # A tuple of the same length: uvicorn's access formatter unpacks it.
            record.args = tuple(_redact_arg(value) for value in record.args)


_FILTER = RedactSecrets()
_installed = False


def install_log_redaction() -> None:
    """Redact every log record this process creates from now on; safe to call again."""
    global _installed
    if _installed:
        return
    previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _FILTER.filter(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
