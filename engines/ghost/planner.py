"""Plan the ghost's hold sequence: beam search over which hold each limb is on.

A state gives each limb a hold or nothing. One limb moves per step, onto a hold within the body's
reach: a torso must fit between all the holds of the new state (`geometry.fit_torso`), feet stay
at least half a trunk below the hands, a hand and a foot never share a hold, two feet share one
only to match (the other foot leaves it next) or on a volume, and a limb only lets go while the
other hand holds on. A move costs effort: one unit for the move itself, the distance
the limb travels as a fraction of its reach, how stretched the new position is beyond a relaxed
60 % of reach, how bunched up it is (hands less than 45 % of stature above the feet), and
penalties for hand moves without feet on the wall and for crossed hands or feet. A limb travels
at most two reaches per move (no dynos). Search ranks states by cost so far plus an estimate of
what is left (the hands' distance to the finish and the feet's climb to below it), keeps the best
``beam_width`` each step, never revisits a state at a higher cost, and stops when no state in the
beam can beat the best finish found. Ties break on hold order, so the plan is deterministic.

`plan_following` prices a given hand sequence (the climber's) with the same costs, so the ghost
can tell a climber when their own sequence was already the best one found.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from engines.ghost.body import BodyModel
from engines.ghost.errors import GhostInputError, NoRouteError
from engines.ghost.geometry import fill_pelvis
from engines.ghost.search import Node, beam_search
from engines.ghost.space import FOOT_ONLY_TYPES, LIMBS, ClimbSpace, FollowSpace, Wall
from engines.limbs import Limb
from schema.holds import HoldMap

__all__ = ["FOOT_ONLY_TYPES", "LIMBS", "Move", "Plan", "plan_following", "plan_sequence"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Move:
    """One limb going to a hold.

    Attributes:
        step: index in `Plan.states` of the state this move leads to (1 for the first move).
        limb: the limb that moves.
        from_hold: the hold it leaves, None when it was off the wall.
        to_hold: the hold it takes.
        reach_fraction: distance the contact point travels over the limb's reach.
        cost: the effort this move adds.
    """

    step: int
    limb: Limb
    from_hold: str | None
    to_hold: str
    reach_fraction: float
    cost: float


@dataclass
class Plan:
    """The ghost's key poses as hold assignments, and the moves between them.

    Attributes:
        states: ``K`` states, each limb → hold id or None; ``states[0]`` is the start.
        moves: ``K - 1`` moves; ``moves[k]`` leads from ``states[k]`` to ``states[k + 1]``.
        stretch: ``(K,)`` fraction of full reach each state needs (``inf`` for an impossible
            start the climber was seen in).
        pelvis: ``(K, 2)`` pelvis centre of the best torso fit, work units.
        lean: ``(K,)`` torso lean of that fit, radians.
        finish_hold: the hold the plan tops out on.
        cost: total effort of the moves.
    """

    states: list[dict[Limb, str | None]]
    moves: list[Move]
    stretch: np.ndarray
    pelvis: np.ndarray
    lean: np.ndarray
    finish_hold: str
    cost: float

    def __post_init__(self) -> None:
        count = len(self.states)
        if count == 0 or len(self.moves) != count - 1:
            raise ValueError("a plan needs K >= 1 states and K - 1 moves")
        self.stretch = np.asarray(self.stretch, dtype=np.float64)
        self.pelvis = np.asarray(self.pelvis, dtype=np.float64)
        self.lean = np.asarray(self.lean, dtype=np.float64)
        if self.stretch.shape != (count,) or self.lean.shape != (count,):
            raise ValueError("stretch and lean must have shape (K,)")
        if self.pelvis.shape != (count, 2) or not np.all(np.isfinite(self.pelvis)):
            raise ValueError("pelvis must be finite with shape (K, 2)")

    @property
    def holds_used(self) -> set[str]:
        return {hold for state in self.states for hold in state.values() if hold is not None}


def plan_sequence(
    hold_map: HoldMap,
    body: BodyModel,
    start: Mapping[Limb, str | None],
    *,
    beam_width: int = 24,
    max_moves: int = 60,
    finish: str | None = None,
    match_finish: bool = True,
    route_color: str | None = None,
) -> Plan:
    """Plan the least-effort hold sequence from ``start`` to the top for this body.

    Args:
        hold_map: the wall's holds, normalised to the video frame.
        body: the climber's body (reach limits, torso).
        start: hold per limb at the start; missing limbs are off the wall.
        beam_width: states kept per step.
        max_moves: longest plan searched.
        finish: id of the top hold; the highest hold when None.
        match_finish: the climb ends with both hands on the finish (else with one).
        route_color: hands only take holds of this colour (a gym route); feet take any hold.

    Returns:
        The `Plan`.

    Raises:
        GhostInputError: empty hold map, duplicate ids, or unknown start/finish holds.
        NoRouteError: no sequence within ``max_moves`` reaches the finish within reach.
    """
    if beam_width < 1 or max_moves < 0:
        raise ValueError("beam_width must be >= 1 and max_moves >= 0")
    wall = Wall.build(hold_map, body, finish, route_color)
    space = ClimbSpace(wall, body, match_finish)
    path = beam_search(space, wall.state_key(start), beam_width=beam_width, max_moves=max_moves)
    if path is None:
        raise NoRouteError(
            f"no sequence of holds reaches the top hold {wall.ids[wall.finish]!r} within your "
            f"reach (searched up to {max_moves} moves): the holds may be too far apart for "
            "your body, or the start holds were not recognised"
        )
    plan = _to_plan(space, path)
    if not np.isfinite(plan.stretch[0]):
        logger.warning("ghost plan: the start holds are beyond the measured reach of this body")
    return plan


def plan_following(
    hold_map: HoldMap,
    body: BodyModel,
    start: Mapping[Limb, str | None],
    hands: Sequence[tuple[Limb, str]],
    *,
    beam_width: int = 24,
    max_moves: int = 60,
    finish: str | None = None,
    match_finish: bool = True,
    route_color: str | None = None,
) -> Plan:
    """The least-effort plan whose hands take ``hands`` in that order; feet go where they cost
    least, and after the last placement the plan finishes as `plan_sequence` would.

    Its cost is the planner's price of a climber's own hand sequence for this body, the yardstick
    the ghost's plan is held against (`engines.ghost.verdict`).

    Args:
        hold_map, body, start, beam_width, max_moves, finish, match_finish, route_color: as for
            `plan_sequence`.
        hands: the hand placements to follow, ``(hand, hold id)`` in order; a placement must
            change that hand's hold.

    Returns:
        The `Plan`.

    Raises:
        GhostInputError: as for `plan_sequence`, or ``hands`` names a foot or an unknown hold.
        NoRouteError: the sequence cannot be climbed by this body under the planner's rules.
    """
    if beam_width < 1 or max_moves < 0:
        raise ValueError("beam_width must be >= 1 and max_moves >= 0")
    wall = Wall.build(hold_map, body, finish, route_color)
    index = {hold_id: i for i, hold_id in enumerate(wall.ids)}
    steps: list[tuple[int, int]] = []
    for limb, hold in hands:
        if not limb.is_hand or hold not in index:
            raise GhostInputError(f"cannot follow {limb} to {hold!r}: a hand, on the map")
        steps.append((LIMBS.index(limb), index[hold]))
    space = ClimbSpace(wall, body, match_finish)
    follow = FollowSpace(space, steps)
    first = (*wall.state_key(start), 0)
    path = beam_search(follow, first, beam_width=beam_width, max_moves=max_moves)
    if path is None:
        raise NoRouteError(
            f"the hand sequence {[hold for _, hold in hands]} cannot be climbed to "
            f"{wall.ids[wall.finish]!r} within this body's reach"
        )
    return _to_plan(space, [replace(node, key=node.key[:4]) for node in path])


def _to_plan(space: ClimbSpace, path: list[Node]) -> Plan:
    ids = space.wall.ids
    keys = np.array([node.key for node in path])
    rows = space.fit([node.key for node in path])
    limbs = np.array([node.limb for node in path[1:]], dtype=np.int64)
    cost, fraction = space.costs(keys[:-1], keys[1:], limbs)
    states = [
        {limb: (ids[h] if h >= 0 else None) for limb, h in zip(LIMBS, key, strict=True)}
        for key in keys.tolist()
    ]
    moves = [
        Move(
            step=step,
            limb=LIMBS[limb],
            from_hold=states[step - 1][LIMBS[limb]],
            to_hold=ids[keys[step, limb]],
            reach_fraction=float(fraction[step - 1]),
            cost=float(cost[step - 1]),
        )
        for step, limb in enumerate(limbs.tolist(), start=1)
    ]
    stretch = space.stretch[rows]
    return Plan(
        states=states,
        moves=moves,
        stretch=stretch,
        pelvis=fill_pelvis(space.pelvis[rows], space.body),
        lean=np.where(np.isfinite(stretch), space.lean[rows], 0.0),
        finish_hold=ids[space.wall.finish],
        cost=float(cost.sum()),
    )
