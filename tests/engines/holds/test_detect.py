from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from engines.errors import EngineInputError
from engines.holds import (
    InvalidPhotoError,
    NoHoldsFoundError,
    PhotoSizeError,
    decode_photo,
    detect_holds,
)
from engines.holds.evaluate import evaluate
from engines.holds.synth import generate_wall
from schema.holds import HOLD_TYPES, validate_hold_map
from tests.engines.holds.walls import FLOOR_SEEDS, wall

pytestmark = pytest.mark.unit

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")


def test_synthetic_walls_meet_the_detection_floor() -> None:
    scores = evaluate(lambda image: detect_holds(image).hold_map, [wall(s) for s in FLOOR_SEEDS])

    assert scores.f1 >= 0.85, scores
    assert scores.precision >= 0.85 and scores.recall >= 0.85
    assert scores.mean_iou >= 0.8
    assert scores.type_accuracy >= 0.7
    assert scores.color_accuracy >= 0.85
    assert scores.route_f1 >= 0.85


def test_hold_map_is_valid_and_ordered_top_to_bottom() -> None:
    synthetic = wall(FLOOR_SEEDS[0])
    detection = detect_holds(synthetic.image)
    holds = detection.hold_map.holds

    validate_hold_map(detection.hold_map)
    assert detection.backend == "classical"
    assert (detection.hold_map.image_width, detection.hold_map.image_height) == (1024, 768)
    assert [h.id for h in holds] == [f"h{i}" for i in range(1, len(holds) + 1)]
    assert [h.y for h in holds] == sorted(h.y for h in holds)
    assert int(detection.labels.max()) == len(holds)
    assert np.allclose(detection.type_probabilities.sum(axis=1), 1.0, atol=1e-4)
    for k, hold in enumerate(holds, start=1):
        assert hold.type in HOLD_TYPES
        # The map rounds confidences to 3 places.
        assert hold.confidence == pytest.approx(detection.type_probabilities[k - 1].max(), abs=5e-4)
        x0, y0, x1, y1 = hold.bbox
        assert x0 <= hold.x <= x1 and y0 <= hold.y <= y1
        polygon = np.array(hold.polygon)
        assert len(polygon) >= 3
        # Outline vertices are rounded to 1e-3 in the map.
        assert (polygon.min(axis=0) >= (x0 - 5e-4 - 1e-6, y0 - 5e-4 - 1e-6)).all()
        assert (polygon.max(axis=0) <= (x1 + 5e-4 + 1e-6, y1 + 5e-4 + 1e-6)).all()
        # The label map and the hold agree on where the hold is.
        ys, xs = np.nonzero(detection.labels == k)
        assert abs(xs.mean() / 1024 - hold.x) < 1e-3 and abs(ys.mean() / 768 - hold.y) < 1e-3


def test_types_follow_the_holds_shapes() -> None:
    synthetic = wall(FLOOR_SEEDS[1])
    detection = detect_holds(synthetic.image)
    found = {
        int(synthetic.labels[int(h.y * 768), int(h.x * 1024)]): h for h in detection.hold_map.holds
    }
    pairs = [(synthetic.holds[k - 1].type, h.type) for k, h in found.items() if k]
    by_truth: dict[str, list[bool]] = {}
    for truth, guess in pairs:
        by_truth.setdefault(truth, []).append(truth == guess)
    # The shapes that define a type on their own are read right most of the time.
    for kind in ("crimp", "foot_chip", "pinch"):
        if kind in by_truth:
            assert np.mean(by_truth[kind]) >= 0.75, (kind, by_truth[kind])


def test_routes_group_holds_of_one_colour() -> None:
    synthetic = wall(FLOOR_SEEDS[2])
    holds = detect_holds(synthetic.image).hold_map.holds
    routes: dict[str, set[str]] = {}
    for hold in holds:
        truth = synthetic.labels[int(hold.y * 768), int(hold.x * 1024)]
        if truth and synthetic.holds[truth - 1].route:
            routes.setdefault(synthetic.holds[truth - 1].route, set()).add(hold.route)
    assert len(routes) >= 3
    # Each true route lands (almost) whole in one detected route, named after its colour.
    for colour, found in routes.items():
        assert colour in found
    assert all(h.route == "" for h in holds if h.type == "volume")


def test_detection_is_deterministic() -> None:
    image = wall(FLOOR_SEEDS[3]).image
    first, second = detect_holds(image), detect_holds(image.copy())

    assert first.hold_map == second.hold_map
    assert np.array_equal(first.labels, second.labels)


def test_large_photo_is_scaled_to_the_working_size() -> None:
    synthetic = wall(FLOOR_SEEDS[0])
    big = cv2.resize(synthetic.image, (2048, 1536), interpolation=cv2.INTER_CUBIC)

    small_map = detect_holds(synthetic.image).hold_map
    big_map = detect_holds(big).hold_map

    assert (big_map.image_width, big_map.image_height) == (2048, 1536)
    assert abs(len(big_map.holds) - len(small_map.holds)) <= 0.1 * len(small_map.holds)
    # Normalised coordinates do not depend on the upload's resolution.
    centres = np.array([(h.x, h.y) for h in small_map.holds])
    for hold in big_map.holds:
        assert np.hypot(*(centres - (hold.x, hold.y)).T).min() < 0.01


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bare_wall_has_no_holds(seed: int) -> None:
    # T-nuts (hundreds on these), seams, chalk, rubber marks and uneven light, but nothing to
    # climb on.
    with pytest.raises(NoHoldsFoundError, match="couldn't find any climbing holds"):
        detect_holds(generate_wall(seed, bare=True).image)


def test_blank_photo_has_no_holds() -> None:
    rng = np.random.default_rng(0)
    noise = rng.normal(128, 3, (600, 800, 3))
    with pytest.raises(NoHoldsFoundError):
        detect_holds(np.clip(noise, 0, 255).astype(np.uint8))


@pytest.mark.parametrize(
    ("image", "error"),
    [
        (np.zeros((600, 800, 3), np.float32), InvalidPhotoError),
        (np.zeros((600, 800), np.uint8), InvalidPhotoError),
        (np.zeros((600, 800, 4), np.uint8), InvalidPhotoError),
        (np.zeros((100, 800, 3), np.uint8), PhotoSizeError),
    ],
)
def test_unusable_arrays_are_refused(image: np.ndarray, error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        detect_holds(image)
    assert isinstance(caught.value, EngineInputError)


@pytest.mark.skipif(not OPENCV_DATA.is_dir(), reason="opencv-doc examples are not installed")
@pytest.mark.parametrize("name", ["messi5.jpg", "basketball1.png"])
def test_real_photo_runs(name: str) -> None:
    # No ground truth: a real photo must give a valid map or a climber-readable refusal.
    image = decode_photo((OPENCV_DATA / name).read_bytes())
    try:
        detection = detect_holds(image)
    except EngineInputError as error:
        assert str(error)
        return
    validate_hold_map(detection.hold_map)
    assert detection.hold_map.image_width == image.shape[1]
