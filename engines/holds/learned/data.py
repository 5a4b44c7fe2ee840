"""Real wall photos with hold/volume boxes (YOLO export): reading, cleaning, a fixed split, and
the random crops the detector trains on.

The data set (Roboflow "Climbing Holds and Volumes" v14, CC BY 4.0) has a ``train`` split of 80
photos in 3 augmented copies each and a ``valid`` split of 277 plain photos. Its known faults are
handled here rather than trained on:

* the ``IMG_8992``-``IMG_8996`` series has labels that match no photo: left out everywhere;
* some photos appear twice under different names (and some ``valid`` photos are copies of a
  ``train`` source): duplicates are found by comparing small grey thumbnails in all four
  rotations, and every copy goes to the side of the split its group already sits on, so no photo
  is scored that the model saw under another name.

The split of ``valid`` is fixed by a hash of each photo's source name (not by file order or a
random draw), so it is the same on every machine: 40% trains, 10% calibrates (score thresholds,
per-epoch figures) and 50% evaluates (the reported figures; the model never sees them).

One module of ~310 lines on purpose: which photos train and which are scored, and what a
training crop of them looks like, are the data contract behind every reported figure.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

logger = logging.getLogger(__name__)

CLASSES: tuple[str, ...] = ("hold", "volume")
#: Source photos whose labels are known to be broken (data set README).
BROKEN_SOURCES = frozenset({"IMG_8992", "IMG_8993", "IMG_8994", "IMG_8995", "IMG_8996"})
#: Share of ``valid`` sources (by hash) used for training, then for calibration; the rest
#: evaluates.
TRAIN_SHARE, CALIBRATION_SHARE = 0.40, 0.10
#: Thumbnail correlation above which two photos are the same picture.
DUPLICATE_CORRELATION = 0.93
_THUMB = 24
_ROBOFLOW_SUFFIX = re.compile(r"_(jpe?g|png|JPE?G|PNG)\.rf\.[0-9a-f]+$")
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".JPG", ".JPEG", ".PNG")


@dataclass
class LabelledPhoto:
    """One photo and its boxes.

    Attributes:
        path: the image file.
        source: the photo's name before export (shared by the augmented copies of one photo).
        boxes: (N, 4) float32 boxes (x0, y0, x1, y1), normalised to the photo.
        classes: (N,) int64 class index into `CLASSES`.
    """

    path: Path
    source: str
    boxes: np.ndarray
    classes: np.ndarray

    def __post_init__(self) -> None:
        if self.boxes.shape != (len(self.classes), 4):
            raise ValueError("boxes must be (N, 4), one per class entry")


@dataclass
class DatasetSplit:
    """Photos by role; see the module docstring for how they are chosen."""

    train: list[LabelledPhoto]
    calibration: list[LabelledPhoto]
    evaluation: list[LabelledPhoto]
    excluded: dict[str, str] = field(default_factory=dict)


def source_name(path: Path) -> str:
    """``IMG_1234_jpg.rf.<hash>.jpg`` -> ``IMG_1234``."""
    return _ROBOFLOW_SUFFIX.sub("", path.stem)


def read_labels(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A YOLO label file -> (boxes (N, 4) x0 y0 x1 y1 normalised, classes (N,))."""
    rows = []
    if path.is_file():
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) != 5:
                continue
            cls, cx, cy, w, h = int(parts[0]), *map(float, parts[1:])
            if cls not in (0, 1) or w <= 0 or h <= 0:
                continue
            rows.append((cls, cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
    if not rows:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.int64)
    table = np.array(rows, np.float64)
    boxes = np.clip(table[:, 1:], 0.0, 1.0).astype(np.float32)
    return boxes, table[:, 0].astype(np.int64)


def read_split(root: Path, split: str) -> list[LabelledPhoto]:
    """Every photo of ``root/split/images`` with its labels, in name order."""
    images = root / split / "images"
    if not images.is_dir():
        raise FileNotFoundError(f"{images} does not exist: expected a YOLO export (README)")
    photos = []
    for path in sorted(images.iterdir()):
        if path.suffix not in _IMAGE_SUFFIXES:
            continue
        boxes, classes = read_labels(root / split / "labels" / f"{path.stem}.txt")
        photos.append(LabelledPhoto(path, source_name(path), boxes, classes))
    return photos


def _hash_share(name: str) -> float:
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) / 0x1_0000_0000


