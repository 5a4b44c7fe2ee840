"""Count failed activity attempts as the worker in this process reports them.

A pending activity's attempt number (`WorkflowHandle.describe`) shows a regular activity being
retried, but not a local one: the analysis's bookkeeping steps run as local activities
(`workflows.analysis_steps.BOOKKEEPING`) and retry inside the workflow task, invisible to the
server until they end. The SDK logs every failed attempt, local or not, on
``temporalio.activity`` with the activity's type; a fault test that runs its CPU worker in
process counts them here to know a step really failed during the outage.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

#: What the SDK logs, at WARNING, when an attempt fails and the worker reports it.
FAILED_ATTEMPT_MESSAGE = "Completing activity as failed"


class _FailedAttempts(logging.Handler):
    def __init__(self, counts: Counter[str]) -> None:
        super().__init__(logging.DEBUG)
        self._counts = counts

    def emit(self, record: logging.LogRecord) -> None:
        details = getattr(record, "temporal_activity", None)
        if isinstance(details, dict) and record.getMessage().startswith(FAILED_ATTEMPT_MESSAGE):
            self._counts[str(details.get("activity_type"))] += 1


@contextmanager
def failed_attempts() -> Iterator[Counter[str]]:
    """Failed attempts per activity type while the block runs (live: read it inside)."""
    counts: Counter[str] = Counter()
    handler = _FailedAttempts(counts)
    logger = logging.getLogger("temporalio.activity")
    logger.addHandler(handler)
    try:
        yield counts
    finally:
        logger.removeHandler(handler)
