"""The slot for a learned hold segmenter (TorchScript), used instead of the classical one.

No trained weights exist in this project and none are shipped: `load_hold_model` loads weights
an operator configures. The contract a weights file must meet:

* a TorchScript archive (``torch.jit.save``) holding a module whose ``forward`` takes a float32
  tensor ``(1, 3, H, W)``: RGB in 0..1, ``H`` and ``W`` multiples of 32 (the photo is scaled so
  its long side is ``long_side``, then zero-padded at the bottom and right);
* ``forward`` returns either one tensor ``(1, 1 + K, H, W)`` or a pair ``(mask, types)`` of
  tensors ``(1, 1, H, W)`` and ``(1, K, H, W)``: channel 0 / ``mask`` is the per-pixel logit
  that the pixel belongs to a hold, the ``K`` others are per-pixel logits of the hold types;
* the archive carries an extra file ``ascension_holds.json`` (``torch.jit.save(...,
  _extra_files={"ascension_holds.json": ...})``) with ``{"types": [...K names from
  schema.holds.HOLD_TYPES in channel order...], "long_side": 1024}``.

Pixels with hold probability above 0.5 are grouped into holds by connectivity; a hold's type is
the type with the highest mean probability over its pixels, which is also its confidence.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from engines.holds.errors import HoldModelError
from schema.holds import HOLD_TYPES

logger = logging.getLogger(__name__)

#: Name of the metadata file inside the TorchScript archive.
METADATA_FILE = "ascension_holds.json"
_STRIDE = 32


@dataclass
class ModelOutput:
    """Per-pixel predictions for one photo, at the photo's resolution given to `predict`.

    Attributes:
        hold: (H, W) float32 probability that each pixel belongs to a hold.
        types: (H, W, K) float32 probability of each type, in `HoldModel.types` order.
    """

    hold: np.ndarray
    types: np.ndarray

    def __post_init__(self) -> None:
        if self.hold.ndim != 2 or self.types.ndim != 3 or self.types.shape[:2] != self.hold.shape:
            raise ValueError("hold must be (H, W) and types (H, W, K)")


@dataclass
class HoldModel:
    """A loaded TorchScript hold segmenter; see the module docstring for its contract."""

    module: Any
    types: tuple[str, ...]
    long_side: int
    device: str

    def __post_init__(self) -> None:
        if not self.types or not set(self.types) <= HOLD_TYPES:
            raise HoldModelError(f"model types must be among {sorted(HOLD_TYPES)}")
        if self.long_side < _STRIDE:
            raise HoldModelError("model long_side is too small")

    def predict(self, image_bgr: np.ndarray) -> ModelOutput:
        """Run the model on a (H, W, 3) uint8 BGR photo."""
        import torch

        h, w = image_bgr.shape[:2]
        scale = self.long_side / max(h, w)
        sh, sw = max(round(h * scale), 1), max(round(w * scale), 1)
        resized = cv2.resize(image_bgr, (sw, sh), interpolation=cv2.INTER_AREA)
        ph, pw = -(-sh // _STRIDE) * _STRIDE, -(-sw // _STRIDE) * _STRIDE
        batch = np.zeros((1, 3, ph, pw), np.float32)
        batch[0, :, :sh, :sw] = resized[..., ::-1].transpose(2, 0, 1) / 255.0
        with torch.inference_mode():
            raw = self.module(torch.from_numpy(batch).to(self.device))
        if isinstance(raw, tuple | list):
            if len(raw) != 2:
                raise HoldModelError("model must return one tensor or a (mask, types) pair")
            raw = torch.cat([raw[0], raw[1]], dim=1)
        k = len(self.types)
        if raw.ndim != 4 or raw.shape[0] != 1 or raw.shape[1] != 1 + k or raw.shape[2:] != (ph, pw):
            raise HoldModelError(
                f"model returned shape {tuple(raw.shape)}, expected (1, {1 + k}, {ph}, {pw})"
            )
        hold = torch.sigmoid(raw[0, 0, :sh, :sw]).float().cpu().numpy()
        types = torch.softmax(raw[0, 1:, :sh, :sw], dim=0).float().cpu().numpy()
        hold = cv2.resize(hold, (w, h), interpolation=cv2.INTER_LINEAR)
        types = np.stack(
            [cv2.resize(t, (w, h), interpolation=cv2.INTER_LINEAR) for t in types], axis=-1
        )
        return ModelOutput(hold.astype(np.float32), types.astype(np.float32))


def load_hold_model(weights_path: Path, *, device: str) -> HoldModel:
    """Load TorchScript hold-segmentation weights that meet the module's contract.

    Args:
        weights_path: the ``.pt`` TorchScript archive.
        device: torch device to run on, e.g. ``"cpu"`` or ``"cuda"``.

    Returns:
        The model, ready for `engines.holds.detect_holds`.

    Raises:
        HoldModelError: the file is missing, not TorchScript, or lacks valid metadata.
    """
    import torch

    path = Path(weights_path)
    if not path.is_file():
        raise HoldModelError(f"hold model weights not found at {path}")
    extra = {METADATA_FILE: ""}
    try:
        module = torch.jit.load(str(path), map_location=device, _extra_files=extra)
    except (RuntimeError, ValueError) as error:
        raise HoldModelError(f"{path} is not a TorchScript archive: {error}") from error
    try:
        meta = json.loads(extra[METADATA_FILE] or "null")
        types = tuple(str(t) for t in meta["types"])
        long_side = int(meta.get("long_side", 1024))
    except (TypeError, KeyError, ValueError) as error:
        raise HoldModelError(f"{path} lacks a valid {METADATA_FILE}: {error}") from error
    module.eval()
    logger.info("loaded hold model %s (%d types) on %s", path, len(types), device)
    return HoldModel(module, types, long_side, device)
