"""encode_timeline() / decode_timeline(): quantisation bounds, missing frames, malformed input."""

from __future__ import annotations

import copy
import json
from itertools import accumulate
from typing import Any

import numpy as np
import pytest

from engines.document import (
    MAX_XY_SCALE,
    ResultDocumentError,
    channel_scales,
    decode_timeline,
    encode_json,
    encode_timeline,
)
from engines.pose.timeline import LANDMARK_COUNT, FrameQuality, Landmark, SkeletonTimeline
from tests.engines.document.synthetic import synthetic_climb

pytestmark = pytest.mark.unit

CHANNELS = ("x", "y", "z", "visibility")


def _timeline(
    frames: int = 40, *, size: tuple[int, int] = (1080, 1920), seed: int = 0
) -> SkeletonTimeline:
    rng = np.random.default_rng(seed)
    landmarks = rng.uniform(-0.05, 1.05, (frames, LANDMARK_COUNT, 4))
    landmarks[..., 2] = rng.normal(0.0, 0.2, (frames, LANDMARK_COUNT))
    landmarks[..., 3] = rng.uniform(0.0, 1.0, (frames, LANDMARK_COUNT))
    return SkeletonTimeline(
        timestamps_s=np.arange(frames) / 30.0,
        landmarks=landmarks,
        quality=np.zeros(frames, dtype=np.uint8),
        frame_width=size[0],
        frame_height=size[1],
        source_fps=30.0,
    )


def _assert_within_half_a_step(original: SkeletonTimeline, decoded: SkeletonTimeline) -> None:
    scales = channel_scales(original.frame_width, original.frame_height)
    posed = original.has_pose
    for column, name in enumerate(CHANNELS):
        error = np.abs(
            decoded.landmarks[posed, :, column].astype(np.float64)
            - original.landmarks[posed, :, column]
        )
        step = 1.0 / scales[name]
        assert error.max() <= step / 2 + 1e-6, name
        # The bound is tight: the document really is quantised to that step, not finer.
        assert error.max() > 0.4 * step, name


def test_a_smoothed_climb_comes_back_within_half_a_step_with_its_gaps() -> None:
    skeleton = synthetic_climb(8.0).skeleton
    assert set(np.unique(skeleton.quality)) == {0, 1, 2, 3}

    decoded = decode_timeline(json.loads(encode_json(encode_timeline(skeleton))))

    np.testing.assert_array_equal(decoded.quality, skeleton.quality)
    assert np.abs(decoded.timestamps_s - skeleton.timestamps_s).max() <= 0.0005 + 1e-12
    assert (decoded.frame_width, decoded.frame_height) == (1080, 1920)
    assert decoded.source_fps == skeleton.source_fps
    _assert_within_half_a_step(skeleton, decoded)
    gone = ~skeleton.has_pose
    assert np.isnan(decoded.landmarks[gone]).all()
    assert np.isfinite(decoded.landmarks[~gone]).all()


def test_frames_without_a_pose_are_not_written_and_decode_to_nan() -> None:
    timeline = _timeline(10)
    # Values left behind on a frame without a pose must not leak into the document.
    timeline.quality[[2, 3]] = FrameQuality.MISSING
    timeline.quality[7] = FrameQuality.CORRUPT
    timeline.quality[5] = FrameQuality.INTERPOLATED

    encoded = encode_timeline(timeline)
    decoded = decode_timeline(encoded)

    assert encoded["quality"] == {"values": [0, 2, 0, 1, 0, 3, 0], "runs": [2, 2, 1, 1, 1, 1, 2]}
    for name in CHANNELS:
        assert [len(row) for row in encoded[name]["deltas"]] == [7] * LANDMARK_COUNT
    assert np.isnan(decoded.landmarks[[2, 3, 7]]).all()
    assert np.isfinite(decoded.landmarks[[0, 1, 4, 5, 6, 8, 9]]).all()
    np.testing.assert_array_equal(decoded.quality, timeline.quality)


