"""Glitch effects: chroma split, scanline displacement, deterministic grain.

Randomness is a counter-based hash (splitmix64 finaliser) of ``seed``, the
frame index and the pixel or band position, so the same input, parameters
and frame index always give identical bytes, on any thread layout.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

from effects.frame import YUVFrame
from effects.kernels._base import Params

__all__ = ["hash3", "shift_plane"]

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)


@njit(nogil=True, cache=True, inline="always")
def _mix(x: np.uint64) -> np.uint64:
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


@njit(nogil=True, cache=True, inline="always")
def hash3(seed: int, frame: int, k: int) -> np.uint64:
    """A well-mixed 64-bit hash of three integers."""
    x = _mix(np.uint64(seed) * _GOLD + np.uint64(frame))
    return _mix(x ^ (np.uint64(k) * _GOLD))


@njit(nogil=True, cache=True, inline="always")
def _unit(x: np.uint64) -> float:
    """Top 24 bits of a hash as a float in [0, 1)."""
    return float(x >> np.uint64(40)) * (1.0 / 16777216.0)


@njit(nogil=True, cache=True)
def shift_plane(src: np.ndarray, dst: np.ndarray, dx: int, dy: int) -> None:
    """Integer shift with clamped edges: ``dst[i, j] = src[i - dy, j - dx]``."""
    h, w = src.shape
    for i in range(h):
        si = min(max(i - dy, 0), h - 1)
        for j in range(w):
            dst[i, j] = src[si, min(max(j - dx, 0), w - 1)]


class _Copy:
    def __init__(self, width: int, height: int) -> None:
        self.buf = np.empty((height * 3 // 2, width), dtype=np.uint8)


def _rgb_split(inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, s: _Copy) -> None:
    src = inputs[0]
    if np.shares_memory(src.data, out.data):
        s.buf[:] = src.data
        src = YUVFrame(s.buf, src.width, src.height)
    dx, dy = round(float(p["x"]) / 2), round(float(p["y"]) / 2)
    if src.data is not out.data:
        out.y[:, :] = src.y
    shift_plane(src.v, out.v, dx, dy)  # Cr carries red: move it one way...
    shift_plane(src.u, out.u, -dx, -dy)  # ...and Cb (blue) the other


@njit(nogil=True, cache=True)
def scanline_plane(
    src: np.ndarray,
    dst: np.ndarray,
    band: int,
    amount: float,
    prob: float,
    seed: int,
    frame: int,
    scale: int,
) -> None:
    """Shift bands of ``band`` luma rows sideways (wrapping) by hashed amounts.

    ``scale`` is 1 for luma and 2 for chroma (rows and shifts halved).
    """
    h, w = src.shape
    for i in range(h):
        b = (i * scale) // band
        hv = hash3(seed, frame, b)
        dx = 0
        if _unit(hv) < prob:
            r = _unit(_mix(hv)) * 2.0 - 1.0
            dx = round(r * amount) // scale
        # dst[i, j] = src[i, (j - dx) % w] as two contiguous copies (no modulo per pixel).
        sh = dx % w
        rs = src[i]
        rd = dst[i]
        for j in range(sh):
            rd[j] = rs[w - sh + j]
        for j in range(sh, w):
            rd[j] = rs[j - sh]


def _scanlines(inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, s: _Copy) -> None:
    src = inputs[0]
    if np.shares_memory(src.data, out.data):
        s.buf[:] = src.data
        src = YUVFrame(s.buf, src.width, src.height)
    band, amount, prob, seed = (
        int(p["line_height"]),
        float(p["amount"]),
        float(p["probability"]),
        int(p["seed"]),
    )
    scanline_plane(src.y, out.y, band, amount, prob, seed, fi, 1)
    scanline_plane(src.u, out.u, band, amount, prob, seed, fi, 2)
    scanline_plane(src.v, out.v, band, amount, prob, seed, fi, 2)


@njit(nogil=True, cache=True)
def noise_plane(
    src: np.ndarray, dst: np.ndarray, amount: float, seed: int, frame: int, salt: int
) -> None:
    """Add uniform grain in [-amount, amount] levels, hashed per pixel."""
    h, w = src.shape
    for i in range(h):
        for j in range(w):
            n = (_unit(hash3(seed, frame, (i * w + j) * 4 + salt)) * 2.0 - 1.0) * amount
            v = float(src[i, j]) + n + 0.5
            dst[i, j] = np.uint8(min(max(v, 0.0), 255.0))


def _noise(inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, s: object) -> None:
    src = inputs[0]
    amount, seed = float(p["amount"]), int(p["seed"])
    noise_plane(src.y, out.y, amount, seed, fi, 0)
    if bool(p["mono"]):
        if src.data is not out.data:
            out.u[:, :] = src.u
            out.v[:, :] = src.v
    else:
        noise_plane(src.u, out.u, amount / 2, seed, fi, 1)
        noise_plane(src.v, out.v, amount / 2, seed, fi, 2)
