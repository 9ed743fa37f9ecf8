"""Plane resampling for the ABR ladder: area (box) downscale, bilinear upscale.

A resize is separable, so each axis gets a table of source taps: for output
index ``i``, ``starts[i]`` is the first source index and ``weights[i, k]``
the fixed-point weight (sum exactly ``1 << WEIGHT_BITS``) of source
``starts[i] + k``. Downscaling, the weights are the overlap of each source
pixel with the output pixel's footprint (area averaging, no aliasing from
skipped pixels); upscaling, they are the two bilinear taps.

:func:`resample_plane` does the vertical pass row by row into one int32 row
(a contiguous multiply-add numba vectorises), then the horizontal pass from
that row, so the temporary is one row, not a plane. The horizontal pass runs
tap by tap over the whole output row (:func:`row_taps`: absolute source
indices and weights, tap-major) rather than pixel by pixel over a variable
number of taps: the inner loop is then one gather-multiply-add without
branches, which measured 2-2.4x faster at 1080p -> 720p/480p/360p. The
vertical sum is rounded to 7 fractional bits first so the horizontal sum
stays in int32 (error under 1/256 of a level). Tables are built once per
geometry (:func:`axis_taps`, :func:`row_taps`, plain numpy) and reused for
every frame.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["WEIGHT_BITS", "axis_taps", "resample_plane", "row_taps"]

#: Fixed-point precision of the tap weights.
WEIGHT_BITS = 14


def axis_taps(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Source taps for resampling one axis from ``n_in`` to ``n_out`` samples.

    Returns:
        ``(starts, weights)``: int32 ``(n_out,)`` and int32 ``(n_out, taps)``;
        every row of ``weights`` sums to ``1 << WEIGHT_BITS`` and every tap
        ``starts[i] + k`` with a non-zero weight lies in ``0..n_in-1``.
    """
    if n_in <= 0 or n_out <= 0:
        raise ValueError(f"sizes must be positive, got {n_in} -> {n_out}")
    scale = n_in / n_out
    one = 1 << WEIGHT_BITS
    rows: list[tuple[int, list[float]]] = []
    if scale >= 1.0:  # area: overlap of [j, j+1) with [i*s, (i+1)*s)
        for i in range(n_out):
            lo, hi = i * scale, (i + 1) * scale
            j0, j1 = math.floor(lo), min(math.ceil(hi), n_in)
            rows.append((j0, [min(hi, j + 1) - max(lo, j) for j in range(j0, j1)]))
    else:  # bilinear at pixel centres, clamped at the edges
        for i in range(n_out):
            x = min(max((i + 0.5) * scale - 0.5, 0.0), n_in - 1.0)
            j0 = min(math.floor(x), n_in - 2) if n_in > 1 else 0
            f = x - j0
            rows.append((j0, [1.0 - f, f] if n_in > 1 else [1.0]))
    taps = max(len(w) for _, w in rows)
    starts = np.zeros(n_out, np.int32)
    weights = np.zeros((n_out, taps), np.int32)
    for i, (j0, w) in enumerate(rows):
        total = math.fsum(w)
        fixed = [round(x / total * one) for x in w]
        # The rounding error goes to the largest tap so the row sums to exactly one.
        fixed[int(np.argmax(fixed))] += one - sum(fixed)
        starts[i] = j0
        weights[i, : len(fixed)] = fixed
    return starts, weights


#: Fractional bits the vertical sum keeps for the horizontal pass (int32 headroom).
_ROW_BITS = 7


def row_taps(starts: np.ndarray, weights: np.ndarray, n_in: int) -> tuple[np.ndarray, np.ndarray]:
    """The horizontal pass's tables, tap-major, from :func:`axis_taps`'s.

    Returns:
        ``(index, weights)``: intp ``(taps, n_out)`` absolute source indices
        (zero-weight taps clamped inside ``0..n_in-1``) and int32
        ``(taps, n_out)`` weights.
    """
    taps = weights.shape[1]
    index = np.minimum(starts[None, :].astype(np.intp) + np.arange(taps)[:, None], n_in - 1)
    return np.ascontiguousarray(index), np.ascontiguousarray(weights.T, dtype=np.int32)


@njit(nogil=True, cache=True)
def resample_plane(
    src: np.ndarray,
    dst: np.ndarray,
    x_index: np.ndarray,
    x_weights: np.ndarray,
    y_starts: np.ndarray,
    y_weights: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """Resample uint8 plane ``src`` into ``dst`` with the axis tap tables.

    ``dst`` has shape ``(len(y_starts), x_index.shape[1])``; the vertical tables
    come from :func:`axis_taps`, the horizontal ones from :func:`row_taps`, for
    ``src``'s and ``dst``'s sizes. Rounds to nearest.
    """
    h_in, w_in = src.shape
    h_out, w_out = dst.shape
    y_taps = y_weights.shape[1]
    x_taps = x_index.shape[0]
    row = np.empty(w_in, np.int32)
    acc = np.empty(w_out, np.int32)
    row_half = np.int32(1 << (_ROW_BITS - 1))
    shift = 2 * WEIGHT_BITS - _ROW_BITS
    half = np.int32(1 << (shift - 1))
    for oy in range(h_out):
        row[:] = 0
        y0 = y_starts[oy]
        for k in range(y_taps):
            wy = y_weights[oy, k]
            if wy == 0 or y0 + k >= h_in:
                continue
            line = src[y0 + k]
            for x in range(w_in):
                row[x] += wy * np.int32(line[x])
        for x in range(w_in):
            row[x] = (row[x] + row_half) >> _ROW_BITS
        acc[:] = half
        for k in range(x_taps):
            index = x_index[k]
            weight = x_weights[k]
            for ox in range(w_out):
                acc[ox] += weight[ox] * row[index[ox]]
        out = dst[oy]
        for ox in range(w_out):
            out[ox] = np.uint8(acc[ox] >> shift)