def test_the_json_follows_the_documented_encoding() -> None:
    """Decoded as the schema says, without the reference decoder: running sum over posed frames."""
    skeleton = synthetic_climb(4.0).skeleton
    document = json.loads(encode_json(encode_timeline(skeleton)))

    stamps = list(accumulate([document["time_ms"]["start"], *document["time_ms"]["steps"]]))
    qualities = [
        value
        for value, run in zip(
            document["quality"]["values"], document["quality"]["runs"], strict=True
        )
        for _ in range(run)
    ]
    posed = [i for i, quality in enumerate(qualities) if quality <= 1]
    wrist = Landmark.LEFT_WRIST
    x = [v / document["x"]["scale"] for v in accumulate(document["x"]["deltas"][wrist])]

    assert stamps == [round(t * 1000) for t in skeleton.timestamps_s]
    assert qualities == skeleton.quality.tolist()
    assert document["x"]["scale"] == 1080  # one pixel of the analysed frame
    assert document["y"]["scale"] == 1920
    np.testing.assert_allclose(x, skeleton.landmarks[posed, wrist, 0], atol=0.5 / 1080 + 1e-6)


def test_frames_wider_than_2048_pixels_are_quantised_to_a_2048th() -> None:
    timeline = _timeline(size=(3840, 2160))

    encoded = encode_timeline(timeline)

    assert encoded["x"]["scale"] == encoded["y"]["scale"] == MAX_XY_SCALE
    _assert_within_half_a_step(timeline, decode_timeline(encoded))


def test_irregular_timestamps_keep_their_milliseconds() -> None:
    timeline = _timeline(5)
    timeline.timestamps_s = np.array([0.0, 0.0334, 0.0667, 0.1171, 0.1502])

    decoded = decode_timeline(encode_timeline(timeline))

    np.testing.assert_allclose(decoded.timestamps_s, [0.0, 0.033, 0.067, 0.117, 0.150])


@pytest.mark.parametrize("frames", [0, 3])
def test_empty_and_poseless_timelines_round_trip(frames: int) -> None:
    timeline = _timeline(frames)
    timeline.quality[:] = FrameQuality.MISSING
    timeline.landmarks[:] = np.nan

    decoded = decode_timeline(json.loads(encode_json(encode_timeline(timeline))))

    assert len(decoded) == frames
    np.testing.assert_array_equal(decoded.quality, timeline.quality)
    assert np.isnan(decoded.landmarks).all()


def test_a_pose_frame_with_nan_is_refused() -> None:
    timeline = _timeline(5)
    timeline.landmarks[2, 4, 0] = np.nan

    with pytest.raises(ResultDocumentError, match="non-finite"):
        encode_timeline(timeline)


def test_frames_on_the_same_millisecond_are_refused() -> None:
    timeline = _timeline(3)
    timeline.timestamps_s = np.array([0.0, 0.0002, 0.1])

    with pytest.raises(ResultDocumentError, match="millisecond"):
        encode_timeline(timeline)


def _break(path: str, value: Any) -> dict[str, Any]:
    encoded = copy.deepcopy(encode_timeline(_timeline(6)))
    *parents, last = path.split(".")
    target = encoded
    for key in parents:
        target = target[key]
    target[last] = value
    return encoded


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("frame_count", 7),
        ("landmark_count", 17),
        ("time_ms.steps", [33, 33, 0, 34, 33]),
        ("time_ms.start", "0"),
        ("quality.runs", [5]),
        ("quality.values", [9]),
        ("x.deltas", [[1, 2, 3, 4, 5, 6]] * 32),
        ("y.deltas", [[1, 2, 3, 4, 5, 6.5]] * 33),
        ("z.scale", 0),
        ("frame_width", 0),
        ("source_fps", "fast"),
    ],
)
def test_malformed_timelines_are_refused(path: str, value: Any) -> None:
    with pytest.raises(ResultDocumentError):
        decode_timeline(_break(path, value))


def test_a_missing_field_is_refused() -> None:
    encoded = encode_timeline(_timeline(3))
    del encoded["visibility"]

    with pytest.raises(ResultDocumentError, match="malformed"):
        decode_timeline(encoded)
