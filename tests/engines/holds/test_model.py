"""Loading hold-detector weights: the shipped file meets its contract, broken files are refused
with a message an operator can act on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engines.holds import SHIPPED_WEIGHTS, HoldModelError, load_hold_model
from engines.holds.learned.net import HoldNet
from engines.holds.model import METADATA_FILE

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.unit

_META = {
    "format": "centernet-v1",
    "classes": ["hold", "volume"],
    "long_side": 768,
    "thresholds": {"hold": 0.3, "volume": 0.3},
}


def _save(path: Path, meta: object) -> Path:
    scripted = torch.jit.script(HoldNet().eval())
    torch.jit.save(scripted, str(path), _extra_files={METADATA_FILE: json.dumps(meta)})
    return path


def test_shipped_weights_load_and_are_small() -> None:
    model = load_hold_model(SHIPPED_WEIGHTS, device="cpu")
    assert set(model.thresholds) == {"hold", "volume"}
    assert all(0.0 < t < 1.0 for t in model.thresholds.values())
    assert model.long_sides and all(side % 32 == 0 for side in model.long_sides)
    # "A few MB": the phone never downloads it, but the image and the repository carry it.
    assert SHIPPED_WEIGHTS.stat().st_size < 10_000_000


def test_missing_file_is_an_operator_error(tmp_path: Path) -> None:
    with pytest.raises(HoldModelError, match="not found"):
        load_hold_model(tmp_path / "nothing.pt", device="cpu")


def test_not_torchscript_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "holds.pt"
    path.write_bytes(b"not a model")
    with pytest.raises(HoldModelError, match="not a TorchScript archive"):
        load_hold_model(path, device="cpu")


@pytest.mark.parametrize(
    "meta",
    [
        None,
        {**_META, "format": "mask-v0"},
        {**_META, "classes": ["hold"]},
        {k: v for k, v in _META.items() if k != "thresholds"},
        {**_META, "thresholds": {"hold": 0.3}},
        {**_META, "long_side": 700},
        {**_META, "long_sides": [768, 700]},
    ],
)
def test_bad_metadata_is_refused(tmp_path: Path, meta: object) -> None:
    path = _save(tmp_path / "holds.pt", meta)
    with pytest.raises(HoldModelError):
        load_hold_model(path, device="cpu")


def test_valid_archive_loads(tmp_path: Path) -> None:
    model = load_hold_model(_save(tmp_path / "holds.pt", _META), device="cpu")
    assert model.thresholds == {"hold": 0.3, "volume": 0.3}


def test_several_sizes_are_fused_into_one_set(tmp_path: Path) -> None:
    """Older files name one size; newer ones may list several, each run and fused."""
    single = load_hold_model(_save(tmp_path / "one.pt", _META), device="cpu")
    assert single.long_sides == (768,)
    several = load_hold_model(
        _save(tmp_path / "two.pt", {**_META, "long_sides": [256, 320]}), device="cpu"
    )
    assert several.long_sides == (256, 320)
    photo = np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    found = several.detect(photo)
    assert found.boxes.shape[1:] == (4,) and len(found.boxes) == len(found.scores)
    assert np.all(found.scores >= min(several.thresholds.values()))
