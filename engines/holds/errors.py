"""Why a wall photo cannot give a hold map, in words a climber can act on."""

from __future__ import annotations

from engines.errors import EngineInputError


class InvalidPhotoError(EngineInputError):
    """The upload is not a photo we can read (corrupt, empty, or an unsupported format)."""


class PhotoSizeError(InvalidPhotoError):
    """The photo is too small to show holds, or too large to process."""


class NoHoldsFoundError(EngineInputError):
    """The photo was read, but nothing in it looks like a climbing hold."""


class CloseUpPhotoError(EngineInputError):
    """The photo shows one or two holds up close, not a section of wall to climb."""


class TooManyHoldsError(EngineInputError):
    """So many hold-like shapes that the photo is not of one wall section."""


class HoldModelError(RuntimeError):
    """The configured hold-detection weights cannot be used: a deployment problem, not the
    climber's; the message is for operators."""
