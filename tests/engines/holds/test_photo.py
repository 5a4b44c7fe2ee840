from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest

from engines.errors import EngineInputError
from engines.holds import InvalidPhotoError, PhotoSizeError, decode_photo

pytestmark = pytest.mark.unit


def _encode(image: np.ndarray, ext: str) -> bytes:
    ok, data = cv2.imencode(ext, image)
    assert ok
    return data.tobytes()


def _photo() -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)


@pytest.mark.parametrize("ext", [".jpg", ".png", ".webp", ".bmp"])
def test_decodes_common_formats(ext: str) -> None:
    image = _photo()
    decoded = decode_photo(_encode(image, ext))

    assert decoded.shape == (480, 640, 3) and decoded.dtype == np.uint8
    if ext in (".png", ".bmp"):
        assert np.array_equal(decoded, image)


def test_grey_photo_becomes_colour() -> None:
    grey = _photo()[..., 0]
    assert decode_photo(_encode(grey, ".png")).shape == (480, 640, 3)


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all", b"\xff\xd8\xff\xe0" + b"\x00" * 64, b"\x89PNG\r\n\x1a\n"],
)
def test_unreadable_bytes_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidPhotoError) as caught:
        decode_photo(data)
    assert isinstance(caught.value, EngineInputError)
    assert "photo" in str(caught.value).lower()


def test_truncated_jpeg_is_refused() -> None:
    data = _encode(_photo(), ".jpg")
    with pytest.raises(InvalidPhotoError):
        decode_photo(data[: len(data) // 3])


def test_thumbnail_is_too_small() -> None:
    with pytest.raises(PhotoSizeError, match="thumbnail"):
        decode_photo(_encode(_photo()[:100, :150], ".jpg"))


def test_file_over_the_byte_limit_is_refused() -> None:
    with pytest.raises(PhotoSizeError, match="MB"):
        decode_photo(_encode(_photo(), ".png"), max_bytes=1000)


def test_limits_are_options() -> None:
    data = _encode(_photo(), ".png")
    with pytest.raises(PhotoSizeError):
        decode_photo(data, max_side=600)
    with pytest.raises(PhotoSizeError):
        decode_photo(data, max_pixels=200_000)
    assert decode_photo(data, min_side=480).shape[:2] == (480, 640)


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
    )


def test_gigapixel_claim_is_refused_before_decoding() -> None:
    # A few dozen bytes that claim 100 000 x 100 000 pixels: refused from the header alone.
    with pytest.raises(PhotoSizeError, match="100000 x 100000"):
        decode_photo(_png_header(100_000, 100_000) + b"\x00" * 32)


def test_jpeg_header_size_is_read() -> None:
    image = np.zeros((300, 13_000, 3), np.uint8)
    data = _encode(image, ".jpg")
    with pytest.raises(PhotoSizeError, match="13000 x 300"):
        decode_photo(data)
