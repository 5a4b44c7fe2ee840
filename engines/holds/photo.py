"""Reading and checking an uploaded wall photo.

The size is read from the file header before decoding when the format allows (JPEG, PNG), so a
small file that claims a gigapixel image is refused without allocating it.
"""

from __future__ import annotations

import struct

import cv2
import numpy as np

from engines.holds.errors import InvalidPhotoError, PhotoSizeError

#: Largest upload accepted, in bytes (a 48-megapixel phone JPEG is about 15 MB).
MAX_BYTES = 40 * 1024 * 1024
#: Shortest side that can still show foot chips.
MIN_SIDE = 240
#: Longest side accepted.
MAX_SIDE = 12_000
#: Most pixels accepted (a 60-megapixel photo).
MAX_PIXELS = 60_000_000


def decode_photo(
    data: bytes,
    *,
    max_bytes: int = MAX_BYTES,
    min_side: int = MIN_SIDE,
    max_side: int = MAX_SIDE,
    max_pixels: int = MAX_PIXELS,
) -> np.ndarray:
    """Decode an uploaded photo (JPEG, PNG, WebP, BMP, TIFF) to BGR, upright per its EXIF.

    Args:
        data: the file's bytes.
        max_bytes: largest file accepted.
        min_side: shortest image side accepted, in pixels.
        max_side: longest image side accepted, in pixels.
        max_pixels: most pixels accepted.

    Returns:
        (H, W, 3) uint8 BGR image.

    Raises:
        InvalidPhotoError: the bytes are not a readable image.
        PhotoSizeError: the file or the image is too small or too large.
    """
    if not data:
        raise InvalidPhotoError("The photo is empty. Take the photo again and re-upload it.")
    if len(data) > max_bytes:
        raise PhotoSizeError(
            f"The photo is {len(data) / 2**20:.0f} MB; the limit is {max_bytes / 2**20:.0f} MB. "
            "Send it at a lower resolution."
        )
    header = _header_size(data)
    if header is not None:
        _check_size(*header, min_side=min_side, max_side=max_side, max_pixels=max_pixels)
    # IMREAD_COLOR applies the EXIF orientation, turns grey photos into 3 channels and drops
    # any alpha channel.
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise InvalidPhotoError(
            "We couldn't read this file as a photo. Send a JPEG or PNG picture of the wall."
        )
    check_photo(image, min_side=min_side, max_side=max_side, max_pixels=max_pixels)
    return image


def check_photo(
    image: np.ndarray,
    *,
    min_side: int = MIN_SIDE,
    max_side: int = MAX_SIDE,
    max_pixels: int = MAX_PIXELS,
) -> None:
    """Refuse an array that is not a usable BGR photo.

    Raises:
        InvalidPhotoError: not an (H, W, 3) uint8 array.
        PhotoSizeError: too small or too large.
    """
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise InvalidPhotoError("The photo must be an 8-bit colour image.")
    if image.ndim != 3 or image.shape[2] != 3:
        raise InvalidPhotoError("The photo must be a colour image with three channels.")
    _check_size(
        image.shape[1], image.shape[0], min_side=min_side, max_side=max_side, max_pixels=max_pixels
    )


def _check_size(width: int, height: int, *, min_side: int, max_side: int, max_pixels: int) -> None:
    if min(width, height) < min_side:
        raise PhotoSizeError(
            f"The photo is only {width} x {height} pixels; holds need at least {min_side} pixels "
            "on the short side. Send the original photo, not a thumbnail."
        )
    if max(width, height) > max_side or width * height > max_pixels:
        raise PhotoSizeError(
            f"The photo is {width} x {height} pixels, more than we can process "
            f"({max_side} pixels a side, {max_pixels / 1e6:.0f} megapixels). "
            "Send it at a lower resolution."
        )


def _header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG or JPEG header; None for other formats or odd files."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:2] != b"\xff\xd8":
        return None
    # Walk the JPEG segments to the first start-of-frame marker.
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return int(width), int(height)
        i += 2 + length
    return None
