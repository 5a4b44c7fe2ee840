"""Time-series helpers shared by the biomechanics modules."""

from __future__ import annotations

from typing import Final

import numpy as np

#: Moving-average window for every smoothed series: long enough to average out landmark jitter
#: (about 1/sqrt(6) of it at 30 fps), short enough to keep a fast move's shape.
SMOOTHING_S: Final = 0.2


def window_frames(timestamps_s: np.ndarray, seconds: float = SMOOTHING_S) -> int:
    """Frames spanning ``seconds`` at the timeline's typical frame interval (at least 1)."""
    if len(timestamps_s) < 2:
        return 1
    return max(1, round(seconds / float(np.median(np.diff(timestamps_s)))))


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average along axis 0 that skips NaN and keeps NaN where there was no value.

    Args:
        values: ``(T, ...)`` array.
        window: frames in the window (an even count widens to the next odd one).

    Returns:
        Array of the same shape.
    """
    half = max(window, 1) // 2
    finite = np.isfinite(values)
    padded_sum = np.concatenate(
        [np.zeros((1, *values.shape[1:])), np.cumsum(np.where(finite, values, 0.0), axis=0)]
    )
    padded_count = np.concatenate([np.zeros((1, *values.shape[1:])), np.cumsum(finite, axis=0)])
    frames = values.shape[0]
    lo = np.clip(np.arange(frames) - half, 0, frames)
    hi = np.clip(np.arange(frames) + half + 1, 0, frames)
    count = padded_count[hi] - padded_count[lo]
    mean = (padded_sum[hi] - padded_sum[lo]) / np.where(count > 0, count, 1)
    return np.where(finite, mean, np.nan)
