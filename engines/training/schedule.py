"""Which day of the week each session falls on.

Training days follow a fixed pattern per session count, and day 7 is always free (the weekly
rest day), so the last training day of a week and the first of the next are never adjacent.
Finger-intensive sessions take days with a finger rest day between them; the most a pattern
allows, capped per level, is `finger_slots`; sessions beyond it must be made light.
"""

from __future__ import annotations

from functools import cache
from itertools import combinations, pairwise
from typing import Final

#: Training days for 1..6 sessions a week (day 7 free).
PATTERNS: Final = {
    1: (1,),
    2: (1, 4),
    3: (1, 3, 5),
    4: (1, 2, 4, 6),
    5: (1, 2, 3, 5, 6),
    6: (1, 2, 3, 4, 5, 6),
}


def _spread(days: tuple[int, ...]) -> int:
    """Smallest gap between the days, counting the gap into next week's first day."""
    gaps = [b - a for a, b in pairwise(days)]
    return min([*gaps, days[0] + 7 - days[-1]])


@cache
def finger_slots(sessions: int, wanted: int) -> tuple[int, ...]:
    """Days of the ``sessions`` pattern for up to ``wanted`` finger-intensive sessions: no two
    adjacent, as many as possible, most spread out, earliest first."""
    days = PATTERNS[sessions]
    for size in range(min(wanted, len(days)), 0, -1):
        options = [c for c in combinations(days, size) if _spread(c) >= 2]
        if options:
            return max(options, key=lambda c: (_spread(c), [-d for d in c]))
    return ()


def assign_days(sessions: int, finger: list[bool]) -> list[int]:
    """A day for each session (given in priority order, ``finger`` flags the finger-intensive
    ones); the caller guarantees no more finger sessions than `finger_slots` offers."""
    wanted = sum(finger)
    slots = list(finger_slots(sessions, wanted))
    if len(slots) < wanted:
        raise ValueError(f"{wanted} finger sessions do not fit {sessions} days")
    others = [day for day in PATTERNS[sessions] if day not in slots]
    return [slots.pop(0) if flag else others.pop(0) for flag in finger]
