"""HoldNet: a compact centre-point detector for holds and volumes, small enough for 2 CPU cores.

Why this shape: a wall photo holds 30-200 objects whose sizes span two orders of magnitude (foot
chips of ~10 px beside volumes of ~300 px). A CenterNet-style head (one heatmap peak per object,
plus its size and sub-cell offset, at stride 4) needs no anchors or NMS tuning, trains from
scratch on a few hundred photos because every object supervises many heatmap cells, and its
decoding is a 3x3 max-pool. The backbone is a plain residual net (no depthwise convolutions:
on CPU, PyTorch trains dense 3x3 convolutions far faster per FLOP) with a small feature pyramid
merged back to stride 4, so small holds keep their detail while the stride-32 features see
enough of the photo to tell a wall from a ceiling, a mat or a person.

Outputs, for an input ``(N, 3, H, W)`` with ``H`` and ``W`` multiples of 32:

* ``heat``: ``(N, C, H/4, W/4)`` logits of an object centre of each class (hold, volume);
* ``size``: ``(N, 2, H/4, W/4)`` log of the box width and height in stride-4 cells;
* ``offset``: ``(N, 2, H/4, W/4)`` sub-cell position of the centre, 0..1 (after a sigmoid).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

#: Output stride of the heads, in input pixels.
STRIDE = 4
#: Every input side must be a multiple of this (the deepest stage's stride).
SIDE_MULTIPLE = 32


def _conv(c_in: int, c_out: int, stride: int = 1, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class _Residual(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.body(x))


def _stage(c_in: int, c_out: int, blocks: int) -> nn.Sequential:
    return nn.Sequential(_conv(c_in, c_out, stride=2), *[_Residual(c_out) for _ in range(blocks)])


class HoldNet(nn.Module):
    """Residual backbone (strides 4-32), top-down pyramid to stride 4, three small heads."""

    def __init__(
        self,
        classes: int = 2,
        widths: tuple[int, int, int, int] = (32, 64, 96, 128),
        blocks: tuple[int, int, int, int] = (1, 2, 2, 2),
        neck: int = 64,
        prior: float = 0.01,
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(_conv(3, 16, stride=2), _conv(16, 24))
        self.c2 = _stage(24, widths[0], blocks[0])
        self.c3 = _stage(widths[0], widths[1], blocks[1])
        self.c4 = _stage(widths[1], widths[2], blocks[2])
        self.c5 = _stage(widths[2], widths[3], blocks[3])
        self.lat5 = nn.Conv2d(widths[3], neck, 1)
        self.lat4 = nn.Conv2d(widths[2], neck, 1)
        self.lat3 = nn.Conv2d(widths[1], neck, 1)
        self.lat2 = nn.Conv2d(widths[0], neck, 1)
        self.smooth4 = _conv(neck, neck)
        self.smooth3 = _conv(neck, neck)
        self.smooth2 = _conv(neck, neck)
        self.shared = _conv(neck, neck)
        self.heat = nn.Conv2d(neck, classes, 1)
        self.size = nn.Conv2d(neck, 2, 1)
        self.offset = nn.Conv2d(neck, 2, 1)
        # Focal-loss practice: start every centre at a low probability so the loss of the many
        # empty cells does not swamp the first steps.
        assert self.heat.bias is not None and self.size.bias is not None
        nn.init.constant_(self.heat.bias, -math.log((1 - prior) / prior))
        nn.init.zeros_(self.size.weight)
        nn.init.constant_(self.size.bias, math.log(4.0))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        c2 = self.c2(self.stem(x))
        c3 = self.c3(c2)
        c4 = self.c4(c3)
        c5 = self.c5(c4)
        p = self.lat5(c5)
        p = self.smooth4(self.lat4(c4) + F.interpolate(p, scale_factor=2.0, mode="nearest"))
        p = self.smooth3(self.lat3(c3) + F.interpolate(p, scale_factor=2.0, mode="nearest"))
        p = self.smooth2(self.lat2(c2) + F.interpolate(p, scale_factor=2.0, mode="nearest"))
        f = self.shared(p)
        return self.heat(f), self.size(f), torch.sigmoid(self.offset(f))
