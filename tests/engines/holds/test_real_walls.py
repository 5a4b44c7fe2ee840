"""The shipped hold detector on real wall photos it never saw, through the production path.

The photos are a dozen from the evaluation part of the fixed split (`tests/data/real_walls`,
CC BY 4.0, see its README): decoded from their bytes by `decode_photo`, detected by
`detect_holds` with the shipped weights, scored against the hand-drawn boxes.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from engines.errors import EngineInputError
from engines.holds import (
    BoxDetections,
    CloseUpPhotoError,
    InvalidPhotoError,
    NoHoldsFoundError,
    decode_photo,
    detect_holds,
    load_hold_model,
)
from engines.holds.boxes_eval import BoxScores
from engines.holds.learned.data import read_split
from engines.holds.outline import MAX_POINTS
from schema.holds import HoldMap, validate_hold_map

pytestmark = pytest.mark.unit

WALLS = Path(__file__).resolve().parents[2] / "data" / "real_walls"


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    return load_hold_model(device="cpu")


@pytest.fixture(scope="module")
def detected(model) -> dict[str, HoldMap | EngineInputError]:  # type: ignore[no-untyped-def]
    out: dict[str, HoldMap | EngineInputError] = {}
    for photo in read_split(WALLS.parent, WALLS.name):
        try:
            out[photo.path.stem] = detect_holds(
                decode_photo(photo.path.read_bytes()), model=model
            ).hold_map
        except EngineInputError as error:
            out[photo.path.stem] = error
    return out


def _scores(detected: dict[str, HoldMap | EngineInputError]) -> BoxScores:
    scores = BoxScores()
    for photo in read_split(WALLS.parent, WALLS.name):
        found = detected[photo.path.stem]
        holds = found.holds if isinstance(found, HoldMap) else []
        boxes = np.array([h.bbox for h in holds], np.float32).reshape(-1, 4)
        centres = np.array([(h.x, h.y) for h in holds], np.float32).reshape(-1, 2)
        volume = np.array([h.type == "volume" for h in holds], bool)
        scores.add(photo.boxes, photo.classes == 1, boxes, volume, centres)
    return scores


def test_finds_the_holds_on_real_walls(detected) -> None:  # type: ignore[no-untyped-def]
    figures = _scores(detected).figures()
    holds, volumes = figures["holds"], figures["volumes"]
    # Floors a little under what the shipped weights measure on these photos (README), so a
    # regression in the model, the decoding or the outline step fails here.
    assert holds["iou50_recall"] >= 0.70, holds
    assert holds["iou50_precision"] >= 0.70, holds
    assert holds["centre_f1"] >= 0.80, holds
    assert volumes["iou50_f1"] >= 0.35, volumes


def test_maps_are_valid_and_compact(detected) -> None:  # type: ignore[no-untyped-def]
    maps = [m for m in detected.values() if isinstance(m, HoldMap)]
    assert len(maps) >= 10
    for hold_map in maps:
        validate_hold_map(hold_map)
        for hold in hold_map.holds:
            assert 3 <= len(hold.polygon) <= MAX_POINTS
            assert 0.0 < hold.confidence <= 1.0
            x0, y0, x1, y1 = hold.bbox or (0, 0, 0, 0)
            assert x0 <= hold.x <= x1 and y0 <= hold.y <= y1
        size = len(json.dumps(asdict(hold_map), separators=(",", ":")))
        # 60 KB for a 200-hold wall: at most 300 bytes a hold.
        assert size <= 300 * len(hold_map.holds) + 100, (size, len(hold_map.holds))


def test_hold_types_are_honest_estimates(detected) -> None:  # type: ignore[no-untyped-def]
    # The data has no hold types: a hold's type is a shape reading, never presented as certain.
    for hold_map in (m for m in detected.values() if isinstance(m, HoldMap)):
        for hold in hold_map.holds:
            if hold.type != "volume":
                assert hold.confidence < 0.9


def test_a_text_file_is_not_a_photo() -> None:
    with pytest.raises(InvalidPhotoError, match="couldn't read this file as a photo"):
        decode_photo(b"route notes: start on the jug, match, then the crimp\n" * 40)


class _Boxes:
    """A stand-in for the model that reports fixed boxes, to drive the close-up rule."""

    def __init__(self, boxes: list[tuple[float, float, float, float]]) -> None:
        self.found = BoxDetections(
            np.array(boxes, np.float32).reshape(-1, 4),
            np.full(len(boxes), 0.9, np.float32),
            np.zeros(len(boxes), bool),
        )

    def detect(self, image_bgr: np.ndarray) -> BoxDetections:
        return self.found


def test_a_photo_filled_by_one_or_two_holds_is_a_close_up() -> None:
    photo = sorted((WALLS / "images").iterdir())[2]
    image = decode_photo(photo.read_bytes())
    with pytest.raises(CloseUpPhotoError, match="whole wall section"):
        detect_holds(image, model=_Boxes([(0.1, 0.1, 0.8, 0.7)]))  # type: ignore[arg-type]
    # The same large hold among ordinary ones is just a big hold on a wall.
    wall = _Boxes([(0.1, 0.1, 0.8, 0.7), (0.85, 0.8, 0.9, 0.85), (0.05, 0.85, 0.09, 0.9)])
    assert len(detect_holds(image, model=wall).hold_map.holds) == 3  # type: ignore[arg-type]


CLOSE_UPS = Path(__file__).resolve().parents[2] / "data" / "real_closeups" / "images"
OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")


@pytest.mark.parametrize("photo", sorted(CLOSE_UPS.iterdir()), ids=lambda p: p.name[:8])
def test_a_real_volume_close_up_is_refused_as_a_close_up(model, photo: Path) -> None:  # type: ignore[no-untyped-def]
    """A volume filling the photo is larger than anything the net learned: the normal sizes
    find nothing, and the climber must hear "step back", not "no holds here"."""
    image = decode_photo(photo.read_bytes())
    assert len(model.detect(image).scores) == 0
    with pytest.raises(CloseUpPhotoError, match="whole wall section"):
        detect_holds(image, model=model)


@pytest.mark.skipif(not OPENCV_DATA.is_dir(), reason="opencv-doc examples are not installed")
@pytest.mark.parametrize("name", ["aero1.jpg", "orange.jpg", "starry_night.jpg"])
def test_a_photo_with_nothing_to_climb_is_not_called_a_close_up(model, name: str) -> None:  # type: ignore[no-untyped-def]
    image = decode_photo((OPENCV_DATA / name).read_bytes())
    with pytest.raises(NoHoldsFoundError, match="couldn't find any climbing holds"):
        detect_holds(image, model=model)
