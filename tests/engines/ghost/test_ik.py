import numpy as np
import pytest
import torch

from engines.ghost import GhostInputError, body_model, plan_sequence, solve_key_poses
from engines.ghost.geometry import hold_positions
from engines.limbs import Limb
from engines.pose.timeline import Landmark as L
from tests.engines.ghost import synthetic

pytestmark = pytest.mark.unit

START = {Limb.LEFT_HAND: "L4", Limb.RIGHT_HAND: "R4", Limb.LEFT_FOOT: "L0", Limb.RIGHT_FOOT: "R0"}
ITERATIONS = 120
ARMS = (
    (L.LEFT_SHOULDER, L.LEFT_ELBOW, L.LEFT_WRIST),
    (L.RIGHT_SHOULDER, L.RIGHT_ELBOW, L.RIGHT_WRIST),
)
LEGS = ((L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE), (L.RIGHT_HIP, L.RIGHT_KNEE, L.RIGHT_ANKLE))


@pytest.fixture(scope="module")
def body():
    return body_model(synthetic.climber(stature=0.4))


@pytest.fixture(scope="module")
def plan(body):
    return plan_sequence(synthetic.ladder(), body, START)


@pytest.fixture(scope="module")
def poses(plan, body):
    torch.manual_seed(0)
    return solve_key_poses(plan, body, synthetic.ladder(), device="cpu", iterations=ITERATIONS)


def work(landmarks: np.ndarray) -> np.ndarray:
    points = landmarks[..., :2].astype(np.float64).copy()
    points[..., 0] *= synthetic.ASPECT
    return points


def test_output_is_complete_skeleton_landmarks(poses, plan):
    assert len(poses) == len(plan.states)
    assert poses.landmarks.shape == (len(plan.states), 33, 4)
    assert poses.landmarks.dtype == np.float32
    assert np.all(np.isfinite(poses.landmarks))
    assert np.all(poses.landmarks[..., 3] == 1.0)
    assert poses.states == plan.states
    assert poses.device == "cpu"


def test_assigned_limbs_are_on_their_holds(poses, plan, body):
    where = hold_positions(synthetic.ladder(), body.aspect)
    points = work(poses.landmarks)
    tolerance = 0.1 * body.forearm
    for k, state in enumerate(plan.states):
        for limb in Limb:
            contact = points[k, [int(i) for i in limb.contact_landmarks]].mean(axis=0)
            assert np.linalg.norm(contact - where[state[limb]]) < tolerance, (k, limb)
    assert np.nanmax(poses.contact_error) < tolerance


def test_segment_lengths_are_kept(poses, body):
    points = work(poses.landmarks)

    def length(a, b):
        return np.linalg.norm(points[:, a] - points[:, b], axis=-1)

    for (shoulder, elbow, wrist), (hip, knee, ankle) in zip(ARMS, LEGS, strict=True):
        np.testing.assert_allclose(length(shoulder, elbow), body.upper_arm, rtol=0.02)
        np.testing.assert_allclose(length(elbow, wrist), body.forearm, rtol=0.02)
        np.testing.assert_allclose(length(hip, knee), body.thigh, rtol=0.02)
        np.testing.assert_allclose(length(knee, ankle), body.shin, rtol=0.02)
    np.testing.assert_allclose(
        length(L.LEFT_SHOULDER, L.RIGHT_SHOULDER), body.shoulder_width, rtol=0.02
    )
    np.testing.assert_allclose(length(L.LEFT_HIP, L.RIGHT_HIP), body.hip_width, rtol=0.02)
    torso = np.linalg.norm(
        points[:, [L.LEFT_SHOULDER, L.RIGHT_SHOULDER]].mean(1)
        - points[:, [L.LEFT_HIP, L.RIGHT_HIP]].mean(1),
        axis=-1,
    )
    np.testing.assert_allclose(torso, body.torso, rtol=0.02)


def _outward_offset(points, root, middle, end, side):
    """Signed distance of the middle joint from the root-end line, positive towards the climber's
    outside (left limbs: image left), measured horizontally at the joint's height."""
    r, m, e = points[:, root], points[:, middle], points[:, end]
    t = (m[:, 1] - r[:, 1]) / (e[:, 1] - r[:, 1])
    line_x = r[:, 0] + t * (e[:, 0] - r[:, 0])
    return side * (m[:, 0] - line_x), (t > 0) & (t < 1)


def test_elbows_and_knees_never_bend_backwards(poses, body):
    points = work(poses.landmarks)
    slack = 0.02 * body.upper_arm
    checked = 0
    for side, arm, leg in ((-1, ARMS[0], LEGS[0]), (1, ARMS[1], LEGS[1])):
        for chain in (arm, leg):
            offset, spanning = _outward_offset(points, *chain, side)
            # Where the limb runs mostly up or down, its joint must be on the outside.
            vertical = np.abs(points[:, chain[2], 1] - points[:, chain[0], 1]) > np.abs(
                points[:, chain[2], 0] - points[:, chain[0], 0]
            )
            mask = spanning & vertical
            checked += int(mask.sum())
            assert np.all(offset[mask] > -slack)
    assert checked >= len(poses)  # the test looked at real limbs, not an empty set
    for chain in (*ARMS, *LEGS):
        upper = points[:, chain[0]] - points[:, chain[1]]
        lower = points[:, chain[2]] - points[:, chain[1]]
        cos = (
            np.sum(upper * lower, -1)
            / np.linalg.norm(upper, axis=-1)
            / np.linalg.norm(lower, axis=-1)
        )
        assert np.all(np.degrees(np.arccos(np.clip(cos, -1, 1))) > 28.0)


def test_explicit_states_solve_without_a_plan(plan, body):
    states = plan.states[:3]
    poses = solve_key_poses(
        states, body, synthetic.ladder(), device=torch.device("cpu"), iterations=40
    )
    assert poses.landmarks.shape == (3, 33, 4)
    assert np.nanmax(poses.contact_error) < 0.1 * body.forearm


def test_batched_solution_matches_solving_alone(plan, body, poses):
    """One tensor problem: a pose's solution depends on its neighbours only through smoothness."""
    single = solve_key_poses(plan.states[:1], body, synthetic.ladder(), iterations=ITERATIONS)
    assert np.nanmax(single.contact_error) < 0.1 * body.forearm
    np.testing.assert_allclose(single.landmarks[0, :, :2], poses.landmarks[0, :, :2], atol=0.02)


def test_unknown_hold_is_a_clear_error(body):
    with pytest.raises(GhostInputError, match="'nowhere'"):
        solve_key_poses([{Limb.LEFT_HAND: "nowhere"}], body, synthetic.ladder(), iterations=1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_agrees_with_cpu(plan, body, poses):
    on_gpu = solve_key_poses(plan, body, synthetic.ladder(), device="cuda", iterations=ITERATIONS)
    assert on_gpu.device.startswith("cuda")
    np.testing.assert_allclose(on_gpu.landmarks, poses.landmarks, atol=5e-3)
