"""Hold maps: what hold detection produces and what the climber corrects.

Pure data classes and pure validation, so the workflow's Update validator can call
`validate_hold_map` deterministically and a rejected correction reaches the climber with a message
they can act on.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Final

#: Hold types the app can draw and the advice rules understand.
HOLD_TYPES: Final = frozenset(
    {"jug", "crimp", "sloper", "pinch", "pocket", "edge", "volume", "foot_chip", "undercling"}
)
#: A wall photo with more holds than this is not a climbing route but a detection failure.
MAX_HOLDS: Final = 300
#: Outline vertices of one hold: the detector gives at most 10; an outline traced by hand (or
#: the synthetic walls' ground truth, 72) more.
MAX_OUTLINE_POINTS: Final = 128
#: Outline vertices of the whole map (16 per hold on the densest wall).
MAX_TOTAL_POINTS: Final = MAX_HOLDS * 16
#: Characters of a hold's id, colour and route name.
MAX_HOLD_TEXT: Final = 64
#: Compact JSON of a whole map. 300 holds with every outline point used take about 145 KB
#: (only full-length text in every field and full-precision floats go past this); a 23 MB map
#: decoded in the workflow sandbox tripped the deadlock detector.
MAX_HOLD_MAP_BYTES: Final = 256 * 1024
#: Prefix of ids the climber gives to holds the detector missed.
USER_HOLD_PREFIX: Final = "user-"


@dataclass
class Hold:
    """One hold on the wall photo. Coordinates are normalised to the image: 0..1 on each axis."""

    id: str
    x: float
    y: float
    type: str
    #: Polygon around the hold, [(x, y), ...] normalised; may be empty for user-added holds.
    polygon: list[tuple[float, float]] = field(default_factory=list)
    #: Dominant colour name ("yellow", ...), used to group holds into routes.
    color: str = ""
    #: Detector confidence in the type, 0..1; 1.0 for holds the climber placed or corrected.
    confidence: float = 1.0
    #: Bounding box (x0, y0, x1, y1), normalised; None for user-added holds.
    bbox: tuple[float, float, float, float] | None = None
    #: Route the hold belongs to, grouped by hold colour ("yellow", "blue-2", ...); may be empty.
    route: str = ""


@dataclass
class HoldMap:
    """All holds of one wall photo."""

    image_width: int
    image_height: int
    holds: list[Hold] = field(default_factory=list)


class HoldMapError(ValueError):
    """A hold map a climber sent cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def hold_map_problems(candidate: HoldMap, detected: HoldMap | None = None) -> list[str]:
    """Every reason ``candidate`` cannot be accepted, in the order a climber would fix them.

    Args:
        candidate: the corrected map.
        detected: the detector's map, when there is one: corrected holds must keep its ids, and
            new holds carry ids starting with ``user-``.

    Returns:
        Human-readable problems; empty when the map is valid.
    """
    if not candidate.holds:
        return ["the hold map is empty: mark at least one hold"]
    problems = _bound_problems(candidate)
    if problems:  # too big to look at hold by hold
        return problems
    if candidate.image_width <= 0 or candidate.image_height <= 0:
        problems.append("the image size must be positive")
    if detected and (candidate.image_width, candidate.image_height) != (
        detected.image_width,
        detected.image_height,
    ):
        problems.append("the image size differs from the photo the holds were detected on")

    known = {hold.id for hold in detected.holds} if detected else None
    seen: set[str] = set()
    for hold in candidate.holds:
        label = f"hold {hold.id!r}" if hold.id else "a hold without an id"
        if not hold.id:
            problems.append("every hold needs an id")
        elif hold.id in seen:
            problems.append(f"{label} appears twice")
        elif (
            known is not None and hold.id not in known and not hold.id.startswith(USER_HOLD_PREFIX)
        ):
            problems.append(
                f"{label} is unknown: keep the detected ids and name new holds "
                f"'{USER_HOLD_PREFIX}…'"
            )
        seen.add(hold.id)
        if not (0.0 <= hold.x <= 1.0 and 0.0 <= hold.y <= 1.0):
            problems.append(f"{label} lies outside the image ({hold.x:.3f}, {hold.y:.3f})")
        if any(not (0.0 <= px <= 1.0 and 0.0 <= py <= 1.0) for px, py in hold.polygon):
            problems.append(f"{label} has an outline outside the image")
        if hold.type not in HOLD_TYPES:
            problems.append(
                f"{label} has unknown type {hold.type!r}; "
                f"use one of {', '.join(sorted(HOLD_TYPES))}"
            )
        if not 0.0 <= hold.confidence <= 1.0:
            problems.append(f"{label} has a confidence outside 0..1")
    return problems


