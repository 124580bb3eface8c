"""The screenshot reader decodes every PNG row filter; images are encoded here from the
PNG specification's filter definitions, independently of the decoder."""

from __future__ import annotations

import struct
import zlib

import pytest

from tests.integration.png_pixels import decode_png


def _chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body))
        + kind
        + body
        + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def _predict(kind: int, a: int, b: int, c: int) -> int:
    if kind == 0:
        return 0
    if kind == 1:
        return a
    if kind == 2:
        return b
    if kind == 3:
        return (a + b) // 2
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def encode(pixels: list[list[tuple[int, ...]]], colour_type: int) -> bytes:
    """Row y uses filter y % 5, so every filter appears."""
    height, width, step = len(pixels), len(pixels[0]), len(pixels[0][0])
    raw = b""
    previous = [0] * (width * step)
    for y, row in enumerate(pixels):
        line = [v for pixel in row for v in pixel]
        kind = y % 5
        filtered = [
            (
                line[i]
                - _predict(
                    kind,
                    line[i - step] if i >= step else 0,
                    previous[i],
                    previous[i - step] if i >= step else 0,
                )
            )
            & 0xFF
            for i in range(len(line))
        ]
        raw += bytes([kind, *filtered])
        previous = line
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )


def picture(width: int, height: int, alpha: bool) -> list[list[tuple[int, ...]]]:
    return [
        [
            ((x * 37 + y * 11) % 256, (x * x + 3 * y) % 256, (255 - x * y) % 256)
            + (((x + y) * 29 % 256,) if alpha else ())
            for x in range(width)
        ]
        for y in range(height)
    ]


@pytest.mark.parametrize(("alpha", "colour_type"), [(False, 2), (True, 6)])
def test_every_filter_decodes_to_the_pixels_encoded(alpha, colour_type):
    pixels = picture(13, 11, alpha)
    width, height, rows = decode_png(encode(pixels, colour_type))
    assert (width, height) == (13, 11)
    assert rows == [bytes(v for pixel in row for v in pixel[:3]) for row in pixels]


def test_what_it_cannot_read_is_refused():
    with pytest.raises(ValueError, match="not a PNG"):
        decode_png(b"GIF89a")
