"""Documents the GPU steps store for the result step: what each holds, written and read here.

The advice step stores an `AdviceDocument` at `AdviceResult.advice_key`, the ghost step a
`GhostPlanDocument` at `GhostResult.plan_key`; `engines.document.assemble` reads both back into
the app's result document. Each type has one encode/decode pair (gzipped compact JSON), so the
writer and the reader cannot disagree on a key. Items stay JSON objects: they are the engines'
``to_dict()`` forms and go into the result document unchanged (its JSON Schema describes them).
Decoding accepts documents stored by older workers: a missing field takes its default.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

#: Level 6: within a few percent of level 9's size at a tenth of its time.
GZIP_LEVEL = 6


@dataclass
class ClimbSpan:
    """The climb inside the video as the advice step found it (``extra.climb`` of the result).

    ``start_s``/``end_s``/``start``/``end`` are `engines.climb.ClimbSegment.to_dict()`; the rest
    is the `schema.analysis.ClimbReading` of the same climb: ``floor_holds`` names the holds of
    the map lying on the floor, which the analysis left out (empty in documents stored before).
    """

    start_s: float
    end_s: float
    start: str
    end: str
    finish: str = "video_end"
    start_holds: dict[str, str | None] = field(default_factory=dict)
    top_hold: str | None = None
    floor_holds: list[str] = field(default_factory=list)


@dataclass
class AdviceDocument:
    """What the advice step found, stored at `schema.steps.AdviceResult.advice_key`."""

    #: None only in documents stored before climbs were segmented.
    climb: ClimbSpan | None = None
    #: `engines.contacts.Move.to_dict()` of every move.
    moves: list[dict[str, Any]] = field(default_factory=list)
    #: `engines.biomech.MoveFigures.to_dict()` of every move.
    move_figures: list[dict[str, Any]] = field(default_factory=list)
    #: `engines.advice.AdviceItem.to_dict()` of every item.
    advice: list[dict[str, Any]] = field(default_factory=list)
    #: The `schema.analysis.MetricsSummary` fields (the result step takes the workflow's copy).
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass
class GhostPlanDocument:
    """The ghost's plan, stored at `schema.steps.GhostResult.plan_key`."""

    #: The ghost's timed moves (`engines.ghost.GhostMove.to_dict()`).
    moves: list[dict[str, Any]] = field(default_factory=list)
    #: `engines.ghost.GhostVerdict.to_dict()`; None: no climber's sequence to compare with (and
    #: in plans stored before verdicts).
    verdict: dict[str, Any] | None = None


def encode_advice(document: AdviceDocument) -> bytes:
    return _encode(dataclasses.asdict(document))


def decode_advice(data: bytes) -> AdviceDocument:
    raw = _decode(data)
    climb = raw.get("climb")
    return AdviceDocument(
        climb=_known(ClimbSpan, climb) if climb else None,
        moves=raw.get("moves", []),
        move_figures=raw.get("move_figures", []),
        advice=raw.get("advice", []),
        metrics=raw.get("metrics", {}),
    )


def encode_ghost_plan(plan: GhostPlanDocument) -> bytes:
    return _encode(dataclasses.asdict(plan))


def decode_ghost_plan(data: bytes) -> GhostPlanDocument:
    return _known(GhostPlanDocument, _decode(data))


def _known(cls: type[T], raw: dict[str, Any]) -> T:
    """``cls`` from the fields of ``raw`` it declares (a newer writer's extra keys are left)."""
    fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{key: value for key, value in raw.items() if key in fields})


def _encode(document: dict[str, Any]) -> bytes:
    text = json.dumps(document, separators=(",", ":"))
    return gzip.compress(text.encode(), compresslevel=GZIP_LEVEL)


def _decode(data: bytes) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(gzip.decompress(data))
    return document
