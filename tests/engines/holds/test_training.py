"""Training data handling and the training recipe, on the committed real photos.

The full recipe takes about an hour on two cores (README); here one tiny epoch proves the path
from YOLO files to a TorchScript archive the production loader accepts.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from engines.errors import EngineInputError
from engines.holds import decode_photo, detect_holds, load_hold_model
from engines.holds.learned.data import (
    CropSettings,
    random_crop,
    read_labels,
    read_split,
    source_name,
    split_dataset,
)
from engines.holds.learned.targets import Detections, build_targets, decode, fuse_scales
from engines.holds.learned.train import (
    Restart,
    TrainConfig,
    export_torchscript,
    train_hold_detector,
)

pytestmark = pytest.mark.unit

WALLS = Path(__file__).resolve().parents[2] / "data" / "real_walls"


def _copy(photo: Path, folder: Path, name: str, *, rotate: bool = False) -> None:
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "labels").mkdir(parents=True, exist_ok=True)
    image = cv2.imread(str(photo))
    if rotate:
        image = cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE)
    cv2.imwrite(str(folder / "images" / f"{name}.jpg"), image)
    labels = WALLS / "labels" / f"{photo.stem}.txt"
    shutil.copy(labels, folder / "labels" / f"{name}.txt")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """train: 3 photos; valid: 6 others, a rotated copy of a train photo, a renamed copy of a
    valid photo and one of the broken IMG_899x series."""
    root = tmp_path_factory.mktemp("holds-data")
    photos = sorted((WALLS / "images").iterdir())
    for i, photo in enumerate(photos[:3]):
        _copy(photo, root / "train", f"t{i}_jpg.rf.{i:032x}")
    for i, photo in enumerate(photos[3:9]):
        _copy(photo, root / "valid", f"v{i}_jpg.rf.{i:032x}")
    _copy(photos[0], root / "valid", "copy_of_t0_jpg.rf." + "a" * 32, rotate=True)
    _copy(photos[3], root / "valid", "copy_of_v0_jpg.rf." + "b" * 32)
    _copy(photos[4], root / "valid", "IMG_8993_jpg.rf." + "c" * 32)
    return root


def test_names_and_labels_are_read(tmp_path: Path) -> None:
    assert source_name(Path("IMG_1234_jpg.rf.0123456789abcdef.jpg")) == "IMG_1234"
    label = tmp_path / "x.txt"
    label.write_text("0 0.5 0.5 0.2 0.1\n1 0.1 0.1 0.4 0.4\n7 0.5 0.5 0.1 0.1\nbroken line\n")
    boxes, classes = read_labels(label)
    assert classes.tolist() == [0, 1]
    np.testing.assert_allclose(boxes[0], [0.4, 0.45, 0.6, 0.55], atol=1e-6)
    np.testing.assert_allclose(boxes[1], [0.0, 0.0, 0.3, 0.3], atol=1e-6)  # clipped


def test_split_keeps_copies_and_broken_labels_out_of_the_scores(dataset: Path) -> None:
    split = split_dataset(dataset)
    scored = {p.path.stem for p in split.evaluation + split.calibration}
    trained = {p.path.stem for p in split.train}
    assert not any(name.startswith("copy_of_t0") for name in scored)  # a train photo, rotated
    assert not any(name.startswith("IMG_8993") for name in scored | trained)
    # One picture under two names is used once, on one side.
    copies = [n for n in scored | trained if n.startswith(("v0_", "copy_of_v0"))]
    assert len(copies) == 1
    again = split_dataset(dataset)  # fixed: the same on every run
    for mine, theirs in zip(
        (split.train, split.calibration, split.evaluation),
        (again.train, again.calibration, again.evaluation),
        strict=True,
    ):
        assert [p.path for p in mine] == [p.path for p in theirs]


def test_crops_keep_their_boxes_on_the_holds() -> None:
    photo = read_split(WALLS.parent, WALLS.name)[2]
    image = cv2.imread(str(photo.path))
    rng = np.random.default_rng(0)
    settings = CropSettings(size=256, long_side=512)
    for _ in range(20):
        crop = random_crop(image, photo.boxes, photo.classes, settings, rng)
        assert crop.image.shape == (256, 256, 3)
        assert len(crop.boxes) == len(crop.classes)
        assert (crop.boxes >= 0).all() and (crop.boxes <= 256).all()
        assert (crop.boxes[:, 2:] > crop.boxes[:, :2]).all()


def test_targets_decode_back_to_the_boxes() -> None:
    import torch

    boxes = np.array([[20.0, 30.0, 60.0, 50.0], [100.0, 100.0, 200.0, 180.0]], np.float32)
    classes = np.array([0, 1])
    targets = build_targets([boxes], [classes], (256, 256), 2)
    # Logits that reproduce the targets exactly: peaks at the centres, the true sizes/offsets.
    heat = torch.logit(targets.heat.clamp(1e-4, 1 - 1e-4))
    found = decode(heat, targets.size, targets.offset, threshold=0.5)
    order = np.argsort(found.boxes[:, 0])
    np.testing.assert_allclose(found.boxes[order], boxes, atol=1e-3)
    assert found.classes[order].tolist() == [0, 1]


def test_sizes_fuse_one_object_into_one_box_scored_by_how_many_sizes_saw_it() -> None:
    hold = np.array([[10.0, 10.0, 30.0, 30.0]], np.float32)
    shifted = hold + np.float32(1.0)
    chip = np.array([[100.0, 100.0, 106.0, 106.0]], np.float32)
    small = Detections(hold, np.array([0.8], np.float32), np.array([0]))
    large = Detections(
        np.concatenate([shifted, chip]), np.array([0.6, 0.7], np.float32), np.array([0, 0])
    )
    fused = fuse_scales([small, large])
    assert len(fused) == 2
    order = np.argsort(-fused.scores)
    # Seen at both sizes: the mean of the two scores, the box their score-weighted mean.
    np.testing.assert_allclose(fused.scores[order], [0.7, 0.35], atol=1e-6)
    np.testing.assert_allclose(
        fused.boxes[order[0]], (hold[0] * 0.8 + shifted[0] * 0.6) / 1.4, rtol=1e-5
    )
    # Seen at one size only: half its score, its own box.
    np.testing.assert_allclose(fused.boxes[order[1]], chip[0])
    assert fuse_scales([small]) is small


def _tiny(restarts: int = 2) -> TrainConfig:
    zoom = CropSettings(size=128, long_side=256, scale_range=(0.8, 2.0))
    return TrainConfig(
        epochs=1,
        restarts=(Restart(1), Restart(1, crop=zoom))[:restarts],
        crops_per_photo=1,
        batch=2,
        crop=CropSettings(size=128, long_side=256),
        store_side=320,
        eval_every=1,
        inference_choices=(((256,), False), ((224, 256), True)),
    )


def test_one_tiny_epoch_exports_weights_production_loads(dataset: Path, tmp_path: Path) -> None:
    config = _tiny()
    result = train_hold_detector(dataset, config)
    # One epoch of each cycle: the first from random weights, the others after each restart.
    assert [r.epoch for r in result.history] == [1, 2, 3]
    assert all(np.isfinite(r.loss) and r.calibration is not None for r in result.history)
    meta = export_torchscript(result, config, tmp_path / "holds.pt")
    assert meta["long_sides"] in ([256], [224, 256]) and meta["long_side"] == meta["long_sides"][0]
    assert set(meta["thresholds"]) == {"hold", "volume"}
    model = load_hold_model(tmp_path / "holds.pt", device="cpu")
    photo = sorted((WALLS / "images").iterdir())[0]
    # One tiny epoch need not find holds; it must fail the way production does.
    with contextlib.suppress(EngineInputError):
        detect_holds(decode_photo(photo.read_bytes()), model=model)


def test_starting_at_the_restart_gives_the_whole_run_s_weights(
    dataset: Path, tmp_path: Path
) -> None:
    """``--resume`` is a shortcut, not another recipe: each cycle depends only on the previous
    one's weights, so resuming after one or two cycles reproduces the full run bit for bit."""
    import torch

    whole = train_hold_detector(dataset, _tiny()).net.state_dict()
    for cycles in (1, 2):
        earlier = train_hold_detector(dataset, _tiny(restarts=cycles - 1))
        saved = tmp_path / f"cycles_{cycles}.pt"
        torch.save(earlier.net.state_dict(), saved)
        resumed = train_hold_detector(dataset, _tiny(), resume=saved, resume_cycles=cycles)
        assert [r.epoch for r in resumed.history] == [2, 3][cycles - 1 :]
        for name, tensor in resumed.net.state_dict().items():
            assert torch.equal(tensor, whole[name]), (cycles, name)
