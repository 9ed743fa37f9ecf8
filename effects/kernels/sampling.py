"""Edge modes and bilinear sampling at float positions, shared by the geometric kernels.

``edge_index`` maps an out-of-range tap into the plane by the edge mode
(``black`` fills, ``clamp`` repeats the border, ``wrap`` tiles, ``mirror``
reflects); ``sample_row`` samples a whole row of float positions with the
in-plane footprints gathered as unaligned uint16 loads.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from effects.kernels._base import KernelInt
from effects.kernels._unaligned import load_u16
from effects.specs.geometric import EDGE_MODES  # declared with the effects; kernels take the index

__all__ = ["EDGE_MODES", "edge_index", "edge_tap", "row_work", "sample_bilinear", "sample_row"]


@njit(nogil=True, cache=True, inline="always")
def edge_index(k: KernelInt, n: KernelInt, edge: int) -> KernelInt:
    """Map a possibly out-of-range index into ``0..n-1``; -1 means "use the fill"."""
    if 0 <= k < n:
        return k
    if edge == 1:
        return 0 if k < 0 else n - 1
    if edge == 2:
        return k % n
    if edge == 3:
        k = k % (2 * n)
        return k if k < n else 2 * n - 1 - k
    return -1


@njit(nogil=True, cache=True, inline="always")
def edge_tap(src: np.ndarray, y: KernelInt, x: KernelInt, edge: int, fill: int) -> KernelInt:
    """The pixel at (y, x) as int64, or ``fill`` where the edge mode leaves the plane."""
    h, w = src.shape
    yi = edge_index(y, h, edge)
    xi = edge_index(x, w, edge)
    if yi < 0 or xi < 0:
        return fill
    return np.int64(src[yi, xi])


@njit(nogil=True, cache=True, inline="always")
def sample_bilinear(src: np.ndarray, x: float, y: float, edge: int, fill: int) -> np.uint8:
    """Bilinear sample at float position (x, y) with an edge mode."""
    x0f = math.floor(x)
    y0f = math.floor(y)
    fx = x - x0f
    fy = y - y0f
    x0 = int(x0f)
    y0 = int(y0f)
    p00 = edge_tap(src, y0, x0, edge, fill)
    p01 = edge_tap(src, y0, x0 + 1, edge, fill)
    p10 = edge_tap(src, y0 + 1, x0, edge, fill)
    p11 = edge_tap(src, y0 + 1, x0 + 1, edge, fill)
    v = (p00 * (1 - fx) + p01 * fx) * (1 - fy) + (p10 * (1 - fx) + p11 * fx) * fy
    return np.uint8(min(max(v + 0.5, 0.0), 255.0))


@njit(nogil=True, cache=True, inline="always")
def sample_row(
    src: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    out: np.ndarray,
    edge: int,
    fill: int,
    k: np.ndarray,
    fxs: np.ndarray,
    fys: np.ndarray,
    pk: np.ndarray,
    ok: np.ndarray,
) -> None:
    """``out[j] = sample_bilinear(src, xs[j], ys[j], edge, fill)`` for a row, in four loops.

    Positions to index and weights (vectorised), the 2x2 footprints gathered
    as two unaligned uint16 loads (scalar), the float blend (vectorised, the
    same arithmetic as ``sample_bilinear`` so results are identical), then the
    few samples whose footprint leaves the plane through the edge mode.
    ``k``, ``fxs``, ``fys``, ``pk``, ``ok`` are work arrays at least as long as ``out``.
    """
    h, w = src.shape
    n = out.shape[0]
    if w < 2 or h < 2:  # no interior; the gather below needs two rows and columns
        for j in range(n):
            out[j] = sample_bilinear(src, xs[j], ys[j], edge, fill)
        return
    flat = src.reshape(-1)
    wm1 = w - 1.0
    hm1 = h - 1.0
    for j in range(n):
        x = xs[j]
        y = ys[j]
        x0 = math.floor(x)
        y0 = math.floor(y)
        inside = (x0 >= 0.0) & (x0 < wm1) & (y0 >= 0.0) & (y0 < hm1)
        fxs[j] = x - x0
        fys[j] = y - y0
        ok[j] = inside
        # Outside samples gather the (valid) top-left footprint and are redone below.
        k[j] = np.int64(y0) * w + np.int64(x0) if inside else 0
    uw = np.uint64(w)
    for j in range(n):
        kk = np.uint64(k[j])
        pk[j] = np.uint32(load_u16(flat, kk)) | (np.uint32(load_u16(flat, kk + uw)) << 16)
    for j in range(n):
        fx = fxs[j]
        fy = fys[j]
        p = pk[j]
        p00 = np.int64(p & 255)
        p01 = np.int64((p >> 8) & 255)
        p10 = np.int64((p >> 16) & 255)
        p11 = np.int64(p >> 24)
        v = (p00 * (1 - fx) + p01 * fx) * (1 - fy) + (p10 * (1 - fx) + p11 * fx) * fy
        out[j] = np.uint8(min(max(v + 0.5, 0.0), 255.0))
    for j in range(n):
        if not ok[j]:
            out[j] = sample_bilinear(src, xs[j], ys[j], edge, fill)


@njit(nogil=True, cache=True, inline="always")
def row_work(
    n: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """xs, ys and the work arrays of ``sample_row`` for rows of n pixels."""
    return (
        np.empty(n),
        np.empty(n),
        np.empty(n, np.int64),
        np.empty(n),
        np.empty(n),
        np.empty(n, np.uint32),
        np.empty(n, np.bool_),
    )