def _thumbnail(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ValueError(f"cannot read {path}")
    small = cv2.resize(image, (_THUMB, _THUMB), interpolation=cv2.INTER_AREA).astype(np.float32)
    small -= small.mean()
    return small / max(float(np.linalg.norm(small)), 1e-6)


def _same_picture(a: np.ndarray, b: np.ndarray) -> bool:
    return any(float((a * np.rot90(b, k)).sum()) > DUPLICATE_CORRELATION for k in range(4))


def _by_name(photo: LabelledPhoto) -> str:
    return photo.path.name


def split_dataset(root: Path) -> DatasetSplit:
    """Read both splits, drop broken photos, find duplicates, and split ``valid`` by hash."""
    excluded: dict[str, str] = {}
    train: list[LabelledPhoto] = []
    valid: list[LabelledPhoto] = []
    for name, kept in (("train", train), ("valid", valid)):
        for photo in read_split(root, name):
            if photo.source in BROKEN_SOURCES:
                excluded[photo.path.name] = "broken labels (data set README)"
            else:
                kept.append(photo)

    train_thumbs: dict[str, np.ndarray] = {}
    for photo in train:
        train_thumbs.setdefault(photo.source, _thumbnail(photo.path))
    valid_thumbs = [_thumbnail(photo.path) for photo in valid]

    # Group valid photos that are one picture; a group that copies a train photo trains.
    group = list(range(len(valid)))

    def root_of(i: int) -> int:
        while group[i] != i:
            group[i] = group[group[i]]
            i = group[i]
        return i

    for i in range(len(valid)):
        for j in range(i):
            if _same_picture(valid_thumbs[i], valid_thumbs[j]):
                group[root_of(i)] = root_of(j)
    copies_train = {
        root_of(i)
        for i, thumb in enumerate(valid_thumbs)
        if any(_same_picture(thumb, other) for other in train_thumbs.values())
    }
    members: dict[int, list[int]] = {}
    for i in range(len(valid)):
        members.setdefault(root_of(i), []).append(i)

    calibration: list[LabelledPhoto] = []
    evaluation: list[LabelledPhoto] = []
    for key, indices in members.items():
        name = min(valid[i].source for i in indices)
        share = _hash_share(name)
        if key in copies_train or share < TRAIN_SHARE:
            target = train
        elif share < TRAIN_SHARE + CALIBRATION_SHARE:
            target = calibration
        else:
            target = evaluation
        # Duplicates within a group are one picture: keep one copy, so no photo counts twice.
        target.append(valid[indices[0]])
        for i in indices[1:]:
            excluded[valid[i].path.name] = f"duplicate of {valid[indices[0]].path.name}"
    return DatasetSplit(
        train=sorted(train, key=_by_name),
        calibration=sorted(calibration, key=_by_name),
        evaluation=sorted(evaluation, key=_by_name),
        excluded=excluded,
    )


def load_image(path: Path, long_side: int) -> np.ndarray:
    """BGR uint8 photo scaled so its long side is at most ``long_side``."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot read {path}")
    h, w = image.shape[:2]
    scale = long_side / max(h, w)
    if scale < 1.0:
        image = cv2.resize(
            image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA
        )
    return image


@dataclass
class CropSettings:
    """How training crops are drawn.

    Attributes:
        size: side of the square crop, in pixels (a multiple of 32).
        long_side: the photo's long side at scale 1 (the inference size).
        scale_range: the photo is scaled by a log-uniform factor in this range first.
        object_bias: probability that a crop is centred near a random object.
    """

    size: int = 384
    long_side: int = 768
    scale_range: tuple[float, float] = (0.7, 1.4)
    object_bias: float = 0.7


@dataclass
class Crop:
    """One training sample: an image and its boxes in the crop's pixels."""

    image: np.ndarray  # (size, size, 3) uint8 BGR
    boxes: np.ndarray  # (N, 4) float32 pixels
    classes: np.ndarray  # (N,) int64


def random_crop(
    image: np.ndarray,
    boxes: np.ndarray,
    classes: np.ndarray,
    settings: CropSettings,
    rng: np.random.Generator,
) -> Crop:
    """Scale, crop, flip and recolour one photo; keep the boxes that stay mostly inside."""
    h, w = image.shape[:2]
    lo, hi = np.log(settings.scale_range[0]), np.log(settings.scale_range[1])
    scale = settings.long_side / max(h, w) * float(np.exp(rng.uniform(lo, hi)))
    size = settings.size
    pixel_boxes = boxes * np.array([w, h, w, h], np.float32) * scale
    sw, sh = w * scale, h * scale
    if len(boxes) and rng.random() < settings.object_bias:
        k = int(rng.integers(len(boxes)))
        cx = (pixel_boxes[k, 0] + pixel_boxes[k, 2]) / 2 + rng.uniform(-0.4, 0.4) * size
        cy = (pixel_boxes[k, 1] + pixel_boxes[k, 3]) / 2 + rng.uniform(-0.4, 0.4) * size
    else:
        cx, cy = rng.uniform(0, max(sw, 1)), rng.uniform(0, max(sh, 1))
    x0 = float(np.clip(cx - size / 2, min(0.0, sw - size), max(0.0, sw - size)))
    y0 = float(np.clip(cy - size / 2, min(0.0, sh - size), max(0.0, sh - size)))
    flip = bool(rng.random() < 0.5)
    # One affine warp does the scale, crop and flip; the border is mid-grey, like padding.
    if flip:  # x_out = size - 1 - (x * scale - x0)
        matrix = np.array([[-scale, 0.0, size - 1 + x0], [0.0, scale, -y0]], np.float64)
    else:
        matrix = np.array([[scale, 0.0, -x0], [0.0, scale, -y0]], np.float64)
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    crop = cv2.warpAffine(
        image,
        matrix,
        (size, size),
        flags=interpolation,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(114, 114, 114),
    )
    shifted = pixel_boxes - np.array([x0, y0, x0, y0], np.float32)
    if flip:
        shifted = np.stack(
            [size - shifted[:, 2], shifted[:, 1], size - shifted[:, 0], shifted[:, 3]], axis=1
        )
    clipped = np.clip(shifted, 0, size)
    area = np.prod(np.maximum(shifted[:, 2:] - shifted[:, :2], 1e-6), axis=1)
    kept_area = np.prod(np.maximum(clipped[:, 2:] - clipped[:, :2], 0), axis=1)
    keep = (kept_area / area >= 0.4) & ((clipped[:, 2:] - clipped[:, :2]).min(axis=1) >= 2)
    return Crop(_recolour(crop, rng), clipped[keep].astype(np.float32), classes[keep])


def _recolour(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Brightness, contrast, saturation and a little hue: phones and gym lights vary."""
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV).astype(np.float32)
    hsv[..., 0] = (hsv[..., 0] + rng.uniform(-6, 6)) % 180
    hsv[..., 1] *= rng.uniform(0.6, 1.4)
    hsv[..., 2] *= rng.uniform(0.65, 1.35)
    out = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2BGR)
    contrast = rng.uniform(0.75, 1.25)
    mean = out.mean()
    out = np.clip((out.astype(np.float32) - mean) * contrast + mean, 0, 255).astype(np.uint8)
    if rng.random() < 0.08:
        grey = cv2.cvtColor(out, cv2.COLOR_BGR2GRAY)
        out = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    return out


def iterate_crops(
    images: list[np.ndarray],
    photos: list[LabelledPhoto],
    settings: CropSettings,
    rng: np.random.Generator,
    count: int,
) -> Iterator[Crop]:
    """``count`` crops of photos drawn uniformly at random."""
    for _ in range(count):
        k = int(rng.integers(len(photos)))
        yield random_crop(images[k], photos[k].boxes, photos[k].classes, settings, rng)
