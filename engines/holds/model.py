"""The learned hold detector: loading its TorchScript weights and running it on a photo.

The project ships weights trained here on real wall photos (`SHIPPED_WEIGHTS`, model card in
``engines/holds/weights/MODEL_CARD.md``; ``ascension train holds`` reproduces them). A weights
file must meet this contract:

* a TorchScript archive (``torch.jit.save``) whose ``forward`` takes a float32 tensor
  ``(1, 3, H, W)``, RGB in 0..1, ``H`` and ``W`` multiples of 32 (the photo is scaled so its long
  side is each of ``long_sides`` and padded with grey at the bottom and right), and returns
  ``(heat, size, offset)`` at stride 4: centre logits per class ``(1, C, H/4, W/4)``, log box
  width and height in cells ``(1, 2, H/4, W/4)`` and the sub-cell centre ``(1, 2, H/4, W/4)``
  (see `engines.holds.learned.net`);
* an extra file ``ascension_holds.json`` with ``{"format": "centernet-v1", "classes":
  ["hold", "volume"], "long_side": 768, "long_sides": [640, 768, 896, 1024], "flip": true,
  "thresholds": {"hold": t, "volume": t}}``: the inference sizes (``long_sides``, fused by
  `engines.holds.learned.targets.fuse_scales`; older files name only ``long_side``), whether a
  mirrored pass is averaged in, and the score each class needs to count as found, all chosen on
  calibration photos when the model was trained.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engines.holds.errors import HoldModelError

logger = logging.getLogger(__name__)

#: Name of the metadata file inside the TorchScript archive.
METADATA_FILE = "ascension_holds.json"
#: The weights this project ships (trained by ``ascension train holds``).
SHIPPED_WEIGHTS = Path(__file__).parent / "weights" / "hold_detector_v1.pt"
_FORMAT = "centernet-v1"
_CLASSES = ("hold", "volume")


#: The long sides of `HoldModel.detect_close_up`'s passes.
CLOSE_UP_SIDES = (224, 256, 288)


@dataclass
class BoxDetections:
    """What the model found on one photo: boxes normalised to the photo (x0, y0, x1, y1).

    Attributes:
        boxes: (N, 4) float32.
        scores: (N,) float32 peak probability, 0..1.
        volume: (N,) bool: the object is a volume rather than a hold.
    """

    boxes: np.ndarray
    scores: np.ndarray
    volume: np.ndarray


@dataclass
class HoldModel:
    """A loaded hold detector; see the module docstring for its contract."""

    module: Any
    #: Inference sizes (the photo's long side), fused when there are several.
    long_sides: tuple[int, ...]
    thresholds: dict[str, float]
    device: str
    #: Average in a mirrored pass (chosen at calibration; twice the work).
    flip: bool = False

    def __post_init__(self) -> None:
        if not self.long_sides or any(side < 64 or side % 32 for side in self.long_sides):
            raise HoldModelError("model long sides must be multiples of 32, at least 64")
        if set(self.thresholds) != set(_CLASSES):
            raise HoldModelError(f"model thresholds must name {list(_CLASSES)}")

    def detect(self, image_bgr: np.ndarray) -> BoxDetections:
        """Holds and volumes on a (H, W, 3) uint8 BGR photo, above the calibrated thresholds."""
        from engines.holds.learned.infer import detect_boxes_at_sizes

        found = detect_boxes_at_sizes(
            self.module,
            image_bgr,
            long_sides=self.long_sides,
            threshold=min(self.thresholds.values()),
            device=self.device,
            flip=self.flip,
        )
        cut = np.array([self.thresholds[_CLASSES[c]] for c in found.classes], np.float32)
        keep = found.scores >= cut
        return BoxDetections(
            found.boxes[keep], found.scores[keep], found.classes[keep] == _CLASSES.index("volume")
        )

    def detect_close_up(self, image_bgr: np.ndarray) -> BoxDetections:
        """Objects on the photo seen small (`CLOSE_UP_SIDES`, fused, mirrored), with any score.

        Why: a photo filled by one or two volumes shows them larger than anything the net
        learned (training scales top out near 1.4x of a 768 px wall), so the normal sizes find
        nothing at all. Seen at about 256 px the same volume is wall-sized again and found,
        though with a low score: the caller decides with its own cut (`detect`'s rule).
        """
        from engines.holds.learned.infer import detect_boxes_at_sizes

        found = detect_boxes_at_sizes(
            self.module,
            image_bgr,
            long_sides=CLOSE_UP_SIDES,
            threshold=0.05,
            device=self.device,
            flip=True,
        )
        return BoxDetections(found.boxes, found.scores, found.classes == _CLASSES.index("volume"))


def load_hold_model(weights_path: Path = SHIPPED_WEIGHTS, *, device: str = "cpu") -> HoldModel:
    """Load hold-detector weights that meet the module's contract.

    Args:
        weights_path: the ``.pt`` TorchScript archive; the shipped weights by default.
        device: torch device to run on, e.g. ``"cpu"`` or ``"cuda"``.

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
        if meta.get("format") != _FORMAT or tuple(meta["classes"]) != _CLASSES:
            raise ValueError(f"expected format {_FORMAT!r} with classes {list(_CLASSES)}")
        thresholds = {str(k): float(v) for k, v in meta["thresholds"].items()}
        long_sides = tuple(int(side) for side in meta.get("long_sides") or [meta["long_side"]])
        flip = bool(meta.get("flip", False))
    except (TypeError, KeyError, ValueError, AttributeError) as error:
        raise HoldModelError(f"{path} lacks a valid {METADATA_FILE}: {error}") from error
    module.eval()
    logger.info("loaded hold model %s on %s (thresholds %s)", path, device, thresholds)
    return HoldModel(module, long_sides, thresholds, device, flip)
