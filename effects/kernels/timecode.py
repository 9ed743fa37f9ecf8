"""Timecode: a time value stamped into the frame as a machine-readable band of blocks.

The band is one row of :data:`BLOCKS` black/white blocks across the whole
frame width (block edges at ``round(i * width / BLOCKS)``, rows
``width // BLOCKS`` high) at the top or bottom edge, chroma neutral:

    [white, black] | 28 data bits, MSB first | CRC-8 of them | [black, white]

A white block is a 1. The value is milliseconds modulo ``2**28`` (about
74.6 hours; :func:`unwrap` restores the full value near a known time). The
band scales with the frame (16 px blocks at 640 wide, 32 at 1280), so it
survives x264 at the project's settings and uniform scaling; the decoder
reads each block's centre and thresholds it between the guard blocks'
levels, then checks the CRC, so a frame without the band reads as None.

``clock="stream"`` stamps the ``time`` parameter (the frame's output time,
supplied by the interpreter: deterministic); ``clock="wall"`` stamps
``time.time()`` at the moment the effect renders the frame, for latency
measurements (not deterministic: the same recipe renders different bytes).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence

import numpy as np

from effects.frame import YUVFrame
from effects.kernels._base import NEUTRAL_UV, Params

__all__ = [
    "BITS",
    "BLOCKS",
    "MIN_WIDTH",
    "MODULUS",
    "Band",
    "crc8",
    "encode_bits",
    "read_timecode",
    "stamp_value",
    "unwrap",
]

BLOCKS = 40
"""Blocks across the frame: 2 start guards, 28 data, 8 CRC, 2 end guards."""
BITS = 28
"""Data bits: the value is milliseconds modulo ``2**BITS``."""
MODULUS = 1 << BITS
WHITE_Y = 235  # video-range white and black
BLACK_Y = 16
MIN_WIDTH = 2 * BLOCKS
"""Narrowest frame whose band reads back (blocks of 2 px)."""
_START = (1, 0)
_END = (0, 1)
_MIN_CONTRAST = 48.0  # guard white - guard black, in luma levels, for a band to count


def crc8(value: int, bits: int = BITS) -> int:
    """CRC-8 (polynomial 0x07, init 0) of the ``bits`` low bits of ``value``, MSB first."""
    crc = 0
    for i in range(bits - 1, -1, -1):
        top = ((crc >> 7) & 1) ^ ((value >> i) & 1)
        crc = ((crc << 1) & 0xFF) ^ (0x07 if top else 0)
    return crc


def encode_bits(value: int) -> list[int]:
    """The :data:`BLOCKS` block bits (1 = white) of ``value`` modulo :data:`MODULUS`."""
    v = value % MODULUS
    data = [(v >> i) & 1 for i in range(BITS - 1, -1, -1)]
    c = crc8(v)
    check = [(c >> i) & 1 for i in range(7, -1, -1)]
    return [*_START, *data, *check, *_END]


def unwrap(value: int, near_ms: int) -> int:
    """The full millisecond count congruent to ``value`` mod :data:`MODULUS` nearest ``near_ms``."""
    base = near_ms - (near_ms % MODULUS) + value
    return min((base - MODULUS, base, base + MODULUS), key=lambda x: abs(x - near_ms))


class Band:
    """Where the band of a ``width`` x ``height`` frame lies (the effect's scratch state).

    Any frame takes a band; it reads back from :data:`MIN_WIDTH` px wide.
    """

    def __init__(self, width: int, height: int) -> None:
        self.block = min(height, max(1, width // BLOCKS))
        self.width = width
        self.height = height
        edges = [round(i * width / BLOCKS) for i in range(BLOCKS + 1)]
        self.widths = [b - a for a, b in itertools.pairwise(edges)]

    def rows(self, position: str) -> tuple[int, int]:
        """First and last + 1 luma rows of the band at ``position`` (top or bottom)."""
        if position == "bottom":
            return self.height - self.block, self.height
        return 0, self.block

    def row(self, value: int) -> np.ndarray:
        """One luma row of the band for ``value``."""
        levels = np.where(np.asarray(encode_bits(value)) == 1, WHITE_Y, BLACK_Y)
        return np.repeat(levels.astype(np.uint8), self.widths)


def stamp_value(clock: str, time_s: float) -> int:
    """Milliseconds to stamp: ``time_s`` (stream) or the wall clock now, mod :data:`MODULUS`."""
    ms = time.time() * 1000.0 if clock == "wall" else time_s * 1000.0
    return round(ms) % MODULUS


def _timecode(inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, s: Band) -> None:
    out.data[:] = inputs[0].data
    r0, r1 = s.rows(str(p["position"]))
    out.y[r0:r1, :] = s.row(stamp_value(str(p["clock"]), float(p["time"])))
    # chroma rows covering the band (4:2:0: one chroma row per two luma rows)
    out.u[r0 // 2 : (r1 + 1) // 2, :] = NEUTRAL_UV
    out.v[r0 // 2 : (r1 + 1) // 2, :] = NEUTRAL_UV


def _block_means(band: np.ndarray) -> np.ndarray:
    """Mean luma of the central half of each block of a band (rows x width)."""
    rows, width = band.shape
    q = rows // 4
    core = band[q : rows - q].astype(np.float32).mean(axis=0)
    means = np.empty(BLOCKS, dtype=np.float32)
    bw = width / BLOCKS
    for i in range(BLOCKS):
        a = int(i * bw + bw / 4)
        b = max(a + 1, int((i + 1) * bw - bw / 4))
        means[i] = core[a:b].mean()
    return means


def _decode_band(band: np.ndarray) -> int | None:
    m = _block_means(band)
    white = min(m[0], m[BLOCKS - 1])
    black = max(m[1], m[BLOCKS - 2])
    if white - black < _MIN_CONTRAST:
        return None
    mid = (white + black) / 2.0
    margin = (white - black) / 4.0
    if np.any(np.abs(m - mid) < margin):
        return None  # a block neither clearly black nor clearly white
    bits = (m > mid).astype(np.int64).tolist()
    if tuple(bits[:2]) != _START or tuple(bits[-2:]) != _END:
        return None
    value = 0
    for b in bits[2 : 2 + BITS]:
        value = (value << 1) | b
    check = 0
    for b in bits[2 + BITS : BLOCKS - 2]:
        check = (check << 1) | b
    return value if check == crc8(value) else None


def read_timecode(y: np.ndarray, position: str | None = None) -> int | None:
    """The value stamped into a luma plane (ms mod :data:`MODULUS`), or None if none reads.

    Works on the plane at any uniform scale of the stamped frame, or on just
    its band (a plane ``width // 40`` rows high).

    Args:
        y: Luma (or any grey level) plane, ``(height, width)``.
        position: ``"top"`` or ``"bottom"``; None tries both, top first.
    """
    if y.ndim != 2:
        return None
    h, w = y.shape
    block = w // BLOCKS
    if block < 2 or h < block:
        return None
    spots = (position,) if position else ("top", "bottom")
    for spot in spots:
        band = y[h - block :] if spot == "bottom" else y[:block]
        value = _decode_band(np.asarray(band))
        if value is not None:
            return value
    return None
