"""Figures per move: reach, hesitation, pauses and how directly the body travelled.

Landmarks jitter by a few pixels from frame to frame, which would add up to a long, crooked CoG
path on a perfectly smooth move; paths and speeds are therefore measured on series smoothed by
`engines.biomech.series.smooth`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

from engines.limbs import Limb

if TYPE_CHECKING:  # engines.contacts imports this package at run time: only types here.
    from engines.contacts import Move

#: A free limb slower than this (body heights per second, ~17 cm/s for 175 cm) is hovering: the
#: climber is searching or hesitating rather than travelling to the hold.
HOVER_SPEED_BH_PER_S: Final = 0.1
#: Below this CoG path (cm) a move did not move the body enough for its efficiency to mean much.
MIN_PATH_CM: Final = 2.0


@dataclass(frozen=True)
class MoveFigures:
    """Biomechanics of one move (NaN where a figure does not apply).

    Attributes:
        index: the move's index in the move list.
        limb: the limb that moved.
        duration_s: from leaving the old hold to settling on the new one.
        hesitation_s: time during the move with the free limb hovering (`HOVER_SPEED_BH_PER_S`).
        pause_before_s: stillness between the end of the previous move and this one's start.
        reach_cm: distance from the limb on its new hold to the farthest other limb on a hold.
        hand_span_cm: for hand moves, distance between the two hands once both are on holds.
        cog_path_cm: length of the (smoothed) CoG path during the move.
        cog_chord_cm: straight-line CoG displacement from the move's start to its end.
        efficiency: chord over path, 0..1 (1 = the body went straight); NaN below `MIN_PATH_CM`.
        hip_wall_cm: median hip-to-wall proxy during the move.
        hand_force_bw: mean total force through the hands during the move, body weights.
    """

    index: int
    limb: Limb
    duration_s: float
    hesitation_s: float
    pause_before_s: float
    reach_cm: float
    hand_span_cm: float
    cog_path_cm: float
    cog_chord_cm: float
    efficiency: float
    hip_wall_cm: float
    hand_force_bw: float

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form: figures rounded, NaN (not applicable) as None."""
        document: dict[str, object] = {}
        for name, value in vars(self).items():
            if isinstance(value, Limb):
                value = value.value
            elif isinstance(value, float):
                value = round(value, 3) if math.isfinite(value) else None
            document[name] = value
        return document


def path_length(points: np.ndarray) -> float:
    """Length of a polyline ``(N, 2)``, skipping frames without a value."""
    points = points[np.isfinite(points).all(axis=1)]
    return float(np.linalg.norm(np.diff(points, axis=0), axis=1).sum()) if len(points) > 1 else 0.0


def limb_speed(points: np.ndarray, timestamps_s: np.ndarray) -> np.ndarray:
    """``(T, L)`` speed of point series ``(T, L, 2)``, unit per second; NaN at the end and gaps."""
    step = np.linalg.norm(np.diff(points, axis=0), axis=2) / np.diff(timestamps_s)[:, None]
    return np.concatenate([step, np.full((1, points.shape[1]), np.nan)])


def move_figures(
    moves: Sequence[Move],
    *,
    timestamps_s: np.ndarray,
    cog_cm: np.ndarray,
    points_cm: np.ndarray,
    contact: np.ndarray,
    hip_wall_cm: np.ndarray,
    hand_force_bw: np.ndarray,
    height_cm: float,
) -> list[MoveFigures]:
    """Per-move figures from per-frame series already in centimetres.

    Args:
        moves: the moves, in order.
        timestamps_s: ``(T,)``.
        cog_cm: ``(T, 2)`` smoothed CoG, cm.
        points_cm: ``(T, 4, 2)`` smoothed limb contact points, cm (columns follow `Limb`).
        contact: ``(T, 4)`` bool.
        hip_wall_cm: ``(T,)`` hip-to-wall proxy.
        hand_force_bw: ``(T,)`` total force through the hands.
        height_cm: stature, for the hover-speed threshold.

    Returns:
        One `MoveFigures` per move, same order.
    """
    if not moves:
        return []
    limbs = tuple(Limb)
    dt = np.diff(timestamps_s, append=timestamps_s[-1] + np.median(np.diff(timestamps_s)))
    hovering = limb_speed(points_cm, timestamps_s) < HOVER_SPEED_BH_PER_S * height_cm
    # Moves come sorted by start: the latest end among the moves before each one.
    ends = np.array([m.end_s for m in moves])
    latest_end = np.concatenate([[np.nan], np.maximum.accumulate(ends)[:-1]])
    figures: list[MoveFigures] = []
    for move, previous_end in zip(moves, latest_end, strict=True):
        column = limbs.index(move.limb)
        start, end = move.start_frame, move.end_frame
        span = slice(start, end + 1)
        path = path_length(cog_cm[span])
        chord = float(np.linalg.norm(cog_cm[end] - cog_cm[start]))
        others = [c for c in range(4) if c != column and contact[end, c]]
        distances = np.linalg.norm(points_cm[end, others] - points_cm[end, column], axis=1)
        other_hand = 1 - column if move.limb.is_hand else None
        figures.append(
            MoveFigures(
                index=move.index,
                limb=move.limb,
                duration_s=move.end_s - move.start_s,
                hesitation_s=float(dt[start:end][hovering[start:end, column]].sum()),
                pause_before_s=float(np.maximum(0.0, move.start_s - previous_end)),
                reach_cm=_nanmax(distances),
                hand_span_cm=(
                    float(np.linalg.norm(points_cm[end, other_hand] - points_cm[end, column]))
                    if other_hand is not None and contact[end, other_hand]
                    else np.nan
                ),
                cog_path_cm=path,
                cog_chord_cm=chord if np.isfinite(chord) else np.nan,
                efficiency=min(chord / path, 1.0) if path >= MIN_PATH_CM else np.nan,
                hip_wall_cm=_nanmedian(hip_wall_cm[span]),
                hand_force_bw=_nanmean(hand_force_bw[span]),
            )
        )
    return figures


def _nanmax(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(values.max()) if values.size else np.nan


def _nanmedian(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else np.nan


def _nanmean(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else np.nan
