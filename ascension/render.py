"""Draw a result document over the climber's own video: what the phone's painter shows.

Holds (outlines, the climber's route brighter), the climber's skeleton, the ghost climber, the
climb interval and the advice of the moment, frame by frame; and a contact sheet of the climb on
one PNG, so anyone can check an analysis by eye (`ascension analyze`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import cv2
import numpy as np

from engines.document.decode import DecodedResult

#: Bones of the MediaPipe Pose skeleton drawn (landmark index pairs): face outline left out.
BONES: Final = (
    (11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (15, 19), (16, 20),
    (11, 23), (12, 24), (23, 24), (23, 25), (25, 27), (24, 26), (26, 28),
    (27, 29), (29, 31), (27, 31), (28, 30), (30, 32), (28, 32),
)  # fmt: skip
CLIMBER_BGR: Final = (80, 220, 80)
GHOST_BGR: Final = (230, 90, 230)
HOLD_BGR: Final = (0, 200, 255)
ROUTE_BGR: Final = (0, 140, 255)
VOLUME_BGR: Final = (255, 160, 0)


class Overlay:
    """Draws one analysis over frames of its video."""

    def __init__(self, result: DecodedResult) -> None:
        self.result = result
        self.times = result.skeleton.timestamps_s
        climb = result.extra.get("climb") or {}
        self.climb: tuple[float, float] | None = (
            (float(climb["start_s"]), float(climb["end_s"])) if climb else None
        )
        self.route = {m["to_hold"] for m in result.moves} | {
            m["from_hold"] for m in result.moves if m.get("from_hold")
        }

    def frame_at(self, t: float) -> int:
        """Index of the skeleton frame nearest to time ``t``."""
        index = int(np.searchsorted(self.times, t))
        if index >= len(self.times):
            return len(self.times) - 1
        if index > 0 and t - self.times[index - 1] < self.times[index] - t:
            return index - 1
        return index

    def draw(self, image: np.ndarray, t: float) -> np.ndarray:
        """``image`` (BGR, the video frame at time ``t``) with the analysis drawn on it."""
        out = image.copy()
        height, width = out.shape[:2]
        scale = max(1, round(min(width, height) / 360))
        self._holds(out, scale)
        frame = self.frame_at(t)
        ghost = self.result.ghost
        first = self.result.ghost_first_frame
        if ghost is not None and first is not None and 0 <= frame - first < len(ghost):
            layer = out.copy()
            _skeleton(layer, ghost.landmarks[frame - first], GHOST_BGR, 2 * scale)
            out = cv2.addWeighted(layer, 0.6, out, 0.4, 0)
        _skeleton(out, self.result.skeleton.landmarks[frame], CLIMBER_BGR, 2 * scale)
        self._caption(out, t, scale)
        return out

    def advice_at(self, t: float) -> list[dict[str, Any]]:
        """Advice items whose time range covers ``t`` (with half a second either side)."""
        return [
            item
            for item in self.result.advice
            if item.get("start_s", 0) - 0.5 <= t <= item.get("end_s", 0) + 0.5
        ]

    def _holds(self, image: np.ndarray, scale: int) -> None:
        height, width = image.shape[:2]
        size = np.array([width, height], dtype=np.float64)
        for hold in self.result.hold_map.holds:
            on_route = hold.id in self.route
            color = VOLUME_BGR if hold.type == "volume" else ROUTE_BGR if on_route else HOLD_BGR
            thickness = (2 if on_route else 1) * scale
            if len(hold.polygon) >= 3:
                points = (np.asarray(hold.polygon) * size).round().astype(np.int32)
                cv2.polylines(image, [points], True, color, thickness, cv2.LINE_AA)
            else:
                centre = (round(hold.x * width), round(hold.y * height))
                cv2.circle(image, centre, 6 * scale, color, thickness, cv2.LINE_AA)

    def _caption(self, image: np.ndarray, t: float, scale: int) -> None:
        if self.climb is None:
            state = ""
        elif t < self.climb[0]:
            state = "before the climb"
        elif t > self.climb[1]:
            state = "after the climb"
        else:
            state = "climbing"
        lines = [f"{t:5.1f} s  {state}"]
        for item in self.advice_at(t)[:2]:
            lines.append(f"[{item.get('severity', '')}] {item.get('message_en', '')}")
        _text_box(image, lines, scale)


def _skeleton(image: np.ndarray, landmarks: np.ndarray, color: tuple[int, int, int], width: int):
    height, frame_width = image.shape[:2]
    if not np.isfinite(landmarks[:, :2]).all(axis=1).any():
        return
    points = landmarks[:, :2] * np.array([frame_width, height])
    for a, b in BONES:
        if np.isfinite(points[[a, b]]).all():
            pa = tuple(int(v) for v in points[a].round())
            pb = tuple(int(v) for v in points[b].round())
            cv2.line(image, pa, pb, color, width, cv2.LINE_AA)
    head = points[0]
    if np.isfinite(head).all():
        cv2.circle(image, tuple(int(v) for v in head.round()), 3 * width, color, width)


#: OpenCV's Hershey fonts draw ASCII only (anything else shows as "?"): what the advice uses.
_ASCII_SPELLING = str.maketrans(
    {"\u00b0": " deg", "\u2013": "-", "\u2014": "-", "\u2019": "'", "\u00d7": "x", "\u2026": "..."}
)


def drawable(text: str) -> str:
    """``text`` in the ASCII the overlay's font can draw; other characters become "?"."""
    spelled = text.translate(_ASCII_SPELLING)
    return spelled.encode("ascii", "replace").decode("ascii")


