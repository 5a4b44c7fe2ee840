import numpy as np
import pytest

from engines.ghost import (
    body_model,
    ghost_timeline,
    key_times,
    minimum_jerk,
    plan_sequence,
    solve_key_poses,
)
from engines.ghost.geometry import hold_positions
from engines.limbs import Limb
from engines.pose.timeline import FrameQuality, SkeletonTimeline
from engines.pose.timeline import Landmark as L
from tests.engines.ghost import synthetic

pytestmark = pytest.mark.unit

START = {Limb.LEFT_HAND: "L4", Limb.RIGHT_HAND: "R4", Limb.LEFT_FOOT: "L0", Limb.RIGHT_FOOT: "R0"}


@pytest.fixture(scope="module")
def solved():
    body = body_model(synthetic.climber(stature=0.4))
    plan = plan_sequence(synthetic.ladder(rows=6), body, START)
    poses = solve_key_poses(plan, body, synthetic.ladder(rows=6), iterations=60)
    return plan, poses


def ghost(poses, times, stamps):
    return ghost_timeline(poses, times, stamps, synthetic.WIDTH, synthetic.HEIGHT, 30.0)


def work(landmarks):
    points = landmarks[..., :2].astype(np.float64).copy()
    points[..., 0] *= synthetic.ASPECT
    return points


def test_minimum_jerk_profile():
    s = np.linspace(0, 1, 101)
    blend = minimum_jerk(s)
    assert blend[0] == 0.0 and blend[-1] == 1.0
    assert np.all(np.diff(blend) >= 0)
    assert blend[50] == pytest.approx(0.5)
    h = 1e-4
    assert minimum_jerk(np.array([h]))[0] / h < 1e-6  # flat start
    assert (1 - minimum_jerk(np.array([1 - h]))[0]) / h < 1e-6  # flat end
    np.testing.assert_allclose(minimum_jerk(np.array([-1.0, 2.0])), [0.0, 1.0])


def test_key_times_spread_moves_over_the_climb(solved):
    plan, _ = solved
    times = key_times(plan, 12.0, start_s=2.0)
    assert times.shape == (len(plan.states),)
    assert times[0] == 2.0 and times[-1] == pytest.approx(14.0)
    assert np.all(np.diff(times) > 0)
    # Longer moves get more time: durations follow 1 + reach fraction.
    durations = np.diff(times)
    weights = np.array([1 + m.reach_fraction for m in plan.moves])
    np.testing.assert_allclose(durations / durations.sum(), weights / weights.sum())


def test_timeline_is_on_the_videos_own_timestamps(solved):
    _, poses = solved
    stamps = np.cumsum(np.r_[0.0, np.full(299, 1 / 30) + np.tile([0.0, 0.004], 150)[:299]])
    times = np.linspace(0.5, 9.0, len(poses))
    timeline = ghost(poses, times, stamps)

    assert isinstance(timeline, SkeletonTimeline)
    np.testing.assert_array_equal(timeline.timestamps_s, stamps)
    assert timeline.landmarks.shape == (300, 33, 4)
    assert np.all(timeline.quality == FrameQuality.DETECTED)
    assert np.all(np.isfinite(timeline.landmarks))
    assert (timeline.frame_width, timeline.frame_height, timeline.source_fps) == (720, 1280, 30.0)
    again = SkeletonTimeline.from_bytes(timeline.to_bytes())
    np.testing.assert_array_equal(again.landmarks, timeline.landmarks)
    # Before the first key time and after the last the ghost holds still in its key pose.
    np.testing.assert_allclose(timeline.landmarks[0], poses.landmarks[0], atol=1e-5)
    np.testing.assert_allclose(timeline.landmarks[-1], poses.landmarks[-1], atol=1e-5)


def test_key_poses_are_hit_exactly_with_zero_velocity(solved):
    _, poses = solved
    times = np.linspace(0.0, 8.0, len(poses))
    at_keys = ghost(poses, times, times)
    np.testing.assert_allclose(at_keys.landmarks, poses.landmarks, atol=1e-5)

    h = 1e-3
    inner = times[1:-1]
    around = ghost(poses, times, np.sort(np.r_[inner - h, inner + h, inner]))
    points = work(around.landmarks).reshape(len(inner), 3, 33, 2)
    speed_at_key = np.abs(points[:, 2] - points[:, 0]).max() / (2 * h)
    middles = (times[:-1] + times[1:]) / 2
    mid = ghost(poses, times, np.sort(np.r_[middles - h, middles + h])).landmarks
    mid_points = work(mid).reshape(len(middles), 2, 33, 2)
    speed_mid_move = np.abs(mid_points[:, 1] - mid_points[:, 0]).max() / (2 * h)
    assert speed_mid_move > 0.02  # the ghost does move between key poses
    assert speed_at_key < 1e-3 * speed_mid_move


def test_segments_keep_length_and_held_holds_stay_held(solved):
    plan, poses = solved
    body = poses.body
    times = np.linspace(0.0, 6.0, len(poses))
    stamps = np.arange(0.0, 6.0, 1 / 60)
    points = work(ghost(poses, times, stamps).landmarks)
    for a, b, length in (
        (L.LEFT_SHOULDER, L.LEFT_ELBOW, body.upper_arm),
        (L.RIGHT_ELBOW, L.RIGHT_WRIST, body.forearm),
        (L.LEFT_HIP, L.LEFT_KNEE, body.thigh),
        (L.RIGHT_KNEE, L.RIGHT_ANKLE, body.shin),
    ):
        np.testing.assert_allclose(
            np.linalg.norm(points[:, a] - points[:, b], axis=-1), length, rtol=1e-3
        )

    where = hold_positions(synthetic.ladder(rows=6), body.aspect)
    segment = np.clip(np.searchsorted(times, stamps, side="right") - 1, 0, len(times) - 2)
    for f, k in enumerate(segment):
        for limb in Limb:
            hold = plan.states[k][limb]
            if hold is not None and hold == plan.states[k + 1][limb]:
                contact = points[f, [int(i) for i in limb.contact_landmarks]].mean(axis=0)
                assert np.linalg.norm(contact - where[hold]) < 0.1 * body.forearm


def test_a_single_key_pose_is_held_throughout(solved):
    _, poses = solved
    single = type(poses)(
        landmarks=poses.landmarks[:1],
        params=poses.params[:1],
        states=poses.states[:1],
        contact_error=poses.contact_error[:1],
        loss=poses.loss[:1],
        body=poses.body,
        device=poses.device,
    )
    timeline = ghost(single, np.array([1.0]), np.arange(5) / 30)
    np.testing.assert_allclose(timeline.landmarks, np.repeat(poses.landmarks[:1], 5, 0), atol=1e-5)


def test_key_times_must_increase(solved):
    _, poses = solved
    with pytest.raises(ValueError, match="increasing"):
        ghost(poses, np.zeros(len(poses)), np.arange(3) / 30)
