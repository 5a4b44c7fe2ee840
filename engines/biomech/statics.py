"""Static model of the climber on the holds: weight distribution and contact forces.

The model, in two planes (forces in body weights, BW):

*Wall plane* (what the camera sees). Gravity points down the image (the phone is held upright).
The limbs on holds carry vertical loads ``f_i >= 0`` with ``sum f_i = 1`` and, for rotational
balance, ``sum f_i x_i = x_cog``. With three or four contacts that is statically indeterminate;
we take the minimum-effort solution, minimising ``sum f_i**2 / c_i`` where the capacity ``c_i``
is `FOOT_CAPACITY` for feet and `HAND_CAPACITY` for hands: the load-sharing criterion of static
optimisation (Crowninshield & Brand, *J. Biomechanics* 14:793, 1981), weighted because legs carry
body weight far more cheaply than fingers. When the CoG lies outside the horizontal span of the
contacts no non-negative loads balance it: all weight goes to the contact nearest the CoG's
vertical (shared by capacity among contacts within `TIE_CM` of it, e.g. a hand right above a
foot), and the leftover moment ``|x_cog - x_nearest|`` (BW·cm) is what the grips must resist by
twisting — the barn-door moment.

*Sagittal plane* (depth, from the hip-to-wall proxy). With feet and hands on the wall and the CoG
at depth ``d`` from it, moments about the feet give the hands an outward pull
``P = d / h`` BW, ``h`` the height of the (load-weighted) hands above the feet, and the wall
pushes the feet with the same ``P``. Contact force per limb = ``hypot(f_i, p_i)``: for a hand this
is the tension along the arm; for a foot, the compression along the leg.

*Base of support*: the convex hull of the contact points (`support_area`), and the CoG's
horizontal margin inside the contacts' span (`support_margin`).
"""

from __future__ import annotations

from itertools import combinations
from typing import Final

import numpy as np

#: Relative load capacity in the minimum-effort criterion (columns follow `engines.limbs.Limb`).
HAND_CAPACITY: Final = 1.0
FOOT_CAPACITY: Final = 2.0
CAPACITY: Final = np.array([HAND_CAPACITY, HAND_CAPACITY, FOOT_CAPACITY, FOOT_CAPACITY])
HAND_COLUMNS: Final = np.array([True, True, False, False])
#: Floor on the hands-above-feet lever, in cm, so hands level with feet do not give an infinite
#: pull (the body then leans on its arms, which the model cannot resolve anyway).
MIN_LEVER_CM: Final = 20.0
#: Contacts this close horizontally count as one vertical line when the CoG is outside them.
TIE_CM: Final = 2.0


