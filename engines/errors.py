"""Errors the engines raise when the climber's input cannot be used."""

from __future__ import annotations


class EngineInputError(ValueError):
    """The input (photo, video, hold map, ...) cannot be used; the message is for the climber.

    Activities turn it into a non-retryable application error: running again on the same input
    cannot succeed.
    """
