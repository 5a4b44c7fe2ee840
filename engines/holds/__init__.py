"""Hold detection: wall photo -> `schema.holds.HoldMap`.

`decode_photo` reads an upload, `detect_holds` finds, outlines, classifies and groups the holds
(classical OpenCV segmentation, or a TorchScript model from `load_hold_model` when weights are
configured). `engines.holds.synth` renders synthetic walls with ground truth and
`engines.holds.evaluate` scores a detector on them.
"""

from engines.holds.detect import HoldDetection, detect_holds
from engines.holds.errors import (
    HoldModelError,
    InvalidPhotoError,
    NoHoldsFoundError,
    PhotoSizeError,
    TooManyHoldsError,
)
from engines.holds.model import HoldModel, load_hold_model
from engines.holds.photo import decode_photo

__all__ = [
    "HoldDetection",
    "HoldModel",
    "HoldModelError",
    "InvalidPhotoError",
    "NoHoldsFoundError",
    "PhotoSizeError",
    "TooManyHoldsError",
    "decode_photo",
    "detect_holds",
    "load_hold_model",
]
