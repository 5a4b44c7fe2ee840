"""Does a torso fit between these holds? The planner's reach test, vectorised over states.

A state puts some limbs on holds. The torso is rigid (shoulder and hip widths, trunk length) and
may lean a little; each limb reaches from its shoulder or hip up to the limb's reach. For a fixed
lean every limb confines the pelvis to a disc (hold minus the limb's anchor offset, radius = reach),
so the state is feasible when the discs intersect. Scaling every radius by ``s`` and bisecting on
``s`` gives the *stretch*: the smallest fraction of full reach at which the body still fits (0 =
relaxed, 1 = every limb at its limit). Disc intersection is tested exactly: a non-empty
intersection of discs contains a disc centre or a pairwise boundary crossing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engines.ghost.body import BodyModel
from schema.holds import HoldMap

#: Leans of the torso from vertical the planner tries, radians.
LEANS = np.deg2rad([-20.0, 0.0, 20.0])
#: Stretch to 1/1024 of full reach: far finer than the cost it feeds can tell apart.
_BISECTIONS = 10
_FIRST, _SECOND = np.triu_indices(4, k=1)


def hold_positions(hold_map: HoldMap, aspect: float) -> dict[str, np.ndarray]:
    """Hold centres in work units, keyed by id.

    The hold map is taken to share the video's framing (the app films from where the wall photo
    was taken), so normalised hold coordinates are normalised frame coordinates.
    """
    return {h.id: np.array([h.x * aspect, h.y], dtype=np.float64) for h in hold_map.holds}


def up_and_lateral(lean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Torso up axis and climber's-right axis for a lean (0 = upright; image y points down)."""
    up = np.stack([np.sin(lean), -np.cos(lean)], axis=-1)
    lateral = np.stack([np.cos(lean), np.sin(lean)], axis=-1)
    return up, lateral


def anchor_offsets(body: BodyModel, lean: np.ndarray) -> np.ndarray:
    """``(..., 4, 2)`` shoulder and hip joints relative to the pelvis centre, in Limb order."""
    up, lateral = up_and_lateral(np.asarray(lean, dtype=np.float64))
    up, lateral = up[..., None, :], lateral[..., None, :]
    side = np.array([-0.5, 0.5, -0.5, 0.5])[:, None]
    width = np.array([body.shoulder_width] * 2 + [body.hip_width] * 2)[:, None]
    height = np.array([body.torso, body.torso, 0.0, 0.0])[:, None]
    return up * height + lateral * side * width


@dataclass
class TorsoFit:
    """Best torso placement per state.

    Attributes:
        stretch: ``(N,)`` fraction of full reach needed, 0..1; ``inf`` where the body cannot fit.
        pelvis: ``(N, 2)`` pelvis centre at that stretch (work units); NaN where it cannot fit.
        lean: ``(N,)`` torso lean, radians.
    """

    stretch: np.ndarray
    pelvis: np.ndarray
    lean: np.ndarray

    @property
    def feasible(self) -> np.ndarray:
        return np.isfinite(self.stretch)


def fit_torso(targets: np.ndarray, assigned: np.ndarray, body: BodyModel) -> TorsoFit:
    """Least stretch at which a torso fits each state.

    Args:
        targets: ``(N, 4, 2)`` hold position per limb (work units); ignored where not assigned.
        assigned: ``(N, 4)`` bool, limbs on a hold.
        body: the climber.

    Returns:
        The `TorsoFit` of each state; a state with no limb on a hold fits with stretch 0 and a
        NaN pelvis (nothing pins it: the caller places it).
    """
    targets = np.nan_to_num(np.asarray(targets, dtype=np.float64))
    assigned = np.asarray(assigned, dtype=bool)
    count, leans = targets.shape[0], len(LEANS)
    # One row per (state, lean).
    centres = (targets[:, None] - anchor_offsets(body, LEANS)[None]).reshape(-1, 4, 2)
    mask = np.repeat(assigned, leans, axis=0)
    radii = body.limb_reach

    feasible, witness = _discs_meet(centres, mask, radii)
    stretch = np.where(feasible, 1.0, np.inf)
    pelvis = np.where(feasible[:, None], witness, np.nan)
    rows = np.flatnonzero(feasible)
    if rows.size:
        stretch[rows], pelvis[rows] = _least_stretch(centres[rows], mask[rows], radii)
    stretch, pelvis = stretch.reshape(count, leans), pelvis.reshape(count, leans, 2)
    # Leaning costs a little: among near-equal fits prefer the upright torso.
    choice = np.argmin(stretch + 0.05 * np.abs(LEANS)[None], axis=1)
    index = np.arange(count)
    best, where = stretch[index, choice], pelvis[index, choice]
    free = ~assigned.any(axis=1)
    best[free], where[free] = 0.0, np.nan
    return TorsoFit(best, where, np.where(free, 0.0, LEANS[choice]))


