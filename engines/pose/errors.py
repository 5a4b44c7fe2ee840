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


class TruncatedVideoError(InvalidVideoError):
    """The file holds less of the video than it declares: an interrupted upload or a damaged file.

    Reported as ``InvalidVideo`` (the activities map errors by their nearest documented class).
    Analysing what could be read would pass off part of a climb as the whole of it.

    Attributes:
        declared_s: the video's length according to its file, in seconds; ``None`` when the file
            is too incomplete to say (it could not even be opened).
        readable_s: how much of it could be decoded, in seconds; ``None`` likewise.
    """

    def __init__(
        self,
        message: str,
        *,
        declared_s: float | None = None,
        readable_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.declared_s = declared_s
        self.readable_s = readable_s

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_truncated, (str(self), self.declared_s, self.readable_s))


def _rebuild_truncated(
    message: str, declared_s: float | None, readable_s: float | None
) -> TruncatedVideoError:
    return TruncatedVideoError(message, declared_s=declared_s, readable_s=readable_s)
