"""Why a video cannot give a skeleton, in words a climber understands."""

from __future__ import annotations

from engines.errors import EngineInputError


class InvalidVideoError(EngineInputError):
    """The file is not a usable video: unreadable, corrupt, empty, or outside the size limits."""


class NoClimberFoundError(EngineInputError):
    """The video decodes, but no person is visible in most of it.

    Attributes:
        coverage: fraction of the decodable sampled frames in which a pose was found, 0..1.
    """

    def __init__(self, message: str, *, coverage: float) -> None:
        super().__init__(message)
        self.coverage = coverage

    def __reduce__(self) -> tuple[object, ...]:
        # Exceptions pickle through ``args``; the keyword-only field needs its own state.
        return (_rebuild_no_climber, (str(self), self.coverage))


def _rebuild_no_climber(message: str, coverage: float) -> NoClimberFoundError:
    return NoClimberFoundError(message, coverage=coverage)
