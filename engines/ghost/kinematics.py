"""The ghost's planar kinematic model in torch: parameters → 33 landmarks, batched.

A pose is 16 numbers: pelvis centre (2, work units), torso lean (1), three absolute angles per
limb in Limb order (upper segment, lower segment, hand/foot axis; 12) and the head's angle (1).
Angles are image-plane directions (x right, y down). Segment lengths are the body model's, so
every pose keeps the climber's proportions exactly; fingers, heel, toes and face ride on rigid
frames measured from the climber (`engines.ghost.landmarks`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engines.ghost.body import BodyModel

PARAMS = 16
PELVIS = slice(0, 2)
LEAN = 2
LIMB_ANGLES = slice(3, 15)
HEAD = 15
#: Segment mass fractions and centre-of-mass positions from the proximal end (Winter, table 4.1).
MASS_TRUNK_HEAD = 0.578
MASS_UPPER_ARM, MASS_FOREARM_HAND, MASS_THIGH, MASS_SHANK_FOOT = 0.028, 0.022, 0.100, 0.061
COM_UPPER, COM_THIGH, COM_LOWER_ARM, COM_SHANK = 0.436, 0.433, 0.682, 0.606
#: Trunk (0.497 at ~42 % up the trunk) lumped with head and neck (0.081, above the shoulders).
COM_TRUNK_HEAD = 0.55
#: Smallest inside angle at elbows and knees (Limb order): a joint cannot fold flat.
MIN_INSIDE_DEG = (35.0, 35.0, 30.0, 30.0)
#: Left limbs point to -lateral, right limbs to +lateral.
SIDE = (-1.0, 1.0, -1.0, 1.0)
#: Elbows bend down and out, knees up and out, in a back view of a climber.
BEND_VERTICAL = (-0.5, -0.5, 0.5, 0.5)


def direction(angle: torch.Tensor) -> torch.Tensor:
    return torch.stack([torch.cos(angle), torch.sin(angle)], dim=-1)


def perp(vectors: torch.Tensor) -> torch.Tensor:
    return torch.stack([-vectors[..., 1], vectors[..., 0]], dim=-1)


def dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a * b).sum(dim=-1)


@dataclass
class Pose:
    """Forward kinematics of ``K`` poses (all ``(K, ...)`` tensors, work units)."""

    up: torch.Tensor  # (K, 2) torso up axis
    lateral: torch.Tensor  # (K, 2) climber's right
    neck: torch.Tensor  # (K, 2)
    roots: torch.Tensor  # (K, 4, 2) shoulders and hips
    mids: torch.Tensor  # (K, 4, 2) elbows and knees
    ends: torch.Tensor  # (K, 4, 2) wrists and ankles
    contacts: torch.Tensor  # (K, 4, 2) Limb.contact_landmarks means
    landmarks: torch.Tensor  # (K, 33, 2)
    angles: torch.Tensor  # (K, 4, 3)


class Kinematics:
    """The body model's constants as tensors on one device, and the forward map."""

    def __init__(self, body: BodyModel, device: torch.device, dtype: torch.dtype) -> None:
        def t(values: object) -> torch.Tensor:
            return torch.as_tensor(np.asarray(values, dtype=np.float64), dtype=dtype, device=device)

        self.body = body
        self.device, self.dtype = device, dtype
        self.scale = body.torso
        self.upper = t([body.upper_arm] * 2 + [body.thigh] * 2)
        self.lower = t([body.forearm] * 2 + [body.shin] * 2)
        self.side = t(SIDE)
        self.bend_vertical = t(BEND_VERTICAL)
        self.anchor_width = t([body.shoulder_width / 2] * 2 + [body.hip_width / 2] * 2) * self.side
        self.anchor_height = t([body.torso] * 2 + [0.0, 0.0])
        feet = np.concatenate([body.foot_offsets, np.zeros((2, 1, 2))], axis=1)
        self.sub_offsets = t(np.concatenate([body.hand_offsets, feet]))  # (4, 3, 2)
        self.contact_offsets = t(body.contact_offsets)  # (4, 2)
        self.face_offsets = t(body.face_offsets)  # (11, 2)
        self.rest_end = t(body.rest_end_angles)
        self.com_upper = t([COM_UPPER] * 2 + [COM_THIGH] * 2)
        self.com_lower = t([COM_LOWER_ARM] * 2 + [COM_SHANK] * 2)
        self.mass_upper = t([MASS_UPPER_ARM] * 2 + [MASS_THIGH] * 2)
        self.mass_lower = t([MASS_FOREARM_HAND] * 2 + [MASS_SHANK_FOOT] * 2)
        self.min_inside_cos = t(np.cos(np.deg2rad(MIN_INSIDE_DEG)))

    def forward(self, params: torch.Tensor) -> Pose:
        """Landmarks of ``params`` ``(K, 16)``."""
        count = params.shape[0]
        lean = params[:, LEAN]
        up = torch.stack([torch.sin(lean), -torch.cos(lean)], dim=-1)
        lateral = torch.stack([torch.cos(lean), torch.sin(lean)], dim=-1)
        pelvis = params[:, PELVIS]
        neck = pelvis + up * self.body.torso
        roots = (
            pelvis[:, None]
            + up[:, None] * self.anchor_height[:, None]
            + lateral[:, None] * self.anchor_width[:, None]
        )
        angles = params[:, LIMB_ANGLES].reshape(count, 4, 3)
        axes = direction(angles)  # (K, 4, 3, 2)
        mids = roots + axes[:, :, 0] * self.upper[:, None]
        ends = mids + axes[:, :, 1] * self.lower[:, None]
        end_axis, end_perp = axes[:, :, 2], perp(axes[:, :, 2])
        subs = (
            ends[:, :, None]
            + end_axis[:, :, None] * self.sub_offsets[..., 0:1]
            + end_perp[:, :, None] * self.sub_offsets[..., 1:2]
        )
        contacts = (
            ends + end_axis * self.contact_offsets[:, 0:1] + end_perp * self.contact_offsets[:, 1:2]
        )
        head_axis = direction(params[:, HEAD])
        nose = neck + head_axis * self.body.head
        face = (
            nose[:, None]
            + head_axis[:, None] * self.face_offsets[:, 0:1]
            + perp(head_axis)[:, None] * self.face_offsets[:, 1:2]
        )
        hands = subs[:, :2].transpose(1, 2).reshape(count, 6, 2)  # pinky, index, thumb x L/R
        feet = subs[:, 2:, :2].transpose(1, 2).reshape(count, 4, 2)  # heel, foot index x L/R
        arms = [roots[:, :2], mids[:, :2], ends[:, :2], hands]
        legs = [roots[:, 2:], mids[:, 2:], ends[:, 2:], feet]
        landmarks = torch.cat([face, *arms, *legs], dim=1)  # MediaPipe's index order
        return Pose(up, lateral, neck, roots, mids, ends, contacts, landmarks, angles)

    def bend_direction(self, pose: Pose) -> torch.Tensor:
        """``(K, 4, 2)`` the side elbows and knees naturally bend to: out, and down/up."""
        return (
            pose.lateral[:, None] * self.side[:, None]
            + pose.up[:, None] * self.bend_vertical[:, None]
        )

    def centre_of_mass(self, pose: Pose) -> torch.Tensor:
        """``(K, 2)`` whole-body centre of mass from segment masses (hands/feet with their limb)."""
        shoulders = pose.roots[:, :2].mean(dim=1)
        hips = pose.roots[:, 2:].mean(dim=1)
        trunk = hips + (shoulders - hips) * COM_TRUNK_HEAD
        upper = pose.roots + (pose.mids - pose.roots) * self.com_upper[:, None]
        lower = pose.mids + (pose.ends - pose.mids) * self.com_lower[:, None]
        limbs = (upper * self.mass_upper[:, None]).sum(1) + (lower * self.mass_lower[:, None]).sum(
            1
        )
        return trunk * MASS_TRUNK_HEAD + limbs  # the fractions sum to 1

    def effective_link(self, rel_end: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Length and angle offset of lower segment + contact offset, for an end angle ``rel_end``
        ``(..., 4)`` relative to the lower segment: the second link of a two-link reach."""
        cos, sin = torch.cos(rel_end), torch.sin(rel_end)
        cx, cy = self.contact_offsets[:, 0], self.contact_offsets[:, 1]
        vx = self.lower + cos * cx - sin * cy
        vy = sin * cx + cos * cy
        return torch.sqrt(vx**2 + vy**2), torch.atan2(vy, vx)

    def reach(
        self, roots: torch.Tensor, targets: torch.Tensor, rel_end: torch.Tensor, hint: torch.Tensor
    ) -> torch.Tensor:
        """Two-link inverse kinematics that puts each contact point on its target.

        Args:
            roots: ``(..., 4, 2)`` shoulders and hips.
            targets: ``(..., 4, 2)`` contact targets (clamped to reach along the same line).
            rel_end: ``(..., 4)`` hand/foot axis angle relative to the lower segment.
            hint: ``(..., 4, 2)`` which of the two elbow/knee solutions to take: the one further
                along ``hint`` from the root.

        Returns:
            ``(..., 4, 3)`` absolute angles (upper, lower, end).
        """
        length, offset = self.effective_link(rel_end)
        chord = targets - roots
        distance = torch.linalg.norm(chord, dim=-1)
        distance = torch.minimum(
            torch.maximum(distance, (self.upper - length).abs() + 1e-12), self.upper + length
        )
        cos_gamma = (self.upper**2 + distance**2 - length**2) / (2 * self.upper * distance)
        gamma = torch.acos(cos_gamma.clamp(-1.0, 1.0))
        heading = torch.atan2(chord[..., 1], chord[..., 0])
        options = torch.stack([heading + gamma, heading - gamma], dim=-1)  # (..., 4, 2)
        mids = roots[..., None, :] + direction(options) * self.upper[:, None, None]
        score = dot(mids - roots[..., None, :], hint[..., None, :])
        upper = torch.where(score[..., 0] >= score[..., 1], options[..., 0], options[..., 1])
        mid = roots + direction(upper) * self.upper[:, None]
        link = targets - mid
        lower = torch.atan2(link[..., 1], link[..., 0]) - offset
        return torch.stack([upper, lower, lower + rel_end], dim=-1)
