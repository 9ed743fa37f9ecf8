"""Spatial filters on YUV 4:2:0 planes.

Box and gaussian blurs are separable running sums (O(1) per pixel for any
radius); the gaussian is three successive box passes with widths chosen so
their variance matches ``sigma`` (the classic "boxes for gauss"). Chroma is
filtered at half resolution with half the radius so the blur looks the same
on every plane. Edges clamp (the border pixel repeats).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numba import njit

from effects.frame import YUVFrame
from effects.kernels._base import KernelFloat, KernelInt, Params

__all__ = ["BlurScratch", "box_plane", "gauss_radii"]


@njit(nogil=True, cache=True, inline="always")
def _hsum_interior(row: np.ndarray, t: np.ndarray, r: int, lo: int, hi: int, s: KernelInt) -> None:
    """``t[j] = sum(row[j - r : j + r + 1])`` for j in [lo, hi), no clamping needed.

    Radii 1-4 add the taps directly, which vectorises (about 2x faster than
    the running sum, whose loop-carried dependency keeps it scalar); larger
    radii continue the running sum ``s`` (the sum at ``lo - 1``).
    """
    n = hi - lo
    if n <= 0:
        return
    a = row[lo - r :]
    o = t[lo:]
    if r == 1:
        for q in range(n):
            o[q] = np.int32(a[q]) + np.int32(a[q + 1]) + np.int32(a[q + 2])
    elif r == 2:
        for q in range(n):
            o[q] = (
                np.int32(a[q])
                + np.int32(a[q + 1])
                + np.int32(a[q + 2])
                + np.int32(a[q + 3])
                + np.int32(a[q + 4])
            )
    elif r == 3:
        for q in range(n):
            o[q] = (
                np.int32(a[q])
                + np.int32(a[q + 1])
                + np.int32(a[q + 2])
                + np.int32(a[q + 3])
                + np.int32(a[q + 4])
                + np.int32(a[q + 5])
                + np.int32(a[q + 6])
            )
    elif r == 4:
        for q in range(n):
            o[q] = (
                np.int32(a[q])
                + np.int32(a[q + 1])
                + np.int32(a[q + 2])
                + np.int32(a[q + 3])
                + np.int32(a[q + 4])
                + np.int32(a[q + 5])
                + np.int32(a[q + 6])
                + np.int32(a[q + 7])
                + np.int32(a[q + 8])
            )
    else:
        # Unsigned indices skip numba's negative-index wraparound branch.
        for j in range(lo, hi):
            uj = np.uint64(j)
            s += np.int32(row[uj + np.uint64(r)]) - np.int32(row[uj - np.uint64(r + 1)])
            t[uj] = s


@njit(nogil=True, cache=True)
def box_plane(
    src: np.ndarray, dst: np.ndarray, tmp: np.ndarray, colsum: np.ndarray, r: int
) -> None:
    """Box blur of radius ``r`` (window 2r+1), clamped edges; ``dst`` may be ``src``."""
    h, w = src.shape
    if r <= 0:
        for i in range(h):
            for j in range(w):
                dst[i, j] = src[i, j]
        return
    mid_lo = min(r + 1, w)
    mid_hi = max(w - r, mid_lo)
    for i in range(h):
        row = src[i]
        t = tmp[i]
        s: KernelInt = 0
        for k in range(-r, r + 1):
            s += np.int32(row[min(max(k, 0), w - 1)])
        t[0] = s
        for j in range(1, mid_lo):
            s += np.int32(row[min(j + r, w - 1)]) - np.int32(row[max(j - r - 1, 0)])
            t[j] = s
        _hsum_interior(row, t, r, mid_lo, mid_hi, s)
        if mid_hi > mid_lo:
            s = t[mid_hi - 1]
        for j in range(mid_hi, w):
            s += np.int32(row[min(j + r, w - 1)]) - np.int32(row[max(j - r - 1, 0)])
            t[j] = s
    n = (2 * r + 1) * (2 * r + 1)
    inv = np.int64(round((1 << 24) / n))
    half = np.int64(1 << 23)
    for j in range(w):
        colsum[j] = 0
    for k in range(-r, r + 1):
        kk = min(max(k, 0), h - 1)
        for j in range(w):
            colsum[j] += tmp[kk, j]
    for i in range(h):
        for j in range(w):
            dst[i, j] = np.uint8((np.int64(colsum[j]) * inv + half) >> 24)
        add = min(i + r + 1, h - 1)
        sub = max(i - r, 0)
        for j in range(w):
            colsum[j] += tmp[add, j] - tmp[sub, j]


class BlurScratch:
    """Buffers for separable passes, allocated once per frame size."""

    def __init__(self, width: int, height: int) -> None:
        self.tmp = np.empty((height, width), dtype=np.int32)
        self.colsum = np.empty(width, dtype=np.int32)
        self.tmp_c = np.empty((height // 2, width // 2), dtype=np.int32)
        self.colsum_c = np.empty(width // 2, dtype=np.int32)
        self.plane = np.empty((height, width), dtype=np.uint8)


def _box_frame(src: YUVFrame, out: YUVFrame, s: BlurScratch, r: int, rc: int) -> None:
    box_plane(src.y, out.y, s.tmp, s.colsum, r)
    box_plane(src.u, out.u, s.tmp_c, s.colsum_c, rc)
    box_plane(src.v, out.v, s.tmp_c, s.colsum_c, rc)


def _blur(inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, s: BlurScratch) -> None:
    r = round(float(p["radius"]))
    _box_frame(inputs[0], out, s, r, (r + 1) // 2)


def gauss_radii(sigma: float, passes: int = 3) -> list[int]:
    """Box radii whose successive application approximates a gaussian of ``sigma``."""
    if sigma <= 0:
        return [0] * passes
    ideal = math.sqrt(12.0 * sigma * sigma / passes + 1.0)
    wl = math.floor(ideal)
    if wl % 2 == 0:
        wl -= 1
    wu = wl + 2
    m = round(
        (12 * sigma * sigma - passes * wl * wl - 4 * passes * wl - 3 * passes) / (-4 * wl - 4)
    )
    return [(wl if i < m else wu) // 2 for i in range(passes)]


def _gaussian(
    inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, s: BlurScratch
) -> None:
    sigma = float(p["sigma"])
    src = inputs[0]
    for i, (r, rc) in enumerate(zip(gauss_radii(sigma), gauss_radii(sigma / 2), strict=True)):
        _box_frame(src if i == 0 else out, out, s, r, rc)


@njit(nogil=True, cache=True)
def _unsharp(src: np.ndarray, blurred: np.ndarray, dst: np.ndarray, amount: float) -> None:
    h, w = src.shape
    a = np.float32(amount)
    for i in range(h):
        for j in range(w):
            x = np.float32(src[i, j])
            v = x + a * (x - np.float32(blurred[i, j])) + np.float32(0.5)
            dst[i, j] = np.uint8(min(max(v, np.float32(0.0)), np.float32(255.0)))


def _sharpen(inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, s: BlurScratch) -> None:
    src = inputs[0]
    box_plane(src.y, s.plane, s.tmp, s.colsum, round(float(p["radius"])))
    _unsharp(src.y, s.plane, out.y, float(p["amount"]))
    if src.data is not out.data:
        out.u[:, :] = src.u
        out.v[:, :] = src.v


@njit(nogil=True, cache=True, inline="always")
def _stencil_px(
    r0: np.ndarray,
    r1: np.ndarray,
    r2: np.ndarray,
    j0: int,
    j: int,
    j2: int,
    mode: int,
    strength: float,
    bias: float,
) -> np.uint8:
    """One output pixel from rows above/at/below and columns left/centre/right."""
    a = np.float32(r0[j0])
    b = np.float32(r0[j])
    c = np.float32(r0[j2])
    d = np.float32(r1[j0])
    f = np.float32(r1[j2])
    g = np.float32(r2[j0])
    hh = np.float32(r2[j])
    k = np.float32(r2[j2])
    v: KernelFloat
    if mode == 0:
        gx = (c + 2 * f + k) - (a + 2 * d + g)
        gy = (g + 2 * hh + k) - (a + 2 * b + c)
        v = math.sqrt(gx * gx + gy * gy) * strength + bias
    else:
        v = ((k + f + hh) - (a + b + d)) * strength + bias
    return np.uint8(min(max(v + np.float32(0.5), np.float32(0.0)), np.float32(255.0)))


@njit(nogil=True, cache=True)
def _stencil(src: np.ndarray, dst: np.ndarray, mode: int, strength: float, bias: float) -> None:
    """3x3 stencils with clamped edges: mode 0 sobel magnitude, 1 emboss.

    Interior columns run a loop with no clamping and the mode fixed (one per
    mode, so each vectorises); the first and last columns clamp.
    """
    h, w = src.shape
    for i in range(h):
        r0 = src[max(i - 1, 0)]
        r1 = src[i]
        r2 = src[min(i + 1, h - 1)]
        out = dst[i]
        out[0] = _stencil_px(r0, r1, r2, 0, 0, min(1, w - 1), mode, strength, bias)
        if mode == 0:
            for j in range(1, w - 1):
                out[j] = _stencil_px(r0, r1, r2, j - 1, j, j + 1, 0, strength, bias)
        else:
            for j in range(1, w - 1):
                out[j] = _stencil_px(r0, r1, r2, j - 1, j, j + 1, 1, strength, bias)
        if w > 1:
            out[w - 1] = _stencil_px(r0, r1, r2, w - 2, w - 1, w - 1, mode, strength, bias)


def _neutral_chroma(out: YUVFrame) -> None:
    out.u.fill(128)
    out.v.fill(128)


def _edges(inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, s: BlurScratch) -> None:
    src = inputs[0]
    _stencil(src.y, s.plane, 0, float(p["strength"]) * 0.25, 0.0)
    out.y[:, :] = s.plane
    _neutral_chroma(out)


def _emboss(inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, s: BlurScratch) -> None:
    src = inputs[0]
    _stencil(src.y, s.plane, 1, float(p["strength"]), 128.0)
    out.y[:, :] = s.plane
    _neutral_chroma(out)


@njit(nogil=True, cache=True)
def pixelate_plane(src: np.ndarray, dst: np.ndarray, size: int) -> None:
    """Replace each size x size block (clipped at edges) by its rounded mean."""
    h, w = src.shape
    for bi in range(0, h, size):
        ie = min(bi + size, h)
        for bj in range(0, w, size):
            je = min(bj + size, w)
            s: KernelInt = 0
            for i in range(bi, ie):
                for j in range(bj, je):
                    s += np.int32(src[i, j])
            n = (ie - bi) * (je - bj)
            m = np.uint8((s + n // 2) // n)
            for i in range(bi, ie):
                for j in range(bj, je):
                    dst[i, j] = m


def _pixelate(inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, s: object) -> None:
    size = max(2, 2 * (int(p["size"]) // 2))  # even, so chroma blocks align with luma blocks
    src = inputs[0]
    pixelate_plane(src.y, out.y, size)
    pixelate_plane(src.u, out.u, size // 2)
    pixelate_plane(src.v, out.v, size // 2)
