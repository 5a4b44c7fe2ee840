"""The error the result document raises for inputs it cannot encode or documents it cannot read."""

from __future__ import annotations

from engines.errors import EngineInputError


class ResultDocumentError(EngineInputError):
    """The analysis cannot be written as (or read back from) a result document.

    Raised for broken contracts between engines (a pose frame with NaN landmarks, a ghost that is
    not on the video's frames, advice that is not JSON) and for malformed or unsupported documents.
    Running again on the same input cannot succeed.
    """
