"""Gap filling and One-Euro smoothing on synthetic timelines (no video, no model)."""

from __future__ import annotations

import numpy as np
import pytest

from engines.pose import (
    LANDMARK_COUNT,
    FrameQuality,
    OneEuroParams,
    SkeletonTimeline,
    interpolate_gaps,
    one_euro_smooth,
)

pytestmark = pytest.mark.unit

D, M, C = FrameQuality.DETECTED, FrameQuality.MISSING, FrameQuality.CORRUPT


def timeline(
    positions: np.ndarray, quality: list[int], *, fps: float = 30.0, times: np.ndarray | None = None
) -> SkeletonTimeline:
    """Every landmark at ``positions[t]`` (x = y = z), visibility 0.9; NaN unless DETECTED."""
    frames = len(quality)
    landmarks = np.zeros((frames, LANDMARK_COUNT, 4), np.float32)
    landmarks[:, :, :3] = np.asarray(positions, np.float32)[:, None, None]
    landmarks[:, :, 3] = 0.9
    q = np.asarray(quality, np.uint8)
    landmarks[q != D] = np.nan
    return SkeletonTimeline(
        timestamps_s=np.arange(frames) / fps if times is None else times,
        landmarks=landmarks,
        quality=q,
        frame_width=640,
        frame_height=480,
        source_fps=fps,
    )


def test_short_gap_is_filled_linearly_and_flagged() -> None:
    raw = timeline(np.arange(10) * 0.01, [D, D, D, M, M, M, D, D, D, D])
    filled = interpolate_gaps(raw, max_gap_s=0.5)
    assert list(filled.quality[3:6]) == [FrameQuality.INTERPOLATED] * 3
    np.testing.assert_allclose(filled.landmarks[3:6, 0, 0], [0.03, 0.04, 0.05], atol=1e-6)
    np.testing.assert_allclose(filled.landmarks[3:6, 5, 3], 0.9, atol=1e-6)
    assert np.isnan(raw.landmarks[3:6]).all(), "the input must not be modified"


def test_interpolation_uses_time_not_frame_count() -> None:
    times = np.array([0.0, 0.1, 0.4, 0.5])
    raw = timeline(np.array([0.0, 0.0, 0.0, 0.5]), [D, M, M, D], times=times)
    filled = interpolate_gaps(raw, max_gap_s=1.0)
    np.testing.assert_allclose(filled.landmarks[1:3, 0, 0], [0.1, 0.4], atol=1e-6)


def test_long_gap_and_edges_stay_missing() -> None:
    quality = [M, M, D] + [M] * 20 + [D, M]
    raw = timeline(np.linspace(0, 1, len(quality)), quality)
    filled = interpolate_gaps(raw, max_gap_s=0.5)
    np.testing.assert_array_equal(filled.quality, raw.quality)
    assert np.isnan(filled.landmarks[filled.quality == M]).all()


def test_gap_length_is_measured_between_detections() -> None:
    # 15 missing frames at 30 fps: detections 16/30 s apart, just over half a second.
    quality = [D] + [M] * 15 + [D]
    raw = timeline(np.zeros(17), quality)
    assert (interpolate_gaps(raw, max_gap_s=0.5).quality == M).sum() == 15
    assert (interpolate_gaps(raw, max_gap_s=0.6).quality == FrameQuality.INTERPOLATED).sum() == 15


def test_corrupt_frames_are_never_filled_but_lengthen_the_gap() -> None:
    raw = timeline(np.zeros(6), [D, M, C, M, D, D])
    filled = interpolate_gaps(raw, max_gap_s=0.5)
    assert list(filled.quality) == [D, 1, C, 1, D, D]
    assert np.isnan(filled.landmarks[2]).all()
    # The same run is too long once the corrupt frames are counted in its duration.
    long_raw = timeline(np.zeros(18), [D, M] + [C] * 14 + [M, D])
    assert (interpolate_gaps(long_raw, max_gap_s=0.5).quality == M).sum() == 2


