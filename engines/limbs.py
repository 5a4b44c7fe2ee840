"""The four limbs that touch holds, and the landmarks that stand for each.

Shared by contacts, advice and the ghost planner so a limb has one name everywhere (the names are
also what the result document and the app use).
"""

from __future__ import annotations

from enum import StrEnum

from engines.pose.timeline import Landmark


class Limb(StrEnum):
    LEFT_HAND = "left_hand"
    RIGHT_HAND = "right_hand"
    LEFT_FOOT = "left_foot"
    RIGHT_FOOT = "right_foot"

    @property
    def is_hand(self) -> bool:
        return self in (Limb.LEFT_HAND, Limb.RIGHT_HAND)

    @property
    def contact_landmarks(self) -> tuple[Landmark, ...]:
        """Landmarks whose mean is the limb's contact point (palm centre, ball of the foot)."""
        return _CONTACT_LANDMARKS[self]


_CONTACT_LANDMARKS: dict[Limb, tuple[Landmark, ...]] = {
    Limb.LEFT_HAND: (Landmark.LEFT_WRIST, Landmark.LEFT_INDEX, Landmark.LEFT_PINKY),
    Limb.RIGHT_HAND: (Landmark.RIGHT_WRIST, Landmark.RIGHT_INDEX, Landmark.RIGHT_PINKY),
    Limb.LEFT_FOOT: (Landmark.LEFT_ANKLE, Landmark.LEFT_FOOT_INDEX),
    Limb.RIGHT_FOOT: (Landmark.RIGHT_ANKLE, Landmark.RIGHT_FOOT_INDEX),
}
