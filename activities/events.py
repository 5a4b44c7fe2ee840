"""The `publish_event` activity: the seed's RabbitMQ events, now sent on the workflow's behalf."""

from __future__ import annotations

from temporalio import activity

from ascension.events import EventPublisher
from schema import names
from schema.analysis import AnalysisEvent


class EventActivities:
    """Bound to the worker's publisher; None when no broker is configured (quickstart)."""

    def __init__(self, publisher: EventPublisher | None) -> None:
        self._publisher = publisher

    @activity.defn(name=names.PUBLISH_EVENT)
    def publish_event(self, event: AnalysisEvent) -> None:
        """Publish with a broker confirm. A plain ``def``: pika blocks, so the worker runs this
        in its thread pool. While the broker is down this raises and Temporal retries it (the
        workflow's policy outlasts a long outage); the message id stays the same across retries
        so consumers can drop duplicates."""
        if self._publisher is None:
            activity.logger.info("no broker configured; event %s not sent", event.routing_key)
            return
        self._publisher.publish(event)
