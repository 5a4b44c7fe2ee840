"""A map the climber validated in a video's analysis, handed to the route's own run.

`RouteHoldsWorkflow` is the only writer of ``routes.hold_map``: two runs of one route never
overlap (one workflow id), so a map validated in an analysis and one validated on the route
itself cannot overwrite each other out of order. The analysis workflow cannot start another
workflow and wait for it without becoming its parent, so it schedules this activity, which goes
through `core.routes.hand_over_route_map`.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError

from core.routes import hand_over_route_map
from schema import names
from schema.activities import HAND_OVER_ROUTE_HOLDS
from schema.routes import RouteHoldsInput


class RouteHoldsHandOver:
    """Bound to the worker's Temporal client."""

    def __init__(self, client: Client) -> None:
        self._client = client

    @activity.defn(name=HAND_OVER_ROUTE_HOLDS.name)
    async def hand_over_route_holds(self, params: RouteHoldsInput) -> None:
        """Store the analysis's validated map through the route's run (or offer it to the run
        that is going)."""
        if params.accepted_hold_map is None:
            raise ApplicationError(
                "no validated hold map to hand over",
                type=names.INVALID_HOLD_MAP,
                non_retryable=True,
            )
        try:
            await hand_over_route_map(self._client, params)
        except WorkflowFailureError as err:
            # The storing run failed on its own (it records why); a retry would fail alike.
            raise ApplicationError(
                f"the route's hold map could not be stored: {err.cause}",
                type=names.ROUTE_HOLDS_FAILED,
                non_retryable=True,
            ) from None
