"""Hold detection: wall photo -> `schema.holds.HoldMap`.

`decode_photo` reads an upload; `detect_holds` finds, outlines, classifies and groups the holds
with the learned detector from `load_hold_model` (trained on real walls, weights shipped with
the project) or, as the benchmark baseline, the classical OpenCV segmenter it replaced.
`engines.holds.synth` renders synthetic walls with ground truth for unit tests, and
`engines.holds.boxes_eval` scores a detector against boxes drawn on real photos.
"""

from engines.holds.detect import HoldDetection, detect_holds
from engines.holds.errors import (
    CloseUpPhotoError,
    HoldModelError,
    InvalidPhotoError,
    NoHoldsFoundError,
    PhotoSizeError,
    TooManyHoldsError,
)
from engines.holds.model import SHIPPED_WEIGHTS, BoxDetections, HoldModel, load_hold_model
from engines.holds.photo import decode_photo

__all__ = [
    "SHIPPED_WEIGHTS",
    "BoxDetections",
    "CloseUpPhotoError",
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
