"""The TorchScript slot, proven end to end with tiny hand-written modules built here.

They are not trained: they mark saturated pixels as holds, which is enough to drive the loading,
inference and post-processing path. No trained weights exist in this project.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engines.holds import HoldModelError, detect_holds, load_hold_model
from engines.holds.model import METADATA_FILE
from schema.holds import validate_hold_map
from tests.engines.holds.walls import FLOOR_SEEDS, wall

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.unit


class _Saturation(torch.nn.Module):
    """Hold logit from colour saturation; constant type logits favouring the first type."""

    def __init__(self, types: int) -> None:
        super().__init__()
        self.types = types

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([_mask(x), _type_logits(x, self.types)], dim=1)


class _SaturationPair(torch.nn.Module):
    """The same, returned as a (mask, types) pair."""

    def __init__(self, types: int) -> None:
        super().__init__()
        self.types = types

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return _mask(x), _type_logits(x, self.types)


def _mask(x: torch.Tensor) -> torch.Tensor:
    saturation = x.max(dim=1, keepdim=True).values - x.min(dim=1, keepdim=True).values
    return 40.0 * (saturation - 0.3)


def _type_logits(x: torch.Tensor, types: int) -> torch.Tensor:
    logits = torch.zeros(x.shape[0], types, x.shape[2], x.shape[3])
    logits[:, 0] = 2.0
    return logits


class _WrongShape(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :1]


def _save(module: torch.nn.Module, path: Path, meta: dict | None) -> Path:
    extra = {METADATA_FILE: json.dumps(meta)} if meta is not None else {}
    torch.jit.save(torch.jit.script(module), str(path), _extra_files=extra)
    return path


@pytest.mark.parametrize("pair", [False, True])
def test_model_drives_detection(tmp_path: Path, pair: bool) -> None:
    module = _SaturationPair(3) if pair else _Saturation(3)
    path = _save(module, tmp_path / "holds.pt", {"types": ["jug", "crimp", "sloper"]})
    model = load_hold_model(path, device="cpu")
    synthetic = wall(FLOOR_SEEDS[0])

    detection = detect_holds(synthetic.image, model=model)

    assert model.types == ("jug", "crimp", "sloper") and model.long_side == 1024
    assert detection.backend == "model"
    assert detection.type_names == ("jug", "crimp", "sloper")
    validate_hold_map(detection.hold_map)
    holds = detection.hold_map.holds
    assert len(holds) >= 10
    assert {h.type for h in holds} == {"jug"}
    expected = np.exp(2.0) / (np.exp(2.0) + 2.0)
    assert all(h.confidence == pytest.approx(expected, abs=1e-3) for h in holds)
    # The saturated holds it marks are real holds of the wall.
    on_holds = [synthetic.labels[int(h.y * 768), int(h.x * 1024)] > 0 for h in holds]
    assert np.mean(on_holds) >= 0.8


def test_missing_weights(tmp_path: Path) -> None:
    with pytest.raises(HoldModelError, match="not found"):
        load_hold_model(tmp_path / "nothing.pt", device="cpu")


def test_not_torchscript(tmp_path: Path) -> None:
    path = tmp_path / "fake.pt"
    path.write_bytes(b"these are not weights")
    with pytest.raises(HoldModelError, match="TorchScript"):
        load_hold_model(path, device="cpu")


@pytest.mark.parametrize(
    "meta", [None, {"classes": ["jug"]}, {"types": []}, {"types": ["jug", "banana"]}]
)
def test_bad_metadata(tmp_path: Path, meta: dict | None) -> None:
    path = _save(_Saturation(1), tmp_path / "holds.pt", meta)
    with pytest.raises(HoldModelError):
        load_hold_model(path, device="cpu")


def test_wrong_output_shape(tmp_path: Path) -> None:
    path = _save(_WrongShape(), tmp_path / "holds.pt", {"types": ["jug", "crimp"]})
    model = load_hold_model(path, device="cpu")
    with pytest.raises(HoldModelError, match="shape"):
        detect_holds(wall(FLOOR_SEEDS[0]).image, model=model)
