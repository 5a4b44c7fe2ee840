"""Videos made from real photographs shipped by Debian's ``opencv-doc`` package (tests, demo).

A still of real people (footballers, basketball players) filmed by a synthetic camera that pans,
zooms and shakes gives MediaPipe real human appearance to find, while the moving picture makes
every frame different, as in a real recording. Nothing is downloaded: the package is installed
on development and CI machines.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from engines.pose.timeline import SkeletonTimeline
from schema.holds import Hold, HoldMap

DATA_DIR = Path("/usr/share/doc/opencv-doc/examples/data")

#: Photographs with people in them (MediaPipe finds a pose in each).
PERSON_IMAGES = ("messi5.jpg", "basketball1.png", "basketball2.png")
#: Where the (first) person stands in each photograph, as fractions of width and height: the
#: synthetic camera aims at this point so the person stays in the picture.
PERSON_FOCUS = {
    "messi5.jpg": (0.5, 0.5),
    "basketball1.png": (0.2, 0.55),
    "basketball2.png": (0.2, 0.55),
}
#: A graffiti wall: texture and colour, no person.
WALL_IMAGE = "graf1.png"

Motion = Literal["pan", "zoom", "panzoom", "still"]


def opencv_image(name: str) -> np.ndarray:
    """Loads ``name`` from the opencv-doc data folder as BGR."""
    image = cv2.imread(str(DATA_DIR / name))
    if image is None:
        raise FileNotFoundError(
            f"{DATA_DIR / name} is missing; install the Debian package opencv-doc"
        )
    return image


def camera_frame(
    image: np.ndarray,
    t: float,
    *,
    size: tuple[int, int],
    motion: Motion,
    focus: tuple[float, float] = (0.5, 0.5),
    zoom: float = 0.2,
    seed: int = 0,
) -> np.ndarray:
    """The picture a moving camera sees of ``image`` at phase ``t`` in [0, 1].

    Args:
        image: the scene, BGR.
        t: time as a fraction of the clip.
        size: ``(width, height)`` of the frame.
        motion: camera path: pan left-right, zoom in-out, both, or a still tripod.
        focus: point of the image the camera aims at, as fractions of width and height; the
            pan swings a sixth of the frame width either side of it.
        zoom: how far the zoom pushes in at its peak (0.2: 20 % closer).
        seed: varies the hand-held shake.

    Returns:
        ``(height, width, 3)`` uint8 frame.
    """
    width, height = size
    src_h, src_w = image.shape[:2]
    cover = max(width / src_w, height / src_h)
    zoomed = motion in ("zoom", "panzoom")
    scale = cover * 1.05 * (1.0 + (zoom * math.sin(math.pi * t) if zoomed else 0.0))
    pan = math.sin(2 * math.pi * t) if motion in ("pan", "panzoom") else 0.0
    rng = np.random.default_rng(seed + round(t * 10_000))
    shake = rng.normal(0.0, 1.0, 2) if motion != "still" else np.zeros(2)
    centre_x = focus[0] * src_w * scale + width / 6 * pan + shake[0]
    centre_y = focus[1] * src_h * scale + shake[1]
    # Keep the window inside the photograph: no invented border pixels.
    centre_x = min(max(centre_x, width / 2), src_w * scale - width / 2)
    centre_y = min(max(centre_y, height / 2), src_h * scale - height / 2)
    matrix = np.array(
        [[scale, 0, width / 2 - centre_x], [0, scale, height / 2 - centre_y]], dtype=np.float64
    )
    return cv2.warpAffine(
        image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
    )


def write_clip(
    path: Path,
    *,
    image: str = "messi5.jpg",
    seconds: float = 3.0,
    fps: float = 30.0,
    size: tuple[int, int] = (480, 360),
    motion: Motion = "panzoom",
    absent: tuple[float, float] | None = None,
    codec: str = "mp4v",
) -> Path:
    """Writes a clip of ``image`` filmed by a moving camera.

    The frame covers the photograph (cropping what does not fit its aspect ratio). Keep the
    head in view: MediaPipe's person detector keys on it, so a wide frame of a 4:3 photograph
    that crops the head lets tracking continue but never restart. Portrait frames (e.g.
    1080x1920, as phones film climbs) of the basketball photographs keep the whole body in.

    Args:
        path: output file (``.mp4`` for mp4v, ``.avi`` for MJPG).
        image: opencv-doc file name.
        seconds: clip length.
        fps: frame rate.
        size: ``(width, height)``.
        motion: see `camera_frame`.
        absent: ``(from_s, to_s)``: during this span the camera shows the wall instead (the
            person is out of the picture).
        codec: FourCC.

    Returns:
        ``path``.
    """
    scene, wall = opencv_image(image), opencv_image(WALL_IMAGE)
    focus = PERSON_FOCUS.get(image, (0.5, 0.5))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*codec), fps, size)
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {codec} to {path}")
    frames = round(seconds * fps)
    try:
        for index in range(frames):
            t = index / max(1, frames - 1)
            hidden = absent is not None and absent[0] <= index / fps < absent[1]
            frame = camera_frame(
                wall if hidden else scene, t, size=size, motion=motion, focus=focus
            )
            writer.write(frame)
    finally:
        writer.release()
    return path


def corrupt_mjpeg_frames(path: Path, frames: list[int]) -> Path:
    """Destroys the JPEG data of some frames of an MJPG AVI (written by `write_clip`).

    The container stays valid, so the decoder meets those frames and fails on them, as with a
    damaged upload.
    """
    data = bytearray(path.read_bytes())
    starts, position = [], data.find(b"\xff\xd8\xff")
    while position >= 0:
        starts.append(position)
        position = data.find(b"\xff\xd8\xff", position + 3)
    for frame in frames:
        start = starts[frame]
        data[start : start + 512] = bytes(512)
    path.write_bytes(bytes(data))
    return path


def write_zero_frame_video(path: Path) -> Path:
    """A valid AVI container holding no frames at all."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 30.0, (320, 240))
    writer.release()
    return path


