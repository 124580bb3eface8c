"""Reads the pixels of a PNG (8-bit RGB or RGBA, not interlaced: what chromium writes).

Small on purpose: the tests need pixel counts from a screenshot, not an imaging library.
"""

from __future__ import annotations

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {2: 3, 6: 4}  # colour type -> samples per pixel


def _add_bytewise(a: bytes, b: bytes) -> bytes:
    """(a[i] + b[i]) mod 256 for every byte at once, in one big integer (SWAR)."""
    n = len(a)
    x, y = int.from_bytes(a, "big"), int.from_bytes(b, "big")
    low = int.from_bytes(b"\x7f" * n, "big")
    high = int.from_bytes(b"\x80" * n, "big")
    return (((x & low) + (y & low)) ^ ((x ^ y) & high)).to_bytes(n, "big")


def _paeth(left: int, up: int, up_left: int) -> int:
    """PNG's Paeth predictor: whichever neighbour is nearest left + up - up_left."""
    to_left = abs(up - up_left)  # |estimate - left|, estimate = left + up - up_left
    to_up = abs(left - up_left)
    to_up_left = abs(left + up - 2 * up_left)
    if to_left <= to_up and to_left <= to_up_left:
        return left
    if to_up <= to_up_left:
        return up
    return up_left


def _unfilter(kind: int, line: bytes, previous: bytes, step: int) -> bytes:
    if kind == 0:
        return line
    if kind == 2:
        return _add_bytewise(line, previous)
    # the rest depend on the byte to the left: loops, padded so index - step is never < 0
    current = bytearray(step) + line
    above = bytes(step) + previous
    end = len(current)
    if kind == 1:
        for i in range(step, end):
            current[i] = (current[i] + current[i - step]) & 0xFF
    elif kind == 3:
        for i in range(step, end):
            current[i] = (current[i] + ((current[i - step] + above[i]) >> 1)) & 0xFF
    elif kind == 4:
        for i in range(step, end):
            predicted = _paeth(current[i - step], above[i], above[i - step])
            current[i] = (current[i] + predicted) & 0xFF
    else:
        raise ValueError(f"unknown PNG filter {kind}")
    return bytes(current[step:])


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB bytes)."""
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PNG")
    position, chunks, header = len(SIGNATURE), [], None
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError("PNG without IHDR")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in CHANNELS or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, {interlace=}")
    step = CHANNELS[colour]
    stride = width * step
    raw = zlib.decompress(b"".join(chunks))
    previous = bytes(stride)
    rows = []
    for y in range(height):
        start = y * (stride + 1)
        line = _unfilter(raw[start], raw[start + 1 : start + 1 + stride], previous, step)
        previous = line
        rows.append(line if step == 3 else bytes(b for i, b in enumerate(line) if i % 4 != 3))
    return width, height, rows
