"""Reference decoder of the result document, the executable twin of its JSON Schema.

The tests decode every document they build and compare with what went in; an app developer can
read this module next to the schema to check their own decoder.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from engines.document.build import FORMAT, VERSION
from engines.document.errors import ResultDocumentError
from engines.document.holds_codec import decode_holds
from engines.document.timeline_codec import decode_timeline
from engines.pose.timeline import SkeletonTimeline
from schema.analysis import MetricsSummary
from schema.holds import HoldMap


@dataclass(frozen=True)
class VideoFacts:
    """The ``video`` object: the analysed frames of the climber's video.

    Attributes:
        frame_width: width in pixels of the analysed frames.
        frame_height: height in pixels.
        source_fps: frame rate of the video file.
        frame_count: analysed frames (the skeleton's frames).
        duration_s: end of the last analysed frame, seconds from the start of the video.
        pose_coverage: fraction of frames where the climber was detected, 0..1.
    """

    frame_width: int
    frame_height: int
    source_fps: float
    frame_count: int
    duration_s: float
    pose_coverage: float


@dataclass
class DecodedResult:
    """A result document read back into engine types.

    Attributes:
        analysis_id: the analysis.
        video: facts about the analysed video.
        hold_map: holds, normalised coordinates.
        skeleton: the climber, ``T = video.frame_count`` frames.
        ghost: the ghost, or None; its frame ``i`` is skeleton frame ``ghost_first_frame + i``.
        ghost_first_frame: see ``ghost``; None without a ghost.
        ghost_moves: the ghost's timed moves.
        ghost_skipped_reason: why there is no ghost, when there is none and a reason was given.
        ghost_verdict: whether the ghost's sequence beats the climber's (``verdict``
            ``"better_sequence"`` or ``"same_as_climber"``, ``message`` for the climber, the two
            efforts); None without a ghost, without the climber's sequence, or from older
            backends.
        metrics: the summary figures.
        moves: the climber's moves, as in `engines.contacts.Move.to_dict`.
        move_figures: per-move biomechanics, as in `engines.biomech.MoveFigures.to_dict`.
        advice: advice items, as in `engines.advice.AdviceItem.to_dict`, best first. Items from
            older backends have no ``confidence`` nor ``occurrences``: read such an item as
            seen once.
        extra: further fields the backend added.
    """

    analysis_id: str
    video: VideoFacts
    hold_map: HoldMap
    skeleton: SkeletonTimeline
    ghost: SkeletonTimeline | None
    ghost_first_frame: int | None
    metrics: MetricsSummary
    ghost_moves: list[dict[str, Any]] = field(default_factory=list)
    ghost_skipped_reason: str | None = None
    ghost_verdict: dict[str, Any] | None = None
    moves: list[dict[str, Any]] = field(default_factory=list)
    move_figures: list[dict[str, Any]] = field(default_factory=list)
    advice: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.skeleton) != self.video.frame_count:
            raise ResultDocumentError("the skeleton must have video.frame_count frames")
        if (self.ghost is None) != (self.ghost_first_frame is None):
            raise ResultDocumentError("a ghost comes with its first frame, and only a ghost")
        first = self.ghost_first_frame
        if (
            self.ghost is not None
            and first is not None
            and not 0 <= first <= len(self.skeleton) - len(self.ghost)
        ):
            raise ResultDocumentError("the ghost runs past the video's frames")


def decode_result_document(document: dict[str, Any]) -> DecodedResult:
    """Reads a result document built by `engines.document.build_result_document`.

    Args:
        document: the parsed JSON.

    Returns:
        The decoded result; timelines within half a quantisation step of what was encoded.

    Raises:
        ResultDocumentError: not a result document, an unsupported version, or malformed.
    """
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ResultDocumentError(f"not an {FORMAT} document")
    if document.get("version") != VERSION:
        raise ResultDocumentError(
            f"result document version {document.get('version')!r} is not supported "
            f"(this decoder reads version {VERSION})"
        )
    try:
        ghost_block = document["ghost"]
        return DecodedResult(
            analysis_id=document["analysis_id"],
            video=VideoFacts(**_known(VideoFacts, document["video"])),
            hold_map=decode_holds(document["holds"]),
            skeleton=decode_timeline(document["skeleton"]),
            ghost=decode_timeline(ghost_block) if ghost_block is not None else None,
            ghost_first_frame=ghost_block["first_frame"] if ghost_block is not None else None,
            metrics=MetricsSummary(**_known(MetricsSummary, document["metrics"])),
            ghost_moves=list(document["ghost_moves"]),
            ghost_skipped_reason=document["ghost_skipped_reason"],
            ghost_verdict=_object_or_none(document.get("ghost_verdict"), "ghost_verdict"),
            moves=list(document["moves"]),
            move_figures=list(document["move_figures"]),
            advice=_advice(document["advice"]),
            extra=dict(document.get("extra") or {}),
        )
    except ResultDocumentError:
        raise
    except (KeyError, TypeError, ValueError) as error:
        raise ResultDocumentError(f"malformed result document: {error!r}") from error


def _object_or_none(value: Any, name: str) -> dict[str, Any] | None:
    if value is not None and not isinstance(value, dict):
        raise ResultDocumentError(f"malformed result document: {name} must be an object or null")
    return value


def _advice(items: Any) -> list[dict[str, Any]]:
    """The advice items, checked to be objects whose ``occurrences`` (when given) are objects."""
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ResultDocumentError("malformed result document: advice must be a list of objects")
    for item in items:
        occurrences = item.get("occurrences", [])
        if not isinstance(occurrences, list) or not all(isinstance(o, dict) for o in occurrences):
            raise ResultDocumentError(
                "malformed result document: advice occurrences must be a list of objects"
            )
    return list(items)


def _known(cls: type, block: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``block`` that ``cls`` has: fields added by later backends are ignored."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {name: value for name, value in block.items() if name in names}
