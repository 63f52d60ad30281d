"""Image sizes read from file headers, so a decompression bomb is refused before decoding.

A PNG of a few kilobytes can declare 30000 x 30000 pixels, which decode to
gigabytes. :func:`declared_size` reads the width and height the header of a
PNG, GIF, BMP, JPEG or WebP file states, without decoding anything.
"""

from __future__ import annotations

import struct

MAX_IMAGE_PIXELS = 50_000_000

_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def image_format(data: bytes) -> str | None:
    """Return the format (``"png"``, ``"jpeg"``, ...) the magic bytes show, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data.startswith(b"BM"):
        return "bmp"
    if data.startswith(b"\xff\xd8"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def content_problem(data: bytes) -> str | None:
    """Return why ``data`` is not an image at all (no known magic bytes), or None."""
    if image_format(data) is not None:
        return None
    try:
        data[:4096].decode("utf-8")
        text = b"\0" not in data[:4096]
    except UnicodeDecodeError:
        text = False
    what = "it is text" if text else "unknown content"
    return f"not an image: {what}, not JPEG, PNG, GIF, BMP or WebP"


def declared_size(data: bytes) -> tuple[int, int] | None:
    """Return the (height, width) an image file's header declares, or None if not found."""
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return height, width
        if data[:6] in (b"GIF87a", b"GIF89a"):
            width, height = struct.unpack("<HH", data[6:10])
            return height, width
        if data.startswith(b"BM"):
            return _bmp_size(data)
        if data.startswith(b"\xff\xd8"):
            return _jpeg_size(data)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp_size(data)
    except struct.error:  # a header cut short: the decoder will name the problem
        return None
    return None


def pixel_problem(data: bytes, limit: int = MAX_IMAGE_PIXELS) -> str | None:
    """Return why an image is refused for its declared size (too many pixels), or None."""
    size = declared_size(data)
    if size is None:
        return None
    height, width = size
    if height * width > limit:
        return (
            f"too many pixels: the header declares {height}x{width} "
            f"({height * width / 1e6:.0f} megapixels; the limit is {limit / 1e6:.0f})"
        )
    return None


def _bmp_size(data: bytes) -> tuple[int, int]:
    (header,) = struct.unpack("<I", data[14:18])
    if header == 12:
        width, height = struct.unpack("<HH", data[18:22])
        return height, width
    width, height = struct.unpack("<ii", data[18:26])
    return abs(height), abs(width)


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return height, width
        pos += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return height & 0x3FFF, width & 0x3FFF
    if chunk == b"VP8L":
        (bits,) = struct.unpack("<I", data[21:25])
        return ((bits >> 14) & 0x3FFF) + 1, (bits & 0x3FFF) + 1
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return height, width
    return None
