"""The static model: vertical loads over the contacts, wall pull, support margin."""

from __future__ import annotations

import numpy as np
import pytest

from engines.biomech import support_area, support_margin, vertical_loads, wall_pull
from engines.biomech.statics import FOOT_CAPACITY, HAND_CAPACITY

pytestmark = pytest.mark.unit

# Columns: left hand, right hand, left foot, right foot.
X = np.array([[-30.0, 30.0, -20.0, 20.0]])
ALL = np.array([[True, True, True, True]])


def test_loads_sum_to_one_and_balance_the_cog_over_many_frames() -> None:
    rng = np.random.default_rng(7)
    frames = 500
    x = rng.uniform(-50, 50, size=(frames, 4))
    contact = rng.random((frames, 4)) < 0.7
    cog = rng.uniform(-40, 40, size=frames)

    loads, unbalanced = vertical_loads(x, contact, cog)

    any_contact = contact.any(axis=1)
    np.testing.assert_allclose(loads[any_contact].sum(axis=1), 1.0, atol=1e-9)
    assert (loads >= 0).all()
    assert (loads[~contact] == 0).all()
    assert np.isnan(unbalanced[~any_contact]).all()
    balanced = any_contact & (unbalanced == 0)
    np.testing.assert_allclose((loads * x).sum(axis=1)[balanced], cog[balanced], atol=1e-6)
    # Unbalanced exactly when the CoG is outside the contacts' span (or one contact).
    inside = np.array(
        [c.sum() >= 2 and x[i, c].min() < cog[i] < x[i, c].max() for i, c in enumerate(contact)]
    )
    assert (unbalanced[any_contact] == 0).tolist() == inside[any_contact].tolist()


def test_symmetric_stance_loads_feet_more_than_hands() -> None:
    loads, unbalanced = vertical_loads(X, ALL, np.array([0.0]))

    assert unbalanced[0] == 0
    assert loads[0, 0] == pytest.approx(loads[0, 1])
    assert loads[0, 2] == pytest.approx(loads[0, 3])
    assert loads[0, 2] / loads[0, 0] == pytest.approx(FOOT_CAPACITY / HAND_CAPACITY, rel=1e-6)


def test_cog_above_one_foot_puts_the_weight_on_it() -> None:
    feet = np.array([[False, False, True, True]])

    loads, _ = vertical_loads(X, feet, np.array([20.0]))

    np.testing.assert_allclose(loads[0], [0.0, 0.0, 0.0, 1.0], atol=1e-9)


def test_two_feet_share_by_the_lever_rule() -> None:
    feet = np.array([[False, False, True, True]])

    loads, _ = vertical_loads(X, feet, np.array([10.0]))

    # Lever rule: 10 from the right foot, 30 from the left → 1/4 left, 3/4 right.
    np.testing.assert_allclose(loads[0, 2:], [0.25, 0.75], atol=1e-9)


def test_cog_outside_the_contacts_is_a_barn_door_moment() -> None:
    right_side = np.array([[False, True, False, True]])

    loads, unbalanced = vertical_loads(X, right_side, np.array([-15.0]))

    # The nearest contact (right foot, x=20) takes it all; 35 units of lever are left over.
    np.testing.assert_allclose(loads[0], [0.0, 0.0, 0.0, 1.0])
    assert unbalanced[0] == pytest.approx(35.0)


def test_a_hand_above_a_foot_shares_the_load_when_tied() -> None:
    x = np.array([[0.0, 50.0, 0.0, 50.5]])
    right_side = np.array([[False, True, False, True]])

    loads, unbalanced = vertical_loads(x, right_side, np.array([20.0]), tie=1.0)

    assert unbalanced[0] == pytest.approx(30.0)
    assert loads[0, 1] == pytest.approx(HAND_CAPACITY / (HAND_CAPACITY + FOOT_CAPACITY))
    assert loads[0, 3] == pytest.approx(FOOT_CAPACITY / (HAND_CAPACITY + FOOT_CAPACITY))


def test_hanging_from_one_hand_puts_all_weight_on_it() -> None:
    one_hand = np.array([[True, False, False, False]])

    loads, unbalanced = vertical_loads(X, one_hand, np.array([-30.0]))

    np.testing.assert_allclose(loads[0], [1.0, 0.0, 0.0, 0.0])
    assert unbalanced[0] == 0.0


def test_wall_pull_grows_with_hip_depth_and_needs_hands_and_feet() -> None:
    y = np.array([[180.0, 180.0, 60.0, 60.0]])
    loads, _ = vertical_loads(X, ALL, np.array([0.0]))

    near = wall_pull(y, ALL, loads, np.array([10.0]))
    far = wall_pull(y, ALL, loads, np.array([40.0]))
    feet_only = wall_pull(y, np.array([[False, False, True, True]]), loads, np.array([40.0]))

    # Moments about the feet: 40 cm of depth over a 120 cm lever = 1/3 BW pulling the hands.
    assert far[0, :2].sum() == pytest.approx(40.0 / 120.0)
    assert far[0, 2:].sum() == pytest.approx(40.0 / 120.0)
    assert near[0, :2].sum() == pytest.approx(far[0, :2].sum() / 4)
    assert (feet_only == 0).all()


def test_support_margin_is_positive_inside_negative_outside() -> None:
    margins = support_margin(
        np.repeat(X, 3, axis=0), np.repeat(ALL, 3, axis=0), np.array([0.0, 25.0, 45.0])
    )

    np.testing.assert_allclose(margins, [30.0, 5.0, -15.0])


def test_base_of_support_is_the_hull_of_the_contacts() -> None:
    square = np.array([[[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]]])
    inner = np.array([[[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [2.0, 2.0]]])
    three = np.array([[True, True, True, False]])

    assert support_area(square, ALL)[0] == pytest.approx(100.0)
    assert support_area(inner, ALL)[0] == pytest.approx(50.0)
    assert support_area(square, three)[0] == pytest.approx(50.0)
    assert support_area(square, np.array([[True, True, False, False]]))[0] == 0.0
