"""Running a hold detector (eager `HoldNet` or its TorchScript export) on one photo."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import torch

from engines.holds.learned.net import SIDE_MULTIPLE
from engines.holds.learned.targets import Detections, decode, fuse_scales

#: Grey the padding is filled with (the training crops' border colour).
PAD_VALUE = 114
#: With several inference sizes, each size keeps its peaks down to this score before fusion, so
#: a size that saw an object faintly still adds its share (`fuse_scales`).
CANDIDATE_SCORE = 0.05


def prepare(image_bgr: np.ndarray, long_side: int) -> tuple[torch.Tensor, float]:
    """Scale a photo to ``long_side``, pad to a multiple of 32: (1, 3, H, W) RGB 0..1, scale."""
    h, w = image_bgr.shape[:2]
    scale = long_side / max(h, w)
    sh, sw = max(round(h * scale), 1), max(round(w * scale), 1)
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image_bgr, (sw, sh), interpolation=interpolation)
    ph = -(-sh // SIDE_MULTIPLE) * SIDE_MULTIPLE
    pw = -(-sw // SIDE_MULTIPLE) * SIDE_MULTIPLE
    canvas = np.full((ph, pw, 3), PAD_VALUE, np.uint8)
    canvas[:sh, :sw] = resized
    return to_tensor(canvas[None]), scale


def to_tensor(batch_bgr: np.ndarray) -> torch.Tensor:
    """(N, H, W, 3) uint8 BGR -> (N, 3, H, W) float32 RGB in 0..1."""
    rgb = np.ascontiguousarray(batch_bgr[..., ::-1].transpose(0, 3, 1, 2))
    return torch.from_numpy(rgb).float().div_(255.0)


def detect_boxes(
    module: Any,
    image_bgr: np.ndarray,
    *,
    long_side: int,
    threshold: float,
    device: str | torch.device = "cpu",
    flip: bool = False,
) -> Detections:
    """Boxes on a photo, normalised to it (0..1), with scores and class indices.

    With ``flip``, the mirrored photo runs in the same batch and its centre and size maps,
    mirrored back, are averaged in (test-time augmentation: steadier peaks for twice the work).
    """
    h, w = image_bgr.shape[:2]
    batch, _ = prepare(image_bgr, long_side)
    if flip:
        batch = torch.cat([batch, batch.flip(-1)])
    with torch.inference_mode():
        heat, size, offset = module(batch.to(device))
        if flip:
            # The padded width is a multiple of the stride, so mirrored cells line up exactly.
            heat = (heat[:1] + heat[1:].flip(-1)) / 2
            size = (size[:1] + size[1:].flip(-1)) / 2
            offset = offset[:1]
    found = decode(heat, size, offset, threshold=threshold)
    scale = long_side / max(h, w)
    boxes = found.boxes / scale / np.array([w, h, w, h], np.float32)
    return Detections(np.clip(boxes, 0.0, 1.0), found.scores, found.classes)


def detect_boxes_at_sizes(
    module: Any,
    image_bgr: np.ndarray,
    *,
    long_sides: tuple[int, ...],
    threshold: float,
    device: str | torch.device = "cpu",
    flip: bool = False,
) -> Detections:
    """`detect_boxes` at each of ``long_sides``, fused (`fuse_scales`), above ``threshold``.

    Several sizes are test-time augmentation for scale: small foot holds are surest at the large
    size, big volumes at the small one, and an object seen at every size outranks a peak of one.
    """

    def at(side: int, cut: float) -> Detections:
        return detect_boxes(
            module, image_bgr, long_side=side, threshold=cut, device=device, flip=flip
        )

    if len(long_sides) == 1:
        return at(long_sides[0], threshold)
    fused = fuse_scales([at(side, min(threshold, CANDIDATE_SCORE)) for side in long_sides])
    keep = fused.scores >= threshold
    return Detections(fused.boxes[keep], fused.scores[keep], fused.classes[keep])
