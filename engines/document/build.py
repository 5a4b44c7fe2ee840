"""The analysis result document: one versioned JSON document the app fetches and draws from.

It replaces the seed's "50 MB video" with the skeleton, the ghost and the coaching as data: the app
plays the climber's own video and draws both skeletons over it frame by frame. Timelines use the
compact integer encoding of `engines.document.timeline_codec`; everything small (holds, metrics,
moves, advice) stays plain JSON objects. The format is published as JSON Schema in
``schema/json/analysis_result.schema.json``; `engines.document.decode` is its reference decoder.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import logging
import math
from typing import Any, Final

import numpy as np

from engines.document.errors import ResultDocumentError
from engines.document.holds_codec import encode_holds
from engines.document.timeline_codec import TIME_UNIT_S, encode_timeline
from engines.pose.timeline import SkeletonTimeline
from schema.analysis import MetricsSummary
from schema.holds import HoldMap

logger = logging.getLogger(__name__)

#: Name of the format, so a client can tell this document from any other JSON.
FORMAT: Final = "ascension.analysis_result"
#: Bumped on any change an existing decoder would misread; adding fields does not bump it.
VERSION: Final = 1


def build_result_document(
    *,
    analysis_id: str,
    hold_map: HoldMap,
    skeleton: SkeletonTimeline,
    metrics: MetricsSummary,
    moves: list[dict[str, Any]],
    move_figures: list[dict[str, Any]],
    advice: list[dict[str, Any]],
    ghost: SkeletonTimeline | None,
    ghost_moves: list[dict[str, Any]] | None,
    ghost_skipped_reason: str | None = None,
    extra: dict[str, Any] | None = None,
    ghost_verdict: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON-ready result document of one analysis.

    Args:
        analysis_id: the analysis.
        hold_map: the validated holds the analysis used.
        skeleton: the climber's smoothed skeleton; its frames are the video's analysed frames.
        metrics: the analysis_metrics summary.
        moves: `engines.contacts.Move.to_dict()` of every move.
        move_figures: `engines.biomech.MoveFigures.to_dict()` of every move.
        advice: `engines.advice.AdviceItem.to_dict()` of every item.
        ghost: the ghost's timeline, on a contiguous run of the skeleton's timestamps; None when
            there is no ghost (tier without it, or no route found).
        ghost_moves: the ghost's timed moves as dicts (limb, from_hold, to_hold, start_s, end_s).
        ghost_skipped_reason: why there is no ghost, in words for the climber.
        extra: further JSON-ready fields for the app, kept as they are.
        ghost_verdict: `engines.ghost.GhostVerdict.to_dict()`: whether the ghost's sequence
            beats the climber's own, so the app does not present a ghost that is no better as an
            improvement; None without a ghost or without the climber's sequence to compare.

    Returns:
        The document (see the JSON Schema); serialise it with `encode_json`.

    Raises:
        ResultDocumentError: an input cannot be encoded (see `encode_timeline`), the ghost is
            not on the skeleton's frames, or a list, ``extra`` or ``ghost_verdict`` is not
            JSON-ready.
    """
    if extra is not None and not isinstance(extra, dict):
        raise ResultDocumentError("extra must be an object")
    if ghost_verdict is not None and not isinstance(ghost_verdict, dict):
        raise ResultDocumentError("ghost_verdict must be an object")
    frames = len(skeleton)
    end_s = float(skeleton.timestamps_s[-1]) + 1.0 / skeleton.source_fps if frames else 0.0
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "analysis_id": analysis_id,
        "video": {
            "frame_width": skeleton.frame_width,
            "frame_height": skeleton.frame_height,
            "source_fps": float(skeleton.source_fps),
            "frame_count": frames,
            "duration_s": round(end_s, 3),
            "pose_coverage": round(skeleton.coverage, 4),
        },
        "holds": encode_holds(hold_map),
        "skeleton": encode_timeline(skeleton),
        "ghost": None,
        "ghost_moves": _plain_list(ghost_moves or [], "ghost_moves"),
        "ghost_skipped_reason": ghost_skipped_reason,
        "ghost_verdict": (
            _plain(ghost_verdict, "ghost_verdict") if ghost_verdict is not None else None
        ),
        "metrics": _metrics(metrics),
        "moves": _plain_list(moves, "moves"),
        "move_figures": _plain_list(move_figures, "move_figures"),
        "advice": _plain_list(advice, "advice"),
        "extra": _plain(extra or {}, "extra"),
    }
    if ghost is not None:
        document["ghost"] = encode_timeline(ghost, first_frame=ghost_first_frame(skeleton, ghost))
    return document


def ghost_first_frame(skeleton: SkeletonTimeline, ghost: SkeletonTimeline) -> int:
    """Index of the skeleton frame the ghost's first frame is drawn on.

    Raises:
        ResultDocumentError: the ghost has another frame size, or its timestamps are not a
            contiguous run of the skeleton's (to within half a millisecond).
    """
    if (ghost.frame_width, ghost.frame_height) != (skeleton.frame_width, skeleton.frame_height):
        raise ResultDocumentError("the ghost must be normalised to the skeleton's frame size")
    if not len(ghost):
        return 0
    first = int(np.searchsorted(skeleton.timestamps_s, ghost.timestamps_s[0] - TIME_UNIT_S / 2))
    stop = first + len(ghost)
    if stop > len(skeleton) or not np.allclose(
        skeleton.timestamps_s[first:stop], ghost.timestamps_s, rtol=0.0, atol=TIME_UNIT_S / 2
    ):
        raise ResultDocumentError("the ghost's timestamps are not a run of the video's frames")
    return first


def encode_json(document: dict[str, Any]) -> bytes:
    """UTF-8 JSON without spaces, as served (NaN and infinities refused)."""
    try:
        text = json.dumps(document, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ResultDocumentError(f"the document is not JSON-ready: {error}") from error
    return text.encode("utf-8")


def gzip_size(document: dict[str, Any], *, level: int = 9) -> int:
    """Bytes of `encode_json`'s output once gzipped.

    Level 9 (Python's and Starlette's default) is the smallest but slow on these long integer
    arrays (~0.2 s for a 30 s climb, seconds for 5 minutes); level 6 is ~10% larger and ~20x
    faster. Either way, compress once when storing the document, not on every request.

    Args:
        document: the result document.
        level: gzip compression level, 1..9.

    Returns:
        The compressed size in bytes.
    """
    return len(gzip.compress(encode_json(document), compresslevel=level, mtime=0))


def _metrics(metrics: MetricsSummary) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in dataclasses.asdict(metrics).items():
        if isinstance(value, float):
            value = round(value, 3) if math.isfinite(value) else None
        out[name] = value
    return out


def _plain_list(items: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    if not all(isinstance(item, dict) for item in items):
        raise ResultDocumentError(f"{name} must be a list of objects")
    plain: list[dict[str, Any]] = _plain(list(items), name)
    return plain


def _plain(value: Any, name: str) -> Any:
    """A deep copy made of JSON types only (tuples become lists); NaN and objects refused."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise ResultDocumentError(f"{name} is not JSON-ready: {error}") from error
