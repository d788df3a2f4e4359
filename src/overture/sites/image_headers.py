"""The type and pixel size of a PNG, GIF, JPEG or WebP image, read from its header bytes.

Four small, well-known formats: reading their headers is a few lines each, where an imaging library would be a
large native dependency for one question. The type comes from the bytes, never from a file name or a declared
content type. Nothing is decoded, so nothing here can be exploited by a crafted image beyond a wrong answer.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass


@dataclass(frozen=True)
class ImageHeader:
    content_type: str
    width: int
    height: int


def read_header(content: bytes) -> ImageHeader | None:
    """The image's type and size; None when the bytes are not a PNG, GIF, JPEG or WebP image we can measure."""
    try:
        if content.startswith(b"\x89PNG\r\n\x1a\n"):
            return _png(content)
        if content[:6] in (b"GIF87a", b"GIF89a"):
            width, height = struct.unpack("<HH", content[6:10])
            return ImageHeader("image/gif", width, height)
        if content.startswith(b"\xff\xd8"):
            return _jpeg(content)
        if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
            return _webp(content)
    except (struct.error, IndexError):
        return None  # cut short
    return None


def _png(content: bytes) -> ImageHeader | None:
    if content[12:16] != b"IHDR":  # the first chunk must be the header
        return None
    width, height = struct.unpack(">II", content[16:24])
    return ImageHeader("image/png", width, height)


# Start-of-frame markers (they carry the size); C4, C8 and CC are other segments that share the range.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = frozenset({0x01, *range(0xD0, 0xDA)})  # markers without a length


def _jpeg(content: bytes) -> ImageHeader | None:
    position = 2
    while position + 4 <= len(content):
        if content[position] != 0xFF:
            return None
        marker = content[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in _STANDALONE:
            position += 2
            continue
        (length,) = struct.unpack(">H", content[position + 2 : position + 4])
        if marker in _SOF:
            height, width = struct.unpack(">HH", content[position + 5 : position + 9])
            return ImageHeader("image/jpeg", width, height)
        if marker == 0xDA or length < 2:  # the image data starts (or a broken length) before any frame header
            return None
        position += 2 + length
    return None


def _webp(content: bytes) -> ImageHeader | None:
    chunk, data = content[12:16], content[20:30]
    if chunk == b"VP8 " and data[3:6] == b"\x9d\x01\x2a":  # lossy: a key frame's start code, then the size
        width, height = struct.unpack("<HH", data[6:10])
        return ImageHeader("image/webp", width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L" and data[0] == 0x2F:  # lossless: 14 bits each, minus one
        (bits,) = struct.unpack("<I", data[1:5])
        return ImageHeader("image/webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X":  # extended: the canvas size, 24 bits each, minus one
        width = int.from_bytes(data[4:7], "little") + 1
        height = int.from_bytes(data[7:10], "little") + 1
        return ImageHeader("image/webp", width, height)
    return None