def vertical_loads(
    x: np.ndarray, contact: np.ndarray, cog_x: np.ndarray, *, tie: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-effort vertical loads on the limbs in contact.

    Args:
        x: ``(T, 4)`` horizontal position of each limb's contact point (any length unit).
        contact: ``(T, 4)`` bool, limb on a hold.
        cog_x: ``(T,)`` horizontal position of the CoG, same unit.
        tie: contacts within this distance of the nearest one share the load when the CoG is
            outside the contacts' span (same unit; `TIE_CM` in cm).

    Returns:
        ``(loads, unbalanced)``: loads ``(T, 4)`` in BW, summing to 1 over a frame's contacts and
        0 on limbs not in contact (and on frames with no contact or no CoG); unbalanced ``(T,)``,
        the moment arm left over (same unit as ``x``; 0 when balanced, NaN without contacts).
    """
    frames = x.shape[0]
    x = np.where(contact, x, 0.0)
    valid = contact.any(axis=1) & np.isfinite(cog_x) & np.isfinite(x).all(axis=1)
    cog = np.where(valid, cog_x, 0.0)
    loads = np.zeros((frames, 4))
    best = np.full(frames, np.inf)
    # Every active set of two or more contacts: the constrained optimum has one of them as its
    # support, and equality-constrained optima on a subset are closed-form, so 11 vectorised
    # solves replace a per-frame QP.
    for size in (2, 3, 4):
        for subset in combinations(range(4), size):
            chosen = np.zeros(4, dtype=bool)
            chosen[list(subset)] = True
            usable = valid & contact[:, chosen].all(axis=1)
            if not usable.any():
                continue
            c = np.where(chosen, CAPACITY, 0.0)
            s0 = c.sum()
            s1 = (c * x).sum(axis=1)
            s2 = (c * x * x).sum(axis=1)
            det = s0 * s2 - s1 * s1
            # Contacts on one vertical line cannot balance a moment: treat as degenerate.
            usable &= det > s0 * s0 * 1e-6
            det = np.where(usable, det, 1.0)
            lam = (s2 - s1 * cog) / det
            mu = (s0 * cog - s1) / det
            f = c * (lam[:, None] + mu[:, None] * x)
            usable &= (f[:, chosen] >= -1e-9).all(axis=1)
            cost = (f[:, chosen] ** 2 / CAPACITY[chosen]).sum(axis=1)
            better = usable & (cost < best)
            best[better] = cost[better]
            loads[better] = np.clip(f[better], 0.0, None)

    unbalanced = np.where(valid, 0.0, np.nan)
    fallback = valid & ~np.isfinite(best)
    if fallback.any():
        # The CoG is outside the contacts' span (or one contact): the nearest contacts take it all.
        gap = np.where(contact, np.abs(x - cog[:, None]), np.inf)[fallback]
        nearest = gap <= gap.min(axis=1, keepdims=True) + max(tie, 1e-9)
        share = np.where(nearest, CAPACITY, 0.0)
        loads[fallback] = share / share.sum(axis=1, keepdims=True)
        unbalanced[fallback] = gap.min(axis=1)
    return loads, unbalanced


def wall_pull(
    y_cm: np.ndarray, contact: np.ndarray, loads: np.ndarray, cog_depth_cm: np.ndarray
) -> np.ndarray:
    """Horizontal (wall-normal) force per limb from the sagittal moment balance.

    Args:
        y_cm: ``(T, 4)`` height of each contact point, cm, increasing upwards.
        contact: ``(T, 4)`` bool.
        loads: ``(T, 4)`` vertical loads from `vertical_loads`.
        cog_depth_cm: ``(T,)`` distance of the CoG from the wall (NaN when unknown: no pull).

    Returns:
        ``(T, 4)`` pull in BW: hands pulled off the wall, feet pushed into it; 0 unless at least
        one hand and one foot are on holds.
    """
    hands = contact & HAND_COLUMNS
    feet = contact & ~HAND_COLUMNS
    both = hands.any(axis=1) & feet.any(axis=1) & np.isfinite(cog_depth_cm)

    def share(mask: np.ndarray) -> np.ndarray:
        # Split between the limbs of a group by their vertical load (evenly if none carries any).
        weight = np.where(mask, loads, 0.0)
        total = weight.sum(axis=1, keepdims=True)
        even = mask / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return np.where(total > 1e-9, weight / np.where(total > 1e-9, total, 1.0), even)

    hand_share, foot_share = share(hands), share(feet)
    y = np.nan_to_num(y_cm)
    lever = (hand_share * y).sum(axis=1) - (foot_share * y).sum(axis=1)
    lever = np.maximum(np.abs(lever), MIN_LEVER_CM)
    pull = np.where(both, np.nan_to_num(cog_depth_cm) / lever, 0.0)
    return pull[:, None] * (hand_share + foot_share)


def support_margin(x: np.ndarray, contact: np.ndarray, cog_x: np.ndarray) -> np.ndarray:
    """Signed horizontal distance from the CoG's vertical to the edge of the contacts' span.

    Args:
        x: ``(T, 4)`` horizontal contact positions.
        contact: ``(T, 4)`` bool.
        cog_x: ``(T,)``.

    Returns:
        ``(T,)`` positive inside the span (how far the CoG could shift before tipping), negative
        outside it, same unit as ``x``; NaN without contacts.
    """
    left = np.where(contact, x, np.inf).min(axis=1)
    right = np.where(contact, x, -np.inf).max(axis=1)
    margin = np.minimum(cog_x - left, right - cog_x)
    return np.where(contact.any(axis=1), margin, np.nan)


def support_area(points: np.ndarray, contact: np.ndarray) -> np.ndarray:
    """Area of the base of support: the convex hull of the contact points.

    With at most four points the hull is either one of the four triangles or one of the three
    quadrilaterals through all of them, and its area is the largest of those areas (a point
    inside the others' triangle, or a self-crossing ordering, only ever gives less).

    Args:
        points: ``(T, 4, 2)`` contact points.
        contact: ``(T, 4)`` bool.

    Returns:
        ``(T,)`` area in squared units of ``points``; 0 with fewer than three contacts.
    """
    held = np.where(contact[..., None], points, np.nan)

    def shoelace(order: tuple[int, ...]) -> np.ndarray:
        ring = held[:, list(order)]
        x, y = ring[..., 0], ring[..., 1]
        return np.abs((x * np.roll(y, -1, axis=1) - np.roll(x, -1, axis=1) * y).sum(axis=1)) / 2

    shapes = [*combinations(range(4), 3), (0, 1, 2, 3), (0, 1, 3, 2), (0, 2, 1, 3)]
    areas = np.stack([shoelace(order) for order in shapes], axis=1)
    return np.where(np.isfinite(areas), areas, 0.0).max(axis=1)