def write_garbage(path: Path, size: int = 64 * 1024) -> Path:
    """Random bytes with a video file name."""
    path.write_bytes(np.random.default_rng(7).bytes(size))
    return path


def holds_around_body(timeline: SkeletonTimeline) -> HoldMap:
    """Holds where the filmed person's hands and feet first are, plus a ladder above them.

    Stand-in footage shows a person on a pitch, not a wall; placing holds at the person's own
    limbs lets contacts, advice and the ghost run on real pose data.
    """
    first = timeline.landmarks[int(np.argmax(timeline.has_pose))]
    points = [first[index, :2] for index in (15, 16, 27, 28)]  # wrists, ankles
    holds = [
        Hold(f"h{i + 1}", float(np.clip(x, 0, 1)), float(np.clip(y, 0, 1)), "jug")
        for i, (x, y) in enumerate(points)
    ]
    top = min(float(y) for _, y in points)
    for step in range(1, 4):
        holds.append(Hold(f"t{step}", 0.5, max(0.02, top - 0.08 * step), "jug"))
    return HoldMap(timeline.frame_width, timeline.frame_height, holds)


#: The left player of basketball1.png, head to feet: ``(x0, y0, x1, y1)`` pixels.
PLAYER_BOX = (20, 70, 180, 480)


def write_wall_climb_clip(
    path: Path,
    wall_photo: Path,
    *,
    seconds: float = 12.0,
    fps: float = 30.0,
    size: tuple[int, int] = (720, 960),
) -> Path:
    """A clip of a real person (opencv-doc's basketball player, cut out as a rectangle) standing
    at the foot of a real wall photo, rising up it, staying, dropping back and standing.

    An honest stand-in for a climbing video, not a climb: the person's limbs never move, so the
    clip exercises climb segmentation, scale, the pipeline and the pictures, not move detection.
    Timeline: stands 0-17 % of the clip, rises until 67 %, stays until 83 %, drops back by 92 %.
    """
    width, height = size
    wall = cv2.imread(str(wall_photo))
    if wall is None:
        raise FileNotFoundError(f"cannot read {wall_photo}")
    wall = cv2.resize(wall, size, interpolation=cv2.INTER_AREA)
    x0, y0, x1, y1 = PLAYER_BOX
    player = opencv_image("basketball1.png")[y0:y1, x0:x1]
    # MediaPipe's person detector finds this grey cut-out only when it fills most of the frame.
    scale = 0.8 * height / player.shape[0]
    player = cv2.resize(player, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ph, pw = player.shape[:2]
    lowest, highest = height - ph - 4, 4
    keys = np.array([0.0, 0.17, 0.67, 0.83, 0.92, 1.0]) * seconds
    tops = np.array([lowest, lowest, highest, highest, lowest, lowest], dtype=np.float64)
    lefts = np.array([0.30, 0.30, 0.45, 0.45, 0.35, 0.35]) * (width - pw)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write mp4v to {path}")
    try:
        for index in range(round(seconds * fps)):
            t = index / fps
            top = round(float(np.interp(t, keys, tops)))
            left = round(float(np.interp(t, keys, lefts)))
            frame = wall.copy()
            frame[top : top + ph, left : left + pw] = player
            writer.write(frame)
    finally:
        writer.release()
    return path
