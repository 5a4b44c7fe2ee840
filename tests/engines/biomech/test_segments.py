"""Joint angles and the de Leva centre of gravity."""

from __future__ import annotations

import numpy as np
import pytest

from engines.biomech import COG_WEIGHTS, JOINT_NAMES, centre_of_gravity, joint_angles
from engines.biomech.body import pixel_points
from engines.biomech.segments import DE_LEVA_SEGMENTS
from engines.pose import Landmark
from tests.utils.skeletons import Pose, Scene, elbow_angle, still

pytestmark = pytest.mark.unit

SYMMETRIC = Pose(
    hips=(135.0, 120.0),
    left_hand=(95.0, 200.0),
    right_hand=(175.0, 200.0),
    left_foot=(110.0, 60.0),
    right_foot=(160.0, 60.0),
)


def _arm(shoulder: tuple[float, float], elbow: tuple[float, float], wrist: tuple[float, float]):
    points = np.zeros((1, 33, 2))
    points[0, Landmark.LEFT_SHOULDER] = shoulder
    points[0, Landmark.LEFT_ELBOW] = elbow
    points[0, Landmark.LEFT_WRIST] = wrist
    return points


@pytest.mark.parametrize(
    ("wrist", "expected"),
    [((0.0, 200.0), 180.0), ((100.0, 100.0), 90.0), ((50.0 * 3**0.5, 50.0), 60.0)],
)
def test_elbow_angle_of_known_arms(wrist: tuple[float, float], expected: float) -> None:
    points = _arm(shoulder=(0.0, 0.0), elbow=(0.0, 100.0), wrist=wrist)

    angles = joint_angles(points)

    assert angles[0, JOINT_NAMES.index("left_elbow")] == pytest.approx(expected, abs=1e-6)


def test_angles_are_measured_on_pixels_not_normalised_coordinates() -> None:
    # A right angle on a 1920 x 1080 frame: in normalised units it would look skewed.
    scene = Scene(frame_width=1920, frame_height=1080)
    timeline = still(SYMMETRIC.moved(hips=(135.0, 128.0)), 0.2, scene=scene)
    expected = elbow_angle(SYMMETRIC.moved(hips=(135.0, 128.0)))

    measured = joint_angles(pixel_points(timeline))[0, JOINT_NAMES.index("left_elbow")]
    naive = joint_angles(timeline.landmarks[:, :, :2].astype(np.float64))[0, 0]

    assert measured == pytest.approx(expected, abs=0.1)
    assert abs(naive - expected) > 2.0


def test_straight_standing_legs_read_180_degrees_at_the_knee() -> None:
    points = np.zeros((1, 33, 2))
    for index, y in ((Landmark.RIGHT_HIP, 0.0), (Landmark.RIGHT_KNEE, 40.0)):
        points[0, index] = (10.0, y)
    points[0, Landmark.RIGHT_ANKLE] = (10.0, 85.0)

    knee = joint_angles(points)[0, JOINT_NAMES.index("right_knee")]

    assert knee == pytest.approx(180.0)


def test_missing_pose_gives_nan_angles() -> None:
    angles = joint_angles(np.full((2, 33, 2), np.nan))

    assert np.isnan(angles).all()


def test_de_leva_masses_sum_to_one_body() -> None:
    assert sum(mass for *_, mass in DE_LEVA_SEGMENTS) == pytest.approx(1.0, abs=1e-4)
    assert COG_WEIGHTS.sum() == pytest.approx(1.0)
    assert (COG_WEIGHTS >= 0).all()


def test_cog_of_a_symmetric_pose_lies_on_its_axis() -> None:
    scene = Scene()
    timeline = still(SYMMETRIC, 0.2, scene=scene)

    cog = centre_of_gravity(pixel_points(timeline))

    axis_px = SYMMETRIC.hips[0] * scene.px_per_cm
    np.testing.assert_allclose(cog[:, 0], axis_px, atol=1e-3)


def test_cog_follows_the_limbs() -> None:
    # Raising the arms raises the CoG; swinging a leg sideways moves it that way.
    scene = Scene()
    low_arms = SYMMETRIC.moved(left_hand=(110.0, 150.0), right_hand=(160.0, 150.0))
    leg_out = SYMMETRIC.moved(right_foot=(215.0, 90.0))

    def cog(pose: Pose) -> np.ndarray:
        return centre_of_gravity(pixel_points(still(pose, 0.1, scene=scene)))[0]

    assert cog(SYMMETRIC)[1] < cog(low_arms)[1]  # image y grows downwards
    assert cog(leg_out)[0] > cog(SYMMETRIC)[0] + 2.0 * scene.px_per_cm


def test_cog_of_a_standing_body_is_near_hip_height() -> None:
    # Textbook: standing CoG at ~55 % of stature; hip joints at ~53 % (Drillis & Contini).
    scene = Scene()
    standing = Pose(
        hips=(135.0, 0.530 * 175.0 + 4.0),
        left_hand=(112.0, 100.0),
        right_hand=(158.0, 100.0),
        left_foot=(127.0, 8.0),
        right_foot=(143.0, 8.0),
        hip_depth=24.0,
    )
    timeline = still(standing, 0.1, scene=scene)

    cog_y_cm = (1.0 - centre_of_gravity(pixel_points(timeline))[0, 1] / scene.frame_height) * (
        scene.frame_height / scene.px_per_cm
    )

    assert 0.5 * 175.0 < cog_y_cm < 0.65 * 175.0