def _bound_problems(candidate: HoldMap) -> list[str]:
    """Counts and lengths only, in one pass: cheap enough for the workflow's Update validator."""
    problems: list[str] = []
    if len(candidate.holds) > MAX_HOLDS:
        problems.append(f"the hold map has {len(candidate.holds)} holds; at most {MAX_HOLDS}")
    total = 0
    long_outline = long_text = 0
    for hold in candidate.holds:
        total += len(hold.polygon)
        if len(hold.polygon) > MAX_OUTLINE_POINTS:
            long_outline += 1
            if long_outline == 1:
                problems.append(
                    f"hold {_quote(hold.id)} has an outline of {len(hold.polygon)} points; "
                    f"at most {MAX_OUTLINE_POINTS} per hold"
                )
        for what, text in (
            ("id", hold.id),
            ("type", hold.type),
            ("colour", hold.color),
            ("route", hold.route),
        ):
            if len(text) > MAX_HOLD_TEXT:
                long_text += 1
                if long_text <= 3:
                    problems.append(
                        f"a hold's {what} is {len(text)} characters long; at most {MAX_HOLD_TEXT}"
                    )
    if long_outline > 1:
        problems.append(
            f"{long_outline} holds in all have outlines over {MAX_OUTLINE_POINTS} points"
        )
    if total > MAX_TOTAL_POINTS:
        problems.append(
            f"the outlines have {total} points in all; at most {MAX_TOTAL_POINTS} "
            "(simplify the outlines)"
        )
    return problems


def _quote(text: str) -> str:
    return repr(text if len(text) <= MAX_HOLD_TEXT else text[:MAX_HOLD_TEXT] + "…")


def hold_map_json_bytes(candidate: HoldMap) -> int:
    """Size of the map as compact JSON: about what the workflow's payload carries."""
    return len(json.dumps(dataclasses.asdict(candidate), separators=(",", ":"), ensure_ascii=False))


def hold_map_size_problems(candidate: HoldMap, *, max_bytes: int = MAX_HOLD_MAP_BYTES) -> list[str]:
    """Why ``candidate`` is too big to hand to the workflow: holds, outline points, text and
    bytes. The API checks this before the Update is sent; empty when the map is small enough."""
    problems = _bound_problems(candidate)
    if problems:
        return problems
    size = hold_map_json_bytes(candidate)
    if size > max_bytes:
        problems.append(
            f"the hold map is {size // 1024} KB as JSON; at most {max_bytes // 1024} KB"
        )
    return problems


def validate_hold_map(candidate: HoldMap, detected: HoldMap | None = None) -> HoldMap:
    """Return ``candidate`` unchanged, or raise `HoldMapError` naming every problem."""
    problems = hold_map_problems(candidate, detected)
    if problems:
        raise HoldMapError(problems)
    return candidate


def hold_map_from_dict(data: dict[str, Any]) -> HoldMap:
    """The inverse of `dataclasses.asdict` for a stored map (JSON turns tuples into lists)."""
    holds = []
    for raw in data.get("holds", []):
        fields = dict(raw)
        fields["polygon"] = [(float(x), float(y)) for x, y in fields.get("polygon") or []]
        bbox = fields.get("bbox")
        fields["bbox"] = tuple(float(v) for v in bbox) if bbox else None
        holds.append(Hold(**fields))
    return HoldMap(int(data["image_width"]), int(data["image_height"]), holds)
