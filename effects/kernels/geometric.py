"""Geometric effects: affine transform, mirror, kaleidoscope, tile, wave.

Luma is resampled at full resolution and chroma at half with the same
geometry (translations halved), which avoids any RGB round trip. The affine
``transform`` runs the fixed-point warp of ``effects.kernels.affine``; the
coordinate maps (kaleidoscope, wave) sample through
``effects.kernels.sampling``. Edge modes: ``black`` (fill outside), ``clamp``
(repeat the border), ``wrap`` (tile), ``mirror`` (reflect).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numba import njit

from effects.frame import YUVFrame
from effects.kernels._base import BLACK_Y, NEUTRAL_UV, Params
from effects.kernels.affine import affine_coeffs, warp_affine, warp_affine2
from effects.kernels.sampling import EDGE_MODES, edge_index, row_work, sample_row
from effects.specs.geometric import MIRROR_AXES

# the warp and sampling kernels lived here; their names stay importable from this module
__all__ = [
    "EDGE_MODES",
    "MIRROR_AXES",
    "affine_coeffs",
    "edge_index",
    "sample_row",
    "warp_affine",
    "warp_affine2",
]


class _Scratch:
    def __init__(self, width: int, height: int) -> None:
        self.buf = np.empty((height * 3 // 2, width), dtype=np.uint8)

    def source(self, src: YUVFrame, out: YUVFrame) -> YUVFrame:
        """``src`` itself, or a copy of it when the effect writes in place."""
        if src.data is out.data or np.shares_memory(src.data, out.data):
            self.buf[:] = src.data
            return YUVFrame(self.buf, src.width, src.height)
        return src


def _transform(inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, s: _Scratch) -> None:
    src = s.source(inputs[0], out)
    edge = EDGE_MODES.index(str(p["edge"]))
    z, r, x, y = float(p["zoom"]), float(p["rotate"]), float(p["x"]), float(p["y"])
    w, h = src.width, src.height
    warp_affine(src.y, out.y, *affine_coeffs(w, h, z, r, x, y), edge, BLACK_Y)
    cc = affine_coeffs(w // 2, h // 2, z, r, x / 2, y / 2)
    warp_affine2(src.u, src.v, out.u, out.v, *cc, edge, NEUTRAL_UV)


@njit(nogil=True, cache=True)
def mirror_plane(src: np.ndarray, dst: np.ndarray, axis: int) -> None:
    """Reflect the left half onto the right (axis 0), top onto bottom (1) or both (2)."""
    h, w = src.shape
    for i in range(h):
        si = i if (axis == 0 or i < h // 2) else h - 1 - i
        for j in range(w):
            sj = j if (axis == 1 or j < w // 2) else w - 1 - j
            dst[i, j] = src[si, sj]


def _mirror(inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, s: _Scratch) -> None:
    src = s.source(inputs[0], out)
    axis = MIRROR_AXES.index(str(p["axis"]))
    for a, b in zip((src.y, src.u, src.v), (out.y, out.u, out.v), strict=True):
        mirror_plane(a, b, axis)


@njit(nogil=True, cache=True)
def kaleido_map(h: int, w: int, segments: int, mx: np.ndarray, my: np.ndarray) -> None:
    """Source offsets from the centre for a kaleidoscope, unrotated.

    The polar angle is folded into one wedge of pi/segments; ``kaleido_remap``
    rotates the offsets per frame, so an animated rotation costs no trig.
    """
    cx = w / 2.0
    cy = h / 2.0
    wedge = math.pi / segments
    for i in range(h):
        dy = i + 0.5 - cy
        for j in range(w):
            dx = j + 0.5 - cx
            r = math.sqrt(dx * dx + dy * dy)
            t = math.atan2(dy, dx) % (2.0 * wedge)
            if t > wedge:
                t = 2.0 * wedge - t
            mx[i, j] = r * math.cos(t)
            my[i, j] = r * math.sin(t)


@njit(nogil=True, cache=True)
def kaleido_remap(
    src: np.ndarray,
    dst: np.ndarray,
    mx: np.ndarray,
    my: np.ndarray,
    angle: float,
    edge: int,
    fill: int,
) -> None:
    """``dst = bilinear(src, centre + R(angle) @ (mx, my))`` (offsets from ``kaleido_map``)."""
    h, w = dst.shape
    ca = math.cos(angle)
    sa = math.sin(angle)
    cx = w / 2.0 - 0.5
    cy = h / 2.0 - 0.5
    xs, ys, k, fxs, fys, pk, ok = row_work(w)
    for i in range(h):
        rx = mx[i]
        ry = my[i]
        for j in range(w):
            xs[j] = cx + (ca * rx[j] - sa * ry[j])
            ys[j] = cy + (sa * rx[j] + ca * ry[j])
        sample_row(src, xs, ys, dst[i], edge, fill, k, fxs, fys, pk, ok)


class _KaleidoScratch(_Scratch):
    """Unrotated coordinate offsets, cached while ``segments`` stays the same."""

    def __init__(self, width: int, height: int) -> None:
        super().__init__(width, height)
        self.key: int | None = None
        self.maps = [
            np.empty((height, width)),
            np.empty((height, width)),
            np.empty((height // 2, width // 2)),
            np.empty((height // 2, width // 2)),
        ]

    def maps_for(self, n: int) -> list[np.ndarray]:
        if self.key != n:
            h, w = self.maps[0].shape
            kaleido_map(h, w, n, self.maps[0], self.maps[1])
            kaleido_map(h // 2, w // 2, n, self.maps[2], self.maps[3])
            self.key = n
        return self.maps


def _kaleidoscope(
    inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, s: _KaleidoScratch
) -> None:
    src = s.source(inputs[0], out)
    mx, my, cmx, cmy = s.maps_for(int(p["segments"]))
    ang = float(p["rotate"])
    kaleido_remap(src.y, out.y, mx, my, ang, 3, 0)
    kaleido_remap(src.u, out.u, cmx, cmy, ang, 3, 0)
    kaleido_remap(src.v, out.v, cmx, cmy, ang, 3, 0)


@njit(nogil=True, cache=True)
def tile_plane(src: np.ndarray, dst: np.ndarray, n: int) -> None:
    """n x n shrunken copies (nearest sampling)."""
    h, w = src.shape
    cols = np.empty(w, np.int64)
    for j in range(w):
        cols[j] = (j * n) % w  # one modulo per column, not per pixel
    for i in range(h):
        rs = src[(i * n) % h]
        rd = dst[i]
        for j in range(w):
            rd[j] = rs[cols[j]]


def _tile(inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, s: _Scratch) -> None:
    src = s.source(inputs[0], out)
    n = int(p["count"])
    for x, y in zip((src.y, src.u, src.v), (out.y, out.u, out.v), strict=True):
        tile_plane(x, y, n)


@njit(nogil=True, cache=True)
def wave_plane(
    src: np.ndarray,
    dst: np.ndarray,
    amplitude: float,
    wavelength: float,
    phase: float,
    vertical: bool,
    edge: int,
    fill: int,
) -> None:
    """Shift each row (or column) by ``amplitude * sin(2 pi k / wavelength + phase)``.

    The shift depends on the row (or column) only, so it is computed once per
    row (or once per column into a small table), not per pixel.
    """
    h, w = dst.shape
    kw = 2.0 * math.pi / wavelength
    xs, ys, k, fxs, fys, pk, ok = row_work(w)
    if vertical:
        dys = np.empty(w)
        for j in range(w):
            dys[j] = amplitude * math.sin(kw * j + phase)
            xs[j] = j
        for i in range(h):
            for j in range(w):
                ys[j] = i + dys[j]
            sample_row(src, xs, ys, dst[i], edge, fill, k, fxs, fys, pk, ok)
    else:
        for i in range(h):
            dx = amplitude * math.sin(kw * i + phase)
            for j in range(w):
                xs[j] = j + dx
                ys[j] = i
            sample_row(src, xs, ys, dst[i], edge, fill, k, fxs, fys, pk, ok)


def _wave(inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, s: _Scratch) -> None:
    src = s.source(inputs[0], out)
    amp, wl, ph = float(p["amplitude"]), float(p["wavelength"]), float(p["phase"])
    vertical = str(p["direction"]) == "vertical"
    edge = EDGE_MODES.index(str(p["edge"]))
    wave_plane(src.y, out.y, amp, wl, ph, vertical, edge, BLACK_Y)
    for x, y in ((src.u, out.u), (src.v, out.v)):
        wave_plane(x, y, amp / 2, wl / 2, ph, vertical, edge, NEUTRAL_UV)
