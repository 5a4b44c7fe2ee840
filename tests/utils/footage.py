"""Test clips from real opencv-doc photographs; the generator lives in `ascension.media` because
`ascension demo` films its stand-in climb with it too."""

from ascension.media import (
    DATA_DIR,
    PERSON_FOCUS,
    PERSON_IMAGES,
    WALL_IMAGE,
    camera_frame,
    corrupt_mjpeg_frames,
    opencv_image,
    write_clip,
    write_garbage,
    write_zero_frame_video,
)

__all__ = [
    "DATA_DIR",
    "PERSON_FOCUS",
    "PERSON_IMAGES",
    "WALL_IMAGE",
    "camera_frame",
    "corrupt_mjpeg_frames",
    "opencv_image",
    "write_clip",
    "write_garbage",
    "write_zero_frame_video",
]