def _least_stretch(
    centres: np.ndarray, mask: np.ndarray, radii: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Smallest radius scale at which feasible disc sets ``(M, 4, ...)`` still meet, and where.

    Any two discs must meet, so the largest pairwise ``distance / (r_i + r_j)`` bounds the scale
    from below; when the weighted midpoint of that pair lies in every disc the bound is the
    answer (two limbs at their limit set the stretch, the usual case). Otherwise bisect between
    the bound and 1.
    """
    ri, rj = radii[_FIRST], radii[_SECOND]
    gap = centres[:, _SECOND] - centres[:, _FIRST]
    pair = np.hypot(gap[..., 0], gap[..., 1]) / (ri + rj)
    pair = np.where(mask[:, _FIRST] & mask[:, _SECOND], pair, -1.0)
    worst = np.argmax(pair, axis=1)
    rows = np.arange(len(centres))
    low = np.maximum(pair[rows, worst], 0.0)
    share = (ri / (ri + rj))[worst][:, None]
    point = centres[rows, _FIRST[worst]] + gap[rows, worst] * share
    single = pair[rows, worst] < 0  # one disc: its centre, no stretch at all
    point[single] = centres[rows[single], np.argmax(mask[single], axis=1)]
    reach = np.hypot(*np.moveaxis(centres - point[:, None], -1, 0)) / radii
    exact = np.all((reach <= low[:, None] * (1 + 1e-9) + 1e-12) | ~mask, axis=1)

    todo = np.flatnonzero(~exact)
    if todo.size:
        sub_centres, sub_mask = centres[todo], mask[todo]
        bottom, top = low[todo], np.ones(todo.size)
        found = _discs_meet(sub_centres, sub_mask, radii)[1]
        for _ in range(_BISECTIONS):
            mid = (bottom + top) / 2
            ok, at = _discs_meet(sub_centres, sub_mask, radii * mid[:, None])
            top, bottom = np.where(ok, mid, top), np.where(ok, bottom, mid)
            found = np.where(ok[:, None], at, found)
        low[todo], point[todo] = top, found
    return low, point


def _discs_meet(
    centres: np.ndarray, mask: np.ndarray, radii: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Whether the assigned discs share a point, and one such point.

    Args:
        centres: ``(M, 4, 2)``.
        mask: ``(M, 4)`` discs that count.
        radii: ``(4,)`` or ``(M, 4)``.

    Returns:
        ``(M,)`` bool and ``(M, 2)`` a common point (arbitrary where none).
    """
    radii = np.broadcast_to(radii, mask.shape)
    ci, cj = centres[..., _FIRST, :], centres[..., _SECOND, :]  # (N, A, 6, 2)
    ri, rj = radii[..., _FIRST], radii[..., _SECOND]
    delta = cj - ci
    dist = np.sqrt(np.sum(delta**2, axis=-1))
    safe = np.maximum(dist, 1e-12)
    along = (dist**2 + ri**2 - rj**2) / (2 * safe)
    across = np.sqrt(np.maximum(ri**2 - along**2, 0.0))
    unit = delta / safe[..., None]
    normal = np.stack([-unit[..., 1], unit[..., 0]], axis=-1)
    base = ci + unit * along[..., None]
    meets = mask[..., _FIRST] & mask[..., _SECOND] & (dist > 1e-12) & (dist <= ri + rj)
    meets &= dist >= np.abs(ri - rj)
    offset = normal * across[..., None]
    candidates = [centres, base + offset, base - offset]
    valid = [mask, meets, meets]
    points = np.concatenate(candidates, axis=-2)  # (N, A, C, 2)
    usable = np.concatenate(valid, axis=-1)  # (N, A, C)
    gaps = np.sqrt(np.sum((points[..., :, None, :] - centres[..., None, :, :]) ** 2, axis=-1))
    inside = (gaps <= radii[..., None, :] * (1 + 1e-9) + 1e-12) | ~mask[..., None, :]
    good = usable & np.all(inside, axis=-1)
    first = np.argmax(good, axis=-1)
    point = np.take_along_axis(points, first[..., None, None], axis=-2)[..., 0, :]
    return np.any(good, axis=-1), point


def fill_pelvis(pelvis: np.ndarray, body: BodyModel) -> np.ndarray:
    """``(K, 2)`` with unpinned rows (NaN: no limb on a hold, or an impossible start) taken from
    the nearest pinned row; the frame centre when no row is pinned."""
    known = np.flatnonzero(np.all(np.isfinite(pelvis), axis=1))
    if known.size == 0:
        return np.tile([body.aspect / 2, 0.5], (len(pelvis), 1))
    nearest = known[np.abs(np.arange(len(pelvis))[:, None] - known[None]).argmin(axis=1)]
    return pelvis[nearest]
