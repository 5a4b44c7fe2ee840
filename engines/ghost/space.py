"""The climbing search space: legal moves between hold states and what each move costs.

A state is four hold indices in Limb order, -1 for a limb off the wall. Costs are computed for
whole batches of proposed moves at once (numpy), because a dense wall proposes thousands per step.

Feet share a hold only to match: a foot may join the other on a hold, and the next move must then
be the other foot leaving it (the swap a climber makes to change feet). Two feet do not fit on an
ordinary foothold for more than that moment, and without the rule the cheapest plan on a wall
with one column of foot chips stands on every chip with both feet, which no climber does.
Volumes are the exception: a volume is big enough to stand on with both feet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from engines.ghost.body import BodyModel
from engines.ghost.errors import GhostInputError
from engines.ghost.geometry import anchor_offsets, fit_torso, hold_positions
from engines.ghost.search import Expansion, Key, Node
from engines.limbs import Limb
from schema.holds import HoldMap

LIMBS: tuple[Limb, ...] = tuple(Limb)
#: Hold types only feet use.
FOOT_ONLY_TYPES = frozenset({"foot_chip"})
#: Hold types big enough for both feet at once; on any other hold feet only meet to match.
TWO_FEET_TYPES = frozenset({"volume"})
RELAXED_STRETCH = 0.6
W_DISTANCE = 0.5
W_STRETCH = 2.0
W_CAMPUS = 3.0
W_CROSS = 1.0
W_COMPRESS = 3.0
W_REMAINING = 1.5
W_FEET_REMAINING = 1.5
#: A move, not a dyno: a limb travels at most this many reaches, and barely downwards.
MAX_TRAVEL = 2.0
MAX_DROP = 0.5
#: Feet stay at least this many trunk lengths below the hands (no rock-overs onto a hand hold).
MIN_GAP_TORSOS = 0.5
#: Below this hand-to-foot height (fraction of stature) the body is bunched up and costs effort.
COMFORT_GAP_STATURE = 0.45


@dataclass
class Wall:
    """Hold ids, positions (work units), which holds hands may take and which hold two feet
    (``roomy``, see `TWO_FEET_TYPES`); ``finish`` indexes ids."""

    ids: list[str]
    positions: np.ndarray
    hand_ok: np.ndarray
    finish: int
    roomy: np.ndarray

    @classmethod
    def build(
        cls, hold_map: HoldMap, body: BodyModel, finish: str | None, route_color: str | None
    ) -> Wall:
        if not hold_map.holds:
            raise GhostInputError("the ghost needs holds: the hold map is empty")
        ids = [hold.id for hold in hold_map.holds]
        if len(set(ids)) != len(ids):
            raise GhostInputError("the hold map names a hold twice")
        where = hold_positions(hold_map, body.aspect)
        positions = np.stack([where[i] for i in ids])
        hand_ok = np.array([hold.type not in FOOT_ONLY_TYPES for hold in hold_map.holds])
        if route_color is not None:
            hand_ok &= np.array([hold.color == route_color for hold in hold_map.holds])
        if finish is None:
            candidates = np.flatnonzero(hand_ok)
            if not candidates.size:
                raise GhostInputError("the hold map has no hold a hand can take")
            top = int(min(candidates, key=lambda i: (positions[i, 1], ids[i])))
        elif finish in ids:
            top = ids.index(finish)
        else:
            raise GhostInputError(f"the finish hold {finish!r} is not on the hold map")
        roomy = np.array([hold.type in TWO_FEET_TYPES for hold in hold_map.holds])
        return cls(ids, positions, hand_ok, top, roomy)

    def state_key(self, state: Mapping[Limb, str | None]) -> Key:
        index = {hold_id: i for i, hold_id in enumerate(self.ids)}
        key = []
        for limb in LIMBS:
            hold = state.get(limb)
            if hold is not None and hold not in index:
                raise GhostInputError(f"the start hold {hold!r} of the {limb} is not on the map")
            key.append(-1 if hold is None else index[hold])
        return tuple(key)


class ClimbSpace:
    """Moves, costs and goal of one wall for one body; caches every torso fit it computes."""

    def __init__(self, wall: Wall, body: BodyModel, match_finish: bool) -> None:
        self.wall, self.body, self.match_finish = wall, body, match_finish
        self.reach = body.limb_reach
        offsets = anchor_offsets(body, np.array(0.0))
        # A hold for limb i must lie within both reaches plus the rigid anchor gap of every
        # other limb j on the wall (triangle inequality): a cheap filter before the exact fit.
        gap = np.linalg.norm(offsets[:, None] - offsets[None], axis=-1)
        self.pair_limit = self.reach[:, None] + self.reach[None] + gap
        self.min_gap = MIN_GAP_TORSOS * body.torso
        self.comfortable_gap = COMFORT_GAP_STATURE * body.stature
        self.rows: dict[Key, int] = {}
        self.stretch = np.zeros(0)
        self.pelvis = np.zeros((0, 2))
        self.lean = np.zeros(0)

    def fit(self, keys: list[Key]) -> np.ndarray:
        """Row of each key's torso fit in ``stretch``/``pelvis``/``lean``, fitting new keys."""
        todo = [k for k in dict.fromkeys(keys) if k not in self.rows]
        if todo:
            holds = np.array(todo)
            result = fit_torso(self.wall.positions[np.maximum(holds, 0)], holds >= 0, self.body)
            self.rows.update({key: len(self.stretch) + i for i, key in enumerate(todo)})
            self.stretch = np.concatenate([self.stretch, result.stretch])
            self.pelvis = np.concatenate([self.pelvis, result.pelvis])
            self.lean = np.concatenate([self.lean, result.lean])
        return np.array([self.rows[k] for k in keys], dtype=np.int64)

    def is_goal(self, key: Key) -> bool:
        on_top = [key[0] == self.wall.finish, key[1] == self.wall.finish]
        return all(on_top) if self.match_finish else any(on_top)

    def remaining(self, keys: list[Key]) -> np.ndarray:
        """Hands' distance to the finish in reaches, per state: what is left to climb."""
        holds = np.array(keys).reshape(-1, 4)
        positions = self.wall.positions[np.maximum(holds, 0)]
        distance = np.linalg.norm(positions - self.wall.positions[self.wall.finish], axis=-1)
        on = holds >= 0
        hands = np.where(on[:, :2], distance[:, :2], 0.0)
        # A hand off the wall still has the other hand's way to go, and a reach more.
        missing = (~on[:, :2]).sum(1) * (hands.max(1) + self.reach[0])
        feet = np.where(on[:, 2:], distance[:, 2:], 0.0).sum(1) / np.maximum(on[:, 2:].sum(1), 1)
        total = np.where(on[:, :2].any(1), hands.sum(1) + missing, 2 * feet)
        # Feet must follow: at the finish they stand about a comfortable gap below the hands.
        stance = self.wall.positions[self.wall.finish, 1] + self.comfortable_gap
        climb = np.where(on[:, 2:], np.maximum(positions[:, 2:, 1] - stance, 0.0), 0.0).sum(1)
        return W_REMAINING * total / self.reach[0] + W_FEET_REMAINING * climb / self.reach[2]

    def expand(self, nodes: list[Node]) -> list[tuple[Node, Expansion]]:
        proposals = [
            (node, new, limb) for node in nodes for new, limb in self.proposals(node.key, node.limb)
        ]
        if not proposals:
            return []
        old = np.array([node.key for node, _, _ in proposals])
        new = np.array([key for _, key, _ in proposals])
        limb = np.array([limb for _, _, limb in proposals])
        cost, _ = self.costs(old, new, limb)
        return [
            (node, Expansion(key, step, float(c)))
            for (node, key, step), c in zip(proposals, cost, strict=True)
            if np.isfinite(c)
        ]

    def proposals(self, key: Key, last: int = -1) -> list[tuple[Key, int]]:
        """Moves that pass the cheap tests (hold kinds, support, feet below hands, pair reach,
        feet sharing a hold only to match).

        Args:
            key: the state.
            last: the limb whose move led to ``key`` (-1 at the start): after a foot matched
                onto the other foot's hold, only that other foot may move.
        """
        positions = self.wall.positions
        on = np.array(key) >= 0
        matched = key[2] >= 0 and key[2] == key[3] and not self.wall.roomy[key[2]]
        proposals: list[tuple[Key, int]] = []
        for limb in range(4):
            if matched and (limb < 2 or limb == last):
                continue  # a foot match is a swap: the foot that was there leaves next
            others = [j for j in range(4) if j != limb and on[j]]
            if key[limb] >= 0 and not any(j < 2 for j in others):
                continue  # letting go needs the other hand on the wall
            allowed = self.wall.hand_ok.copy() if limb < 2 else np.ones(len(positions), bool)
            if key[limb] >= 0:
                allowed[key[limb]] = False
                step = positions - positions[key[limb]]
                allowed &= np.hypot(step[:, 0], step[:, 1]) <= MAX_TRAVEL * self.reach[limb]
                allowed &= step[:, 1] <= MAX_DROP * self.reach[limb]
            for j in others:
                if (j < 2) != (limb < 2):
                    allowed[key[j]] = False  # a hand and a foot never share a hold
                step = positions - positions[key[j]]
                allowed &= np.hypot(step[:, 0], step[:, 1]) <= self.pair_limit[limb, j]
            hands_y = [positions[key[j], 1] for j in others if j < 2]
            feet_y = [positions[key[j], 1] for j in others if j >= 2]
            if limb < 2 and feet_y:
                allowed &= positions[:, 1] <= min(feet_y) - self.min_gap
            if limb >= 2 and hands_y:
                allowed &= positions[:, 1] >= max(hands_y) + self.min_gap
            for hold in np.flatnonzero(allowed):
                proposals.append(((*key[:limb], int(hold), *key[limb + 1 :]), limb))
        return proposals

    def costs(
        self, old: np.ndarray, new: np.ndarray, limb: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Effort of moves ``old`` → ``new`` ``(P, 4)`` by ``limb`` ``(P,)``.

        Returns:
            ``(P,)`` cost (``inf`` where no torso fits the new state) and ``(P,)`` distance the
            limb travels over its reach.
        """
        positions, body, moves = self.wall.positions, self.body, np.arange(len(limb))
        rows = self.fit([tuple(k) for k in new.tolist()])
        stretch = self.stretch[rows]
        target = positions[new[moves, limb]]
        start = old[moves, limb]
        anchors = self.pelvis[rows] + anchor_offsets(body, self.lean[rows])[moves, limb]
        origin = np.where((start >= 0)[:, None], positions[np.maximum(start, 0)], anchors)
        fraction = np.linalg.norm(target - origin, axis=1) / self.reach[limb]

        over = np.maximum(stretch - RELAXED_STRETCH, 0.0) / (1.0 - RELAXED_STRETCH)
        cost = 1.0 + W_DISTANCE * fraction + W_STRETCH * over**2
        on = new >= 0
        cost += W_CAMPUS * ((limb < 2) & ~on[:, 2:].any(1))
        where = positions[np.maximum(new, 0)]
        lowest_hand = np.where(on[:, :2], where[:, :2, 1], -np.inf).max(1)
        highest_foot = np.where(on[:, 2:], where[:, 2:, 1], np.inf).min(1)
        both = on[:, :2].any(1) & on[:, 2:].any(1)
        gap = np.where(both, highest_foot - lowest_hand, self.comfortable_gap)
        squeeze = np.maximum(self.comfortable_gap - gap, 0.0) / self.comfortable_gap
        cost += W_COMPRESS * squeeze**2
        for left, right, width in ((0, 1, body.shoulder_width), (2, 3, body.hip_width)):
            crossed = where[:, left, 0] > where[:, right, 0] + 0.25 * width
            cost += W_CROSS * (on[:, left] & on[:, right] & crossed)
        return np.where(np.isfinite(stretch), cost, np.inf), fraction


class FollowSpace:
    """A `ClimbSpace` whose hands take given holds in a given order (a climber's own sequence),
    while the feet go wherever costs least; once the sequence is done, any move is allowed.

    Pricing another sequence with the planner's own costs is what lets the ghost say honestly
    whether its plan beats the climber's. A key is a `ClimbSpace` key plus how many of the
    sequence's placements are done.
    """

    def __init__(self, space: ClimbSpace, hands: list[tuple[int, int]]) -> None:
        self.space, self.hands = space, hands

    def is_goal(self, key: Key) -> bool:
        return key[4] == len(self.hands) and self.space.is_goal(key[:4])

    def remaining(self, keys: list[Key]) -> np.ndarray:
        return self.space.remaining([key[:4] for key in keys])

    def expand(self, nodes: list[Node]) -> list[tuple[Node, Expansion]]:
        proposals: list[tuple[Node, Key, int]] = []
        for node in nodes:
            state, done = node.key[:4], node.key[4]
            for new, limb in self.space.proposals(state, node.limb):
                if limb < 2 and done < len(self.hands):
                    if (limb, new[limb]) != self.hands[done]:
                        continue  # a hand goes only where the sequence says next
                    proposals.append((node, (*new, done + 1), limb))
                else:
                    proposals.append((node, (*new, done), limb))
        if not proposals:
            return []
        before = np.array([node.key[:4] for node, _, _ in proposals])
        after = np.array([key[:4] for _, key, _ in proposals])
        moved = np.array([limb for _, _, limb in proposals])
        cost, _ = self.space.costs(before, after, moved)
        return [
            (node, Expansion(key, step, float(c)))
            for (node, key, step), c in zip(proposals, cost, strict=True)
            if np.isfinite(c)
        ]
