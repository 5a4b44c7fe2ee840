"""Training targets and losses for `HoldNet`, and decoding its outputs back to boxes.

Decoding lives here beside the targets so the two stay each other's inverse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from engines.holds.boxes_eval import box_iou
from engines.holds.learned.net import STRIDE

#: Elliptical Gaussian spread of a centre target, as a share of the box side (TTFNet's 0.54/6).
_SPREAD = 0.54 / 6
#: Cells whose centre target is at least this regress the object's size too: a peak one cell
#: off still has a sound size.
_SIZE_REGION = 0.6


@dataclass
class Targets:
    """Dense targets for a batch at stride `STRIDE`."""

    heat: torch.Tensor  # (N, C, h, w) centre heatmap 0..1, 1 at centres
    size: torch.Tensor  # (N, 2, h, w) log box width/height in cells
    size_weight: torch.Tensor  # (N, 1, h, w)
    offset: torch.Tensor  # (N, 2, h, w) sub-cell centre 0..1
    offset_mask: torch.Tensor  # (N, 1, h, w) 1 at centre cells

    def to(self, device: str | torch.device) -> Targets:
        return Targets(
            self.heat.to(device),
            self.size.to(device),
            self.size_weight.to(device),
            self.offset.to(device),
            self.offset_mask.to(device),
        )


def build_targets(
    boxes: list[np.ndarray], classes: list[np.ndarray], shape: tuple[int, int], n_classes: int
) -> Targets:
    """Targets for crops of ``shape`` (H, W) pixels; boxes in pixels, one array per crop."""
    n = len(boxes)
    h, w = shape[0] // STRIDE, shape[1] // STRIDE
    heat = np.zeros((n, n_classes, h, w), np.float32)
    size = np.zeros((n, 2, h, w), np.float32)
    size_weight = np.zeros((n, 1, h, w), np.float32)
    offset = np.zeros((n, 2, h, w), np.float32)
    offset_mask = np.zeros((n, 1, h, w), np.float32)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    for b, (crop_boxes, crop_classes) in enumerate(zip(boxes, classes, strict=True)):
        # Larger objects first, so a small hold's peak overwrites a volume's tail, not vice versa.
        order = np.argsort(-np.prod(crop_boxes[:, 2:] - crop_boxes[:, :2], axis=1))
        for k in order:
            x0, y0, x1, y1 = crop_boxes[k] / STRIDE
            bw, bh = max(x1 - x0, 1e-3), max(y1 - y0, 1e-3)
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            ix, iy = min(int(cx), w - 1), min(int(cy), h - 1)
            sx, sy = max(_SPREAD * bw, 0.5), max(_SPREAD * bh, 0.5)
            r = 3
            xa, xb = max(ix - int(r * sx) - 1, 0), min(ix + int(r * sx) + 2, w)
            ya, yb = max(iy - int(r * sy) - 1, 0), min(iy + int(r * sy) + 2, h)
            gx, gy = xs[ya:yb, xa:xb] - ix, ys[ya:yb, xa:xb] - iy
            g = np.exp(-(gx**2) / (2 * sx**2) - gy**2 / (2 * sy**2))
            c = int(crop_classes[k])
            heat[b, c, ya:yb, xa:xb] = np.maximum(heat[b, c, ya:yb, xa:xb], g)
            region = g >= _SIZE_REGION
            size[b, 0, ya:yb, xa:xb][region] = np.log(bw)
            size[b, 1, ya:yb, xa:xb][region] = np.log(bh)
            size_weight[b, 0, ya:yb, xa:xb][region] = g[region]
            heat[b, c, iy, ix] = 1.0
            offset[b, :, iy, ix] = (cx - ix, cy - iy)
            offset_mask[b, 0, iy, ix] = 1.0
    return Targets(
        torch.from_numpy(heat),
        torch.from_numpy(size),
        torch.from_numpy(size_weight),
        torch.from_numpy(offset),
        torch.from_numpy(offset_mask),
    )


def detection_loss(
    heat_logits: torch.Tensor, size: torch.Tensor, offset: torch.Tensor, targets: Targets
) -> tuple[torch.Tensor, dict[str, float]]:
    """CenterNet's penalty-reduced focal loss on centres, L1 on log size and offset."""
    p = torch.sigmoid(heat_logits).clamp(1e-4, 1 - 1e-4)
    t = targets.heat
    positive = t.eq(1.0).float()
    pos_loss = -torch.log(p) * (1 - p) ** 2 * positive
    neg_loss = -torch.log(1 - p) * p**2 * (1 - t) ** 4 * (1 - positive)
    n_pos = positive.sum().clamp(min=1.0)
    focal = (pos_loss.sum() + neg_loss.sum()) / n_pos
    sw = targets.size_weight
    size_loss = (F.l1_loss(size, targets.size, reduction="none") * sw).sum() / sw.sum().clamp(
        min=1.0
    )
    om = targets.offset_mask
    offset_loss = (F.l1_loss(offset, targets.offset, reduction="none") * om).sum() / om.sum().clamp(
        min=1.0
    )
    total = focal + size_loss + offset_loss
    return total, {
        "focal": float(focal.detach()),
        "size": float(size_loss.detach()),
        "offset": float(offset_loss.detach()),
    }


