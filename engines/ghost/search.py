"""A deterministic beam search over hashable states with positive step costs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

Key = tuple[int, ...]


@dataclass(frozen=True)
class Node:
    """A state reached by a path: ``g`` is the path's cost, ``limb`` the limb of the last move."""

    key: Key
    g: float
    parent: Node | None = None
    limb: int = -1

    def path(self) -> list[Node]:
        nodes: list[Node] = []
        node: Node | None = self
        while node is not None:
            nodes.append(node)
            node = node.parent
        return nodes[::-1]


@dataclass(frozen=True)
class Expansion:
    key: Key
    limb: int
    cost: float


class SearchProblem(Protocol):
    def is_goal(self, key: Key) -> bool: ...

    def remaining(self, keys: list[Key]) -> np.ndarray:
        """Estimated cost still to pay from each state (ranks the beam)."""
        ...

    def expand(self, nodes: list[Node]) -> list[tuple[Node, Expansion]]:
        """Every legal move out of each node (all at once, so costs can be batched)."""
        ...


def beam_search(
    problem: SearchProblem, start: Key, *, beam_width: int, max_moves: int
) -> list[Node] | None:
    """Cheapest path found from ``start`` to a goal, or None.

    Each step expands every state in the beam, keeps for each new state its cheapest way in
    (dropping states already reached more cheaply), ranks by cost + remaining estimate with the
    state itself breaking ties, and keeps ``beam_width``. Goals are recorded, not expanded. The
    search ends when no beam state can still undercut the best goal (costs only grow), the beam
    empties, or ``max_moves`` steps are done.

    Args:
        problem: moves, costs and goal test.
        start: the start state.
        beam_width: states kept per step.
        max_moves: most moves in a path.

    Returns:
        The path's nodes from start to goal, or None when no goal was reached.
    """
    root = Node(start, 0.0)
    if problem.is_goal(start):
        return [root]
    best_cost: dict[Key, float] = {start: 0.0}
    best_goal: Node | None = None
    beam = [root]
    for _ in range(max_moves):
        arrivals: dict[Key, Node] = {}
        for node, step in problem.expand(beam):
            g = node.g + step.cost
            if g >= best_cost.get(step.key, float("inf")) - 1e-12:
                continue
            known = arrivals.get(step.key)
            if known is None or g < known.g:
                arrivals[step.key] = Node(step.key, g, node, step.limb)
        if not arrivals:
            break
        open_nodes: list[Node] = []
        for key, node in arrivals.items():
            best_cost[key] = node.g
            if problem.is_goal(key):
                if best_goal is None or (node.g, key) < (best_goal.g, best_goal.key):
                    best_goal = node
            else:
                open_nodes.append(node)
        estimate = problem.remaining([n.key for n in open_nodes]) if open_nodes else np.zeros(0)
        ranked = [(n.g + float(e), n.key, n) for n, e in zip(open_nodes, estimate, strict=True)]
        ranked.sort(key=lambda item: (item[0], item[1]))
        beam = [node for _, _, node in ranked[:beam_width]]
        if not beam or (best_goal is not None and min(n.g for n in beam) >= best_goal.g):
            break
    return best_goal.path() if best_goal is not None else None
