"""Off-climb frames thinned to 10 key frames a second: the climb untouched, the bytes saved."""

from __future__ import annotations

import numpy as np

from engines.document.build import gzip_size
from engines.document.thinning import thin_off_climb
from engines.document.timeline_codec import encode_timeline
from tests.engines.climb.scenarios import WHOLE_VIDEO
from tests.utils.skeletons import climb


def test_the_climb_keeps_every_frame_and_the_rest_shrinks() -> None:
    timeline = climb(WHOLE_VIDEO, noise_cm=0.8, seed=5)  # 19 s, climbing 5.2-15.8 s
    start_s, end_s = 5.2, 15.8

    thinned = thin_off_climb(timeline, start_s, end_s)

    inside = (timeline.timestamps_s >= start_s) & (timeline.timestamps_s <= end_s)
    assert np.array_equal(thinned.landmarks[inside], timeline.landmarks[inside])
    # Outside, within the jitter of where the climber really was (landmarks normalised).
    error_px = np.abs(thinned.landmarks[~inside, :, :2] - timeline.landmarks[~inside, :, :2])
    error_px *= np.array([timeline.frame_width, timeline.frame_height])
    assert np.percentile(error_px, 95) < 12.0
    assert np.array_equal(thinned.quality, timeline.quality)

    before = gzip_size({"t": encode_timeline(timeline)}, level=6)
    after = gzip_size({"t": encode_timeline(thinned)}, level=6)
    assert after < 0.92 * before  # 44 % of the frames are off the climb


def test_frames_without_a_pose_stay_without_one() -> None:
    timeline = climb(WHOLE_VIDEO, missing=range(10, 20))

    thinned = thin_off_climb(timeline, 5.2, 15.8)

    assert np.isnan(thinned.landmarks[10:20]).all()
    assert np.isfinite(thinned.landmarks[:10]).all() and np.isfinite(thinned.landmarks[20:]).all()