@dataclass
class Detections:
    """Boxes found on one image, in the input's pixels."""

    boxes: np.ndarray  # (N, 4) x0, y0, x1, y1
    scores: np.ndarray  # (N,)
    classes: np.ndarray  # (N,) int

    def __len__(self) -> int:
        return len(self.scores)


def decode(
    heat_logits: torch.Tensor,
    size: torch.Tensor,
    offset: torch.Tensor,
    *,
    threshold: float,
    max_objects: int = 600,
) -> Detections:
    """Peaks of the heatmap of one image (batch of 1) -> boxes, scores and classes."""
    heat = torch.sigmoid(heat_logits[0])
    peaks = heat == F.max_pool2d(heat[None], 3, 1, 1)[0]
    scores = torch.where(peaks, heat, torch.zeros_like(heat))
    flat = scores.flatten()
    k = min(max_objects, flat.numel())
    top, index = torch.topk(flat, k)
    keep = top >= threshold
    top, index = top[keep], index[keep]
    _, h, w = heat.shape
    cls = index // (h * w)
    cell = index % (h * w)
    iy, ix = cell // w, cell % w
    cx = (ix.float() + offset[0, 0, iy, ix]) * STRIDE
    cy = (iy.float() + offset[0, 1, iy, ix]) * STRIDE
    bw = torch.exp(size[0, 0, iy, ix].clamp(max=8.0)) * STRIDE
    bh = torch.exp(size[0, 1, iy, ix].clamp(max=8.0)) * STRIDE
    boxes = torch.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], dim=1)
    return suppress(
        Detections(
            boxes.cpu().numpy().astype(np.float32),
            top.cpu().numpy().astype(np.float32),
            cls.cpu().numpy().astype(np.int64),
        )
    )


#: Two detections overlapping more than this are one object seen twice (peaks of two classes, or
#: two peaks on one large volume): the weaker goes.
DUPLICATE_IOU = 0.6


def suppress(found: Detections) -> Detections:
    """Greedy non-maximum suppression across classes."""
    if len(found) < 2:
        return found
    order = np.argsort(-found.scores)
    iou = box_iou(found.boxes[order], found.boxes[order])
    alive = np.ones(len(order), bool)
    for i in range(len(order)):
        if alive[i]:
            alive[i + 1 :] &= iou[i, i + 1 :] < DUPLICATE_IOU
    kept = order[alive]
    return Detections(found.boxes[kept], found.scores[kept], found.classes[kept])


#: Detections of one object at two inference sizes overlap at least this much (`fuse_scales`).
SAME_OBJECT_IOU = 0.55


def fuse_scales(per_scale: list[Detections]) -> Detections:
    """One set of detections from the same photo seen at several sizes (boxes in one unit).

    Weighted box fusion: the strongest detection gathers every other one overlapping it by
    `SAME_OBJECT_IOU` or more (any size, any class); the fused box is their score-weighted mean,
    its class the strongest one's, its score the sum of theirs over the number of sizes. A hold
    seen at only one size therefore scores lower than one seen at all of them: small foot holds
    found only at the large size survive when that size is sure of them, while a texture peak
    that one size alone fires on is damped. Per-size detections should come from a low
    threshold, so a size that barely saw the object still adds its share.
    """
    if len(per_scale) == 1:
        return per_scale[0]
    boxes = np.concatenate([d.boxes for d in per_scale])
    scores = np.concatenate([d.scores for d in per_scale])
    classes = np.concatenate([d.classes for d in per_scale])
    if len(scores) == 0:
        return Detections(boxes, scores, classes)
    order = np.argsort(-scores, kind="stable")
    boxes, scores, classes = boxes[order], scores[order], classes[order]
    overlap = box_iou(boxes, boxes) >= SAME_OBJECT_IOU
    taken = np.zeros(len(scores), bool)
    fused_boxes, fused_scores, fused_classes = [], [], []
    for i in range(len(scores)):
        if taken[i]:
            continue
        members = np.flatnonzero(overlap[i] & ~taken)
        taken[members] = True
        weights = scores[members]
        fused_boxes.append((boxes[members] * weights[:, None]).sum(0) / max(weights.sum(), 1e-9))
        fused_scores.append(min(weights.sum() / len(per_scale), 1.0))
        fused_classes.append(classes[i])
    return suppress(
        Detections(
            np.asarray(fused_boxes, np.float32),
            np.asarray(fused_scores, np.float32),
            np.asarray(fused_classes, np.int64),
        )
    )
