"""The key-pose objective: contacts, joint limits, comfort, balance and smoothness, per pose.

Distances are measured in torso lengths so the weights do not depend on how big the climber is in
the frame. Joint limits and contacts dominate; the comfort prior (straight arms, knees around 120°,
an upright torso, hands and feet in their usual angle to the forearm and shin, free limbs hanging),
the balance term and smoothness only choose among poses that already hold on.

Joint limits in the picture plane of a climber seen from behind: elbows bend out and down, knees
out and up, so an elbow or knee may sit on the straight line from shoulder to wrist or hip to
ankle (a limb bent towards or away from the camera) or to that side of it, never to the other
side (the planar picture of a joint bending backwards). The weight of this test fades where the
two sides are ambiguous (the limb already points along the bend direction).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from engines.ghost.kinematics import (
    HEAD,
    LEAN,
    LIMB_ANGLES,
    PELVIS,
    Kinematics,
    direction,
    dot,
    perp,
)

W_CONTACT = 200.0
W_LIMIT = 100.0
W_REST = 0.2
W_UPRIGHT = 0.5
W_BALANCE = 5.0
W_STRAIGHT_ARMS = 0.1
W_KNEES = 0.1
W_HANG = 0.5
W_SMOOTH = 0.05
MAX_END_DEG = 60.0
MAX_LEAN_DEG = 35.0
COMFORT_KNEE_DEG = 120.0


@dataclass
class Targets:
    """What each pose must reach, as tensors on the solver's device.

    Attributes:
        position: ``(K, 4, 2)`` hold per limb, work units (zeros where off the wall).
        assigned: ``(K, 4)`` 1.0 for limbs on a hold.
        support_low, support_high: ``(K,)`` horizontal extent of the base of support (the feet's
            holds, or the hands' when no foot is on the wall), widened by a quarter hip width.
        supported: ``(K,)`` 1.0 where some limb is on a hold.
    """

    position: torch.Tensor
    assigned: torch.Tensor
    support_low: torch.Tensor
    support_high: torch.Tensor
    supported: torch.Tensor

    @classmethod
    def build(cls, kin: Kinematics, target: np.ndarray, assigned: np.ndarray) -> Targets:
        feet = assigned[:, 2:]
        base = np.where(feet.any(axis=1, keepdims=True), np.pad(feet, ((0, 0), (2, 0))), assigned)
        x = np.where(base, target[..., 0], np.nan)
        supported = base.any(axis=1)
        margin = 0.25 * kin.body.hip_width
        low = np.where(supported, np.nanmin(np.where(supported[:, None], x, 0.0), 1) - margin, 0)
        high = np.where(supported, np.nanmax(np.where(supported[:, None], x, 0.0), 1) + margin, 0)

        def t(values: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(values, dtype=kin.dtype, device=kin.device)

        return cls(t(target), t(assigned), t(low), t(high), t(supported))


def pose_loss(kin: Kinematics, params: torch.Tensor, goals: Targets) -> torch.Tensor:
    """``(K,)`` objective of each pose; the sum is what the solver minimises."""
    pose = kin.forward(params)
    scale = kin.scale
    assigned = goals.assigned
    loss = W_CONTACT * (((pose.contacts - goals.position) / scale) ** 2).sum(-1).mul(assigned).sum(
        1
    )

    # Bend side: offset of the elbow/knee from the chord, towards the natural bend direction.
    chord = pose.ends - pose.roots
    normal = perp(chord) / (torch.linalg.norm(chord, dim=-1, keepdim=True) + 1e-9 * scale)
    side = dot(pose.mids - pose.roots, normal) * dot(normal, kin.bend_direction(pose)) / scale
    loss = loss + W_LIMIT * F.relu(-side).pow(2).sum(1)

    axes = direction(pose.angles)  # (K, 4, 3, 2)
    inside_cos = -dot(axes[:, :, 0], axes[:, :, 1])  # cos of the inside angle at elbow/knee
    loss = loss + W_LIMIT * F.relu(inside_cos - kin.min_inside_cos).pow(2).sum(1)
    end_cos = torch.cos(pose.angles[:, :, 2] - pose.angles[:, :, 1] - kin.rest_end)
    loss = loss + W_LIMIT * F.relu(np.cos(np.deg2rad(MAX_END_DEG)) - end_cos).pow(2).sum(1)
    loss = loss + W_REST * (1 - end_cos).sum(1)

    lean_cos = torch.cos(params[:, LEAN])
    loss = loss + W_LIMIT * F.relu(np.cos(np.deg2rad(MAX_LEAN_DEG)) - lean_cos).pow(2)
    loss = loss + W_UPRIGHT * (1 - lean_cos)
    up_angle = torch.atan2(pose.up[:, 1], pose.up[:, 0])
    loss = loss + W_REST * (1 - torch.cos(params[:, HEAD] - up_angle - kin.body.rest_head_angle))

    knee_cos = np.cos(np.deg2rad(COMFORT_KNEE_DEG))
    loss = loss + W_STRAIGHT_ARMS * ((inside_cos[:, :2] + 1) / 2).sum(1)
    loss = loss + W_KNEES * (inside_cos[:, 2:] - knee_cos).pow(2).sum(1)
    hanging = (2 - axes[:, :, 0, 1] - axes[:, :, 1, 1]) * (1 - assigned)  # 1 - cos to straight down
    loss = loss + W_HANG * hanging.sum(1)

    centre = kin.centre_of_mass(pose)[:, 0]
    outside = F.relu(goals.support_low - centre) + F.relu(centre - goals.support_high)
    loss = loss + W_BALANCE * goals.supported * (outside / scale).pow(2)
    return loss + _smoothness(params, scale)


def _smoothness(params: torch.Tensor, scale: float) -> torch.Tensor:
    """Cost of each pose's change from the previous key pose (0 for the first)."""
    if params.shape[0] < 2:
        return params.new_zeros(params.shape[0])
    change = params[1:] - params[:-1]
    moved = ((change[:, PELVIS] / scale) ** 2).sum(1)
    turned = (1 - torch.cos(change[:, LEAN])) + (1 - torch.cos(change[:, HEAD]))
    turned = turned + (1 - torch.cos(change[:, LIMB_ANGLES])).sum(1)
    return F.pad(W_SMOOTH * (moved + turned), (1, 0))
