"""Contacts engine: which limb is on which hold in each frame, and the moves between holds."""

from engines.contacts.geometry import HoldShapes, hold_shapes, touched_hold
from engines.contacts.moves import Attachment, Move, attachments, find_moves
from engines.contacts.track import LIMBS, ContactTrack, contact_points, track_contacts

__all__ = [
    "LIMBS",
    "Attachment",
    "ContactTrack",
    "HoldShapes",
    "Move",
    "attachments",
    "contact_points",
    "find_moves",
    "hold_shapes",
    "touched_hold",
    "track_contacts",
]
