"""The route the climber took: start holds, the highest hold a hand reached, every hold used.

Read from the contact track of the climb (`engines.climb.on_wall_view`), so holds touched while
standing on the mat are not start holds and nothing after the climb counts; the track is made on
the wall's holds (`engines.climb.wall_holds`), so holds lying on the floor are never part of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from engines.climb.segment import ClimbSegment
from engines.contacts import ContactTrack, Move, attachments
from schema.analysis import ClimbReading, HandPlacement
from schema.holds import HoldMap

#: A limb's first hold counts as a start hold when it is taken this soon after leaving the
#: ground; later, it is the first move's target, not where the climb started.
START_WINDOW_S: Final = 1.0


def climb_reading(
    segment: ClimbSegment,
    track: ContactTrack,
    hold_map: HoldMap,
    moves: Sequence[Move] = (),
) -> ClimbReading:
    """What the ghost and the result document need to know of the climber's own climb.

    Args:
        segment: the climb.
        track: contacts of the climb only (made from `on_wall_view`), on the wall's holds
            (`wall_holds` of the map and ``segment.floor_holds``).
        hold_map: the holds the track refers to.
        moves: the climber's moves on that track (`engines.contacts.find_moves`): their hand
            moves become ``hand_sequence``, debounced as a coach counts them (no flicker).

    Returns:
        The reading; hold ids refer to ``hold_map``.
    """
    stays = attachments(track)
    start_holds: dict[str, str | None] = {}
    for stay in stays:
        if stay.limb.value not in start_holds:
            early = stay.start_s - segment.start_s <= START_WINDOW_S
            start_holds[stay.limb.value] = stay.hold if early else None
    heights = {hold.id: hold.y for hold in hold_map.holds}
    hand_holds = {stay.hold for stay in stays if stay.limb.is_hand}
    top = min(hand_holds, key=lambda hold: (heights.get(hold, 1.0), hold), default=None)
    last_hand_holds = {stay.limb: stay.hold for stay in stays if stay.limb.is_hand}
    if top is not None and set(last_hand_holds.values()) == {top} and len(last_hand_holds) == 2:
        finish = "matched_top"
    elif segment.end == "ground":
        finish = "let_go"
    else:
        finish = "video_end"
    return ClimbReading(
        start_s=round(segment.start_s, 3),
        end_s=round(segment.end_s, 3),
        start=segment.start,
        end=segment.end,
        start_holds=start_holds,
        top_hold=top,
        route_holds=list(track.touched_holds()),
        finish=finish,
        hand_sequence=[
            HandPlacement(move.limb.value, move.to_hold) for move in moves if move.limb.is_hand
        ],
        floor_holds=list(segment.floor_holds),
    )
