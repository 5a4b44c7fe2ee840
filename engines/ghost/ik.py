"""Inverse kinematics of the key poses: all of them optimised together as one tensor problem.

Every key pose starts from the planner's torso fit with each limb put on its hold by two-link
inverse kinematics, then Adam runs a fixed number of steps on the sum of per-pose losses
(`engines.ghost.losses`): contacts on holds, joint limits, a comfort prior, centre of mass over the
feet, and smoothness between consecutive key poses. The loop never waits on the device, so on CUDA
a step costs the same kernel launches whatever the number of poses: batching many poses (a
benchmark can repeat a plan's states) is where the GPU pays off.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from engines.ghost.body import BodyModel
from engines.ghost.errors import GhostInputError
from engines.ghost.geometry import fill_pelvis, fit_torso, hold_positions
from engines.ghost.kinematics import HEAD, LEAN, LIMB_ANGLES, PARAMS, PELVIS, Kinematics
from engines.ghost.losses import Targets, pose_loss
from engines.ghost.planner import LIMBS, Plan
from engines.limbs import Limb
from engines.pose.timeline import LANDMARK_COUNT
from schema.holds import HoldMap

logger = logging.getLogger(__name__)

LEARNING_RATE = 0.03
MIN_RATE_FRACTION = 0.05
BETAS = (0.9, 0.999)
DEFAULT_ITERATIONS = 300


@dataclass
class KeyPoses:
    """Solved key poses.

    Attributes:
        landmarks: ``(K, 33, 4)`` float32 in the skeleton's format: x, y normalised to the frame,
            z 0 (the ghost is planar), visibility 1 for every landmark.
        params: ``(K, 16)`` float64 kinematic parameters (`engines.ghost.kinematics`), the form
            the trajectory interpolates.
        states: ``K`` hold assignments the poses realise.
        contact_error: ``(K, 4)`` distance from each limb's contact point to its hold, work
            units; NaN for limbs off the wall.
        loss: ``(K,)`` final objective per pose.
        body: the body the poses were solved for.
        device: the torch device that ran the optimisation.
    """

    landmarks: np.ndarray
    params: np.ndarray
    states: list[dict[Limb, str | None]]
    contact_error: np.ndarray
    loss: np.ndarray
    body: BodyModel
    device: str

    def __post_init__(self) -> None:
        count = len(self.states)
        self.landmarks = np.asarray(self.landmarks, dtype=np.float32)
        self.params = np.asarray(self.params, dtype=np.float64)
        if self.landmarks.shape != (count, LANDMARK_COUNT, 4):
            raise ValueError(f"landmarks must have shape ({count}, 33, 4)")
        if self.params.shape != (count, PARAMS) or not np.all(np.isfinite(self.params)):
            raise ValueError(f"params must be finite with shape ({count}, {PARAMS})")
        if np.shape(self.contact_error) != (count, 4) or np.shape(self.loss) != (count,):
            raise ValueError("contact_error must be (K, 4) and loss (K,)")

    def __len__(self) -> int:
        return len(self.states)


def solve_key_poses(
    plan_states: Plan | Sequence[Mapping[Limb, str | None]],
    body: BodyModel,
    hold_map: HoldMap,
    *,
    device: str | torch.device = "cpu",
    iterations: int = DEFAULT_ITERATIONS,
) -> KeyPoses:
    """Solve every key pose of a plan at once.

    Args:
        plan_states: a `Plan` (its torso fits seed the solver) or hold assignments per pose.
        body: the climber's body.
        hold_map: the holds the states name.
        device: where to optimise (``"cuda"`` when present is much faster for many poses).
        iterations: Adam steps; the count is fixed so time per pose is predictable. There is
            no randomness: the same inputs give the same poses.

    Returns:
        The `KeyPoses`.

    Raises:
        GhostInputError: a state names a hold the map does not have, or there are no states.
    """
    if iterations < 0:
        raise ValueError("iterations must be >= 0")
    states = list(plan_states.states if isinstance(plan_states, Plan) else plan_states)
    if not states:
        raise GhostInputError("the ghost has no key poses to solve")
    target, assigned = _targets(states, body, hold_map)
    if isinstance(plan_states, Plan):
        pelvis, lean = plan_states.pelvis, plan_states.lean
    else:
        fit = fit_torso(target, assigned, body)
        pelvis = fill_pelvis(fit.pelvis, body)
        lean = np.where(fit.feasible, fit.lean, 0.0)

    device = torch.device(device)
    kin = Kinematics(body, device, torch.float32)
    goals = Targets.build(kin, target, assigned)
    start = _initial_params(kin, goals, pelvis, lean)
    step = torch.ones(PARAMS, dtype=kin.dtype, device=device)
    step[PELVIS] = kin.scale  # one learning rate: positions move in torso lengths
    delta = _adam(lambda d: pose_loss(kin, start + d * step, goals).sum(), start, iterations)

    with torch.no_grad():
        params = start + delta * step
        losses = pose_loss(kin, params, goals)
        pose = kin.forward(params)
    contacts = pose.contacts.double().cpu().numpy()
    error = np.linalg.norm(contacts - target, axis=-1)
    error[~assigned] = np.nan
    landmarks = to_landmarks(pose.landmarks.double().cpu().numpy(), body.aspect)
    logger.info(
        "ghost IK: %d poses, %d iterations on %s, worst contact error %.4f",
        len(states),
        iterations,
        device,
        float(np.nanmax(error)) if np.any(assigned) else 0.0,
    )
    return KeyPoses(
        landmarks=landmarks,
        params=params.double().cpu().numpy(),
        states=[dict(s) for s in states],
        contact_error=error,
        loss=losses.double().cpu().numpy(),
        body=body,
        device=str(device),
    )


def _adam(
    objective: Callable[[torch.Tensor], torch.Tensor], like: torch.Tensor, iterations: int
) -> torch.Tensor:
    """Adam with a cosine learning-rate decay, minimising ``objective`` from zero.

    Written out rather than `torch.optim.Adam` because the library optimiser's first use imports
    torch's compiler stack (seconds per process) and its step adds host-side bookkeeping; this
    loop is a handful of fused tensor ops per step and never waits on the device.
    """
    delta = torch.zeros_like(like, requires_grad=True)
    first, second = torch.zeros_like(like), torch.zeros_like(like)
    for i in range(iterations):
        (grad,) = torch.autograd.grad(objective(delta), delta)
        cosine = 0.5 * (1 + math.cos(math.pi * i / max(iterations, 1)))
        rate = LEARNING_RATE * (MIN_RATE_FRACTION + (1 - MIN_RATE_FRACTION) * cosine)
        with torch.no_grad():
            first.mul_(BETAS[0]).add_(grad, alpha=1 - BETAS[0])
            second.mul_(BETAS[1]).addcmul_(grad, grad, value=1 - BETAS[1])
            denominator = (second / (1 - BETAS[1] ** (i + 1))).sqrt_().add_(1e-8)
            delta.addcdiv_(first, denominator, value=-rate / (1 - BETAS[0] ** (i + 1)))
    return delta.detach()


def to_landmarks(points: np.ndarray, aspect: float) -> np.ndarray:
    """``(..., 33, 4)`` skeleton-format landmarks from work-unit points ``(..., 33, 2)``."""
    out = np.zeros((*points.shape[:-1], 4), dtype=np.float32)
    out[..., 0] = points[..., 0] / aspect
    out[..., 1] = points[..., 1]
    out[..., 3] = 1.0
    return out


def _targets(
    states: list[Mapping[Limb, str | None]], body: BodyModel, hold_map: HoldMap
) -> tuple[np.ndarray, np.ndarray]:
    where = hold_positions(hold_map, body.aspect)
    target = np.zeros((len(states), 4, 2))
    assigned = np.zeros((len(states), 4), dtype=bool)
    for k, state in enumerate(states):
        for i, limb in enumerate(LIMBS):
            hold = state.get(limb)
            if hold is None:
                continue
            if hold not in where:
                raise GhostInputError(f"the key pose names hold {hold!r}, not on the hold map")
            target[k, i], assigned[k, i] = where[hold], True
    return target, assigned


def _initial_params(
    kin: Kinematics, goals: Targets, pelvis: np.ndarray, lean: np.ndarray
) -> torch.Tensor:
    """Planner torso, each limb reaching its hold (or hanging) with the natural bend."""
    count = pelvis.shape[0]
    params = torch.zeros(count, PARAMS, dtype=kin.dtype, device=kin.device)
    params[:, PELVIS] = torch.as_tensor(pelvis, dtype=kin.dtype, device=kin.device)
    params[:, LEAN] = torch.as_tensor(lean, dtype=kin.dtype, device=kin.device)
    torso = kin.forward(params)
    down = torch.tensor([0.0, 1.0], dtype=kin.dtype, device=kin.device)
    hang = torso.roots + down * (0.9 * (kin.upper + kin.lower))[:, None]
    aim = torch.where(goals.assigned[..., None] > 0, goals.position, hang)
    rel_end = kin.rest_end.expand(count, 4)
    params[:, LIMB_ANGLES] = kin.reach(
        torso.roots, aim, rel_end, kin.bend_direction(torso)
    ).reshape(count, 12)
    up_angle = torch.atan2(torso.up[:, 1], torso.up[:, 0])
    params[:, HEAD] = up_angle + kin.body.rest_head_angle
    return params


def default_device() -> str:
    """``"cuda"`` when torch sees a GPU, else ``"cpu"``."""
    return "cuda" if torch.cuda.is_available() else "cpu"
