"""Why a ghost cannot be computed, in words a climber can act on."""

from __future__ import annotations

from engines.errors import EngineInputError


class GhostInputError(EngineInputError):
    """The skeleton, hold map or start holds cannot carry a ghost (e.g. no measurable frame)."""


class NoRouteError(GhostInputError):
    """No sequence of holds reaches the top within the climber's reach.

    The activity reports this as a skipped ghost with this message, not as a failed analysis.
    """
