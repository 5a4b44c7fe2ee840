from __future__ import annotations

import cv2
import numpy as np
import pytest

from engines.holds.classify import (
    CLASSICAL_TYPES,
    ShapeFeatures,
    shape_features,
    type_probabilities,
)
from schema.holds import HOLD_TYPES

pytestmark = pytest.mark.unit


def _features(**overrides: float) -> ShapeFeatures:
    base = dict(
        diameter_px=30.0,
        relative_size=1.0,
        elongation=1.2,
        tilt_deg=10.0,
        solidity=0.98,
        corners=7,
        cavity=0.0,
        cavity_offset=0.0,
        cavity_aspect=0.0,
        cavity_span=0.0,
    )
    base.update(overrides)
    return ShapeFeatures(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"elongation": 4.0, "tilt_deg": 8.0, "relative_size": 0.8}, "crimp"),
        ({"elongation": 2.8, "tilt_deg": 80.0}, "pinch"),
        ({"relative_size": 0.4}, "foot_chip"),
        ({"relative_size": 3.5, "corners": 4, "solidity": 0.97}, "volume"),
        ({"relative_size": 1.8}, "sloper"),
        ({"cavity": 0.08, "cavity_offset": -0.3, "cavity_aspect": 2.5, "cavity_span": 0.45}, "jug"),
        (
            {"cavity": 0.1, "cavity_offset": 0.4, "cavity_aspect": 2.5, "cavity_span": 0.5},
            "undercling",
        ),
        (
            {"cavity": 0.05, "cavity_offset": 0.05, "cavity_aspect": 1.0, "cavity_span": 0.2},
            "pocket",
        ),
    ],
)
def test_each_type_has_its_telling_shape(overrides: dict[str, float], expected: str) -> None:
    probabilities = type_probabilities(_features(**overrides))

    assert max(probabilities, key=probabilities.__getitem__) == expected
    assert sum(probabilities.values()) == pytest.approx(1.0)
    assert set(probabilities) == set(CLASSICAL_TYPES) <= HOLD_TYPES


def test_features_of_a_drawn_crimp() -> None:
    mask = np.zeros((60, 120), np.uint8)
    cv2.ellipse(mask, (60, 30), (45, 8), 5, 0, 360, (1,), -1)
    brightness = np.full(mask.shape, 0.6, np.float32)

    f = shape_features(mask > 0, brightness, typical=45.0)

    assert f.elongation == pytest.approx(45 / 8, rel=0.15)
    assert f.tilt_deg < 10
    assert f.cavity == 0.0
    assert max(type_probabilities(f).items(), key=lambda kv: kv[1])[0] == "crimp"


def test_features_of_a_drawn_jug_with_its_opening() -> None:
    mask = np.zeros((80, 100), np.uint8)
    cv2.ellipse(mask, (50, 40), (40, 28), 0, 0, 360, (1,), -1)
    brightness = np.full(mask.shape, 0.7, np.float32)
    cv2.ellipse(brightness, (50, 28), (22, 7), 0, 0, 360, (0.15,), -1)

    f = shape_features(mask > 0, brightness, typical=50.0)

    assert f.cavity > 0.05
    assert f.cavity_offset < -0.1
    assert f.cavity_aspect > 2.0
    assert f.cavity_span > 0.4
    assert max(type_probabilities(f).items(), key=lambda kv: kv[1])[0] == "jug"


def test_features_of_a_drawn_pocket() -> None:
    mask = np.zeros((80, 90), np.uint8)
    cv2.ellipse(mask, (45, 40), (34, 30), 0, 0, 360, (1,), -1)
    brightness = np.full(mask.shape, 0.7, np.float32)
    cv2.circle(brightness, (45, 38), 7, (0.12,), -1)

    f = shape_features(mask > 0, brightness, typical=60.0)

    assert 0.02 < f.cavity < 0.08
    assert f.cavity_span < 0.27
    assert max(type_probabilities(f).items(), key=lambda kv: kv[1])[0] == "pocket"


def test_features_refuse_nonsense() -> None:
    with pytest.raises(ValueError):
        _features(elongation=0.5)