def _text_box(image: np.ndarray, lines: list[str], scale: int) -> None:
    """Lines of text on a dark band at the bottom; long lines wrap to the frame's width."""
    height, width = image.shape[:2]
    font, size = cv2.FONT_HERSHEY_SIMPLEX, 0.4 * scale
    wrapped: list[str] = []
    for line in lines:
        words, current = drawable(line).split(), ""
        for word in words:
            trial = f"{current} {word}".strip()
            if cv2.getTextSize(trial, font, size, 1)[0][0] > width - 12 * scale and current:
                wrapped.append(current)
                current = word
            else:
                current = trial
        wrapped.append(current)
    step = int(16 * scale)
    top = height - step * len(wrapped) - 6 * scale
    band = image[max(0, top) :, :]
    band[:] = (band * 0.35).astype(np.uint8)
    for row, line in enumerate(wrapped):
        y = top + step * (row + 1) - 2 * scale
        cv2.putText(image, line, (6 * scale, y), font, size, (255, 255, 255), 1, cv2.LINE_AA)


def render_overlay_video(
    video: Path,
    result: DecodedResult,
    out: Path,
    *,
    on_progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write ``video`` with the analysis drawn on every frame to ``out`` (MP4); returns frames."""
    overlay = Overlay(result)
    capture = cv2.VideoCapture(str(video))
    if not capture.isOpened():
        raise ValueError(f"cannot read {video}")
    fps = capture.get(cv2.CAP_PROP_FPS) or result.skeleton.source_fps or 30.0
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    writer: cv2.VideoWriter | None = None
    written = 0
    try:
        while True:
            ok, image = capture.read()
            if not ok:
                break
            if writer is None:
                height, width = image.shape[:2]
                writer = cv2.VideoWriter(
                    str(out), cv2.VideoWriter.fourcc(*"mp4v"), fps, (width, height)
                )
            writer.write(overlay.draw(image, written / fps))
            written += 1
            if on_progress and written % 10 == 0:
                on_progress(written, total)
    finally:
        capture.release()
        if writer is not None:
            writer.release()
    return written


def contact_sheet(
    video: Path, result: DecodedResult, out: Path, *, tiles: int = 12, columns: int = 4
) -> list[float]:
    """A PNG of ``tiles`` frames spread over the climb (the whole video when no climb is known),
    each with the analysis drawn on it; returns the times shown."""
    overlay = Overlay(result)
    start, end = overlay.climb or (float(overlay.times[0]), float(overlay.times[-1]))
    times = np.linspace(start, end, tiles).tolist()
    capture = cv2.VideoCapture(str(video))
    images: list[np.ndarray] = []
    try:
        for t in times:
            capture.set(cv2.CAP_PROP_POS_MSEC, t * 1000.0)
            ok, image = capture.read()
            if not ok:
                continue
            drawn = overlay.draw(image, t)
            height, width = drawn.shape[:2]
            tile_width = 360
            images.append(cv2.resize(drawn, (tile_width, round(height * tile_width / width))))
    finally:
        capture.release()
    if not images:
        raise ValueError(f"cannot read frames from {video}")
    blank = np.zeros_like(images[0])
    rows = [
        np.hstack([*images[i : i + columns], *[blank] * (columns - len(images[i : i + columns]))])
        for i in range(0, len(images), columns)
    ]
    cv2.imwrite(str(out), np.vstack(rows))
    return times
