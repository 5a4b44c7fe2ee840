"""Why a climber's profile cannot give a training program, in words the API can return."""

from __future__ import annotations

from collections.abc import Sequence

from engines.errors import EngineInputError


class TrainingInputError(EngineInputError):
    """A profile field holds a value the generator does not know (a goal, an injury, a grade...).

    Attributes:
        field: the profile field, as the API names it (``"goals"``, ``"level"``, ...).
        value: the value that was refused.
        allowed: every value the field accepts, in a stable order; empty for a range error.
    """

    def __init__(
        self, message: str, *, field: str, value: object = None, allowed: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
        self.allowed = tuple(allowed)


class UnsafePlanError(RuntimeError):
    """The generator produced a plan its own safety validator rejects: a bug, never the climber's
    input. Raised rather than returning a plan that could hurt someone."""