def test_all_missing_and_empty_timelines_pass_through() -> None:
    assert (interpolate_gaps(timeline(np.zeros(4), [M] * 4)).quality == M).all()
    empty = timeline(np.zeros(0), [])
    assert len(interpolate_gaps(empty)) == 0
    assert len(one_euro_smooth(empty)) == 0


def noisy_still(frames: int = 300, seed: int = 0) -> tuple[SkeletonTimeline, np.ndarray]:
    rng = np.random.default_rng(seed)
    raw = timeline(np.full(frames, 0.5), [D] * frames)
    # A body about half a frame tall, so the filter's speed scale is realistic.
    raw.landmarks[:, :, 1] += np.linspace(-0.25, 0.25, LANDMARK_COUNT, dtype=np.float32)
    clean = raw.landmarks.copy()
    raw.landmarks[:, :, :3] += rng.normal(0, 0.004, (frames, LANDMARK_COUNT, 3))
    return raw, clean


def test_smoothing_removes_jitter_of_a_still_climber() -> None:
    raw, clean = noisy_still()
    smoothed = one_euro_smooth(raw)
    before = np.abs(raw.landmarks[:, :, :3] - clean[:, :, :3]).mean()
    after = np.abs(smoothed.landmarks[:, :, :3] - clean[:, :, :3]).mean()
    assert after < before / 2
    np.testing.assert_array_equal(smoothed.landmarks[:, :, 3], raw.landmarks[:, :, 3])
    np.testing.assert_array_equal(smoothed.quality, raw.quality)


def test_smoothing_follows_a_fast_move_without_lag() -> None:
    frames = 90
    # A hand moving at 1.5 frame heights per second for one second, then stopping.
    path = np.clip((np.arange(frames) - 30) / 30 * 0.5, 0, 0.5) + 0.2
    raw = timeline(path, [D] * frames)
    raw.landmarks[:, :, 1] += np.linspace(-0.25, 0.25, LANDMARK_COUNT, dtype=np.float32)
    both_ways = one_euro_smooth(raw).landmarks[:, 0, 0]
    forward = one_euro_smooth(raw, OneEuroParams(bidirectional=False)).landmarks[:, 0, 0]
    mid_move = slice(40, 50)
    forward_lag = np.abs(forward[mid_move] - path[mid_move]).mean()
    assert forward_lag > 0.002, "a causal filter trails a moving limb"
    assert np.abs(both_ways[mid_move] - path[mid_move]).mean() < forward_lag / 3
    assert np.abs(both_ways[-10:] - path[-10:]).max() < 0.01


def test_smoothing_restarts_after_a_gap() -> None:
    quality = [D] * 20 + [M] * 20 + [D] * 20
    raw = timeline(np.r_[np.full(20, 0.2), np.zeros(20), np.full(20, 0.8)], quality)
    smoothed = one_euro_smooth(raw)
    assert np.isnan(smoothed.landmarks[20:40]).all()
    # No pull from the old position across the gap.
    np.testing.assert_allclose(smoothed.landmarks[40:, 0, 0], 0.8, atol=1e-6)
    np.testing.assert_allclose(smoothed.landmarks[:20, 0, 0], 0.2, atol=1e-6)


def test_heavier_settings_smooth_more() -> None:
    raw, clean = noisy_still(seed=1)
    light = one_euro_smooth(raw, OneEuroParams(min_cutoff=3.0, beta=0.0))
    heavy = one_euro_smooth(raw, OneEuroParams(min_cutoff=0.3, beta=0.0))
    error = [np.abs(s.landmarks[:, :, :3] - clean[:, :, :3]).mean() for s in (light, heavy)]
    assert error[1] < error[0]


def test_invalid_params_are_refused() -> None:
    with pytest.raises(ValueError):
        OneEuroParams(min_cutoff=0)
    with pytest.raises(ValueError):
        OneEuroParams(beta=-1)
