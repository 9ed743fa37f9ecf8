# mypy: disable-error-code="arg-type,assignment,return-value"
# (numba kernels mix numpy scalar types with Python ints/floats by design)
"""Geometric effects: affine transform, mirror, kaleidoscope, tile, wave.

Luma is resampled at full resolution and chroma at half with the same
geometry (translations halved), which avoids any RGB round trip. Bilinear
sampling of the affine ``transform`` uses 16.16 fixed-point coordinates
stepped per column from precomputed row terms and 8-bit weights, the fast
path the perf baseline measured. Edge modes: ``black`` (fill outside),
``clamp`` (repeat the border), ``wrap`` (tile), ``mirror`` (reflect).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numba import njit

from effects.frame import YUVFrame
from effects.kernels._base import BLACK_Y, NEUTRAL_UV, Params, fspec
from effects.kernels._unaligned import load_u16
from effects.registry import ParamSpec

__all__ = [
    "EDGE_MODES",
    "SPECS",
    "affine_coeffs",
    "edge_index",
    "sample_row",
    "warp_affine",
    "warp_affine2",
]

EDGE_MODES = ("black", "clamp", "wrap", "mirror")


@njit(nogil=True, cache=True, inline="always")
def edge_index(k: int, n: int, edge: int) -> int:
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
def _tap(src: np.ndarray, y: int, x: int, edge: int, fill: int) -> int:
    h, w = src.shape
    yi = edge_index(y, h, edge)
    xi = edge_index(x, w, edge)
    if yi < 0 or xi < 0:
        return fill
    return np.int64(src[yi, xi])


@njit(nogil=True, cache=True, inline="always")
def _span(start: int, step: int, limit: int, w: int) -> tuple[int, int]:
    """Columns j in [lo, hi) with 0 <= start + j*step < limit (all 16.16 fixed point)."""
    if step == 0:
        return (0, w) if 0 <= start < limit else (0, 0)
    if step > 0:
        lo = (-start + step - 1) // step  # ceil(-start / step)
        hi = (limit - start + step - 1) // step
    else:
        s = -step
        lo = (start - limit) // s + 1
        hi = start // s + 1
    return min(max(lo, 0), w), max(min(hi, w), 0)


@njit(nogil=True, cache=True, inline="always")
def _edge_pixel(src: np.ndarray, sx: int, sy: int, edge: int, fill: int) -> np.uint8:
    x0 = sx >> 16
    y0 = sy >> 16
    sh, sw = src.shape
    if edge == 0 and (x0 < -1 or y0 < -1 or x0 >= sw or y0 >= sh):
        return np.uint8(fill)  # whole footprint outside: no taps needed
    fx = (sx >> 8) & 255
    fy = (sy >> 8) & 255
    p00 = _tap(src, y0, x0, edge, fill)
    p01 = _tap(src, y0, x0 + 1, edge, fill)
    p10 = _tap(src, y0 + 1, x0, edge, fill)
    p11 = _tap(src, y0 + 1, x0 + 1, edge, fill)
    top = p00 * (256 - fx) + p01 * fx
    bot = p10 * (256 - fx) + p11 * fx
    return np.uint8((top * (256 - fy) + bot * fy + 32768) >> 16)


@njit(nogil=True, cache=True, inline="always")
def _row_span(sx0: int, sy0: int, ia: int, idd: int, sw: int, sh: int, w: int) -> tuple[int, int]:
    xl, xh = _span(sx0, ia, np.int64(sw - 1) << 16, w)
    yl, yh = _span(sy0, idd, np.int64(sh - 1) << 16, w)
    lo = min(max(xl, yl), w)
    return lo, max(min(xh, yh), lo)


@njit(nogil=True, cache=True, inline="always")
def _interior_coords(
    sxl: int,
    syl: int,
    ia: int,
    idd: int,
    sw: int,
    n: int,
    idx: np.ndarray,
    wx: np.ndarray,
    wy: np.ndarray,
) -> None:
    """Flat top-left tap index and 8-bit weights for n columns of one row's interior span.

    ``sxl``/``syl`` are the 16.16 source coordinates of the span's first column.
    Inside the span every coordinate lies in ``[0, (size - 1) << 16)``, so int32
    holds them (planes narrower and shorter than 32768) and the loop vectorises.
    """
    sx0 = np.int32(sxl)
    sy0 = np.int32(syl)
    a = np.int32(ia)
    d = np.int32(idd)
    w = np.int32(sw)
    for t in range(n):
        tt = np.int32(t)
        sx = sx0 + tt * a
        sy = sy0 + tt * d
        idx[t] = (sy >> 16) * w + (sx >> 16)
        wx[t] = (sx >> 8) & 255
        wy[t] = (sy >> 8) & 255


@njit(nogil=True, cache=True, inline="always")
def _gather_quads(flat: np.ndarray, sw: int, n: int, idx: np.ndarray, pk: np.ndarray) -> None:
    """``pk[t]`` = the 2x2 footprint at ``idx[t]`` packed into 32 bits (the one scalar loop).

    Each footprint row is one unaligned uint16 load; the span guarantees
    ``idx[t] + sw + 1`` is inside ``flat``.
    """
    usw = np.uint32(sw)
    for t in range(n):
        # Unsigned offsets: the span guarantees k >= 0.
        k = np.uint32(idx[t])
        pk[t] = np.uint32(load_u16(flat, k)) | (np.uint32(load_u16(flat, k + usw)) << 16)


@njit(nogil=True, cache=True, inline="always")
def _blend_quads(n: int, pk: np.ndarray, wx: np.ndarray, wy: np.ndarray, out: np.ndarray) -> None:
    """Bilinear blend of packed footprints with 8-bit weights, rounded (vectorises)."""
    for t in range(n):
        p = pk[t]
        fx = wx[t]
        fy = wy[t]
        p00 = np.int32(p & 255)
        p01 = np.int32((p >> 8) & 255)
        p10 = np.int32((p >> 16) & 255)
        p11 = np.int32(p >> 24)
        top = (p00 << 8) + (p01 - p00) * fx
        bot = (p10 << 8) + (p11 - p10) * fx
        out[t] = np.uint8(((top << 8) + (bot - top) * fy + 32768) >> 16)


@njit(nogil=True, cache=True)
def warp_affine(
    src: np.ndarray,
    dst: np.ndarray,
    a: float,
    b: float,
    c: float,
    d: float,
    e: float,
    f: float,
    edge: int,
    fill: int,
) -> None:
    """``dst[i, j] = bilinear(src, x=a*j + b*i + c, y=d*j + e*i + f)``; src is not dst.

    Per row, the columns whose 2x2 footprint lies inside the source form one
    interval (coordinates are linear in j). That interval runs in three loops:
    coordinates and weights (vectorised), the four taps gathered as two
    unaligned uint16 loads and packed into one uint32 (scalar: LLVM emits no
    gathers for znver4, and an explicit AVX-512 ``vpgatherdd`` measured no
    faster), and the blend (vectorised); about 3x faster than one fused
    scalar loop. The rest
    of the row goes through the edge mode. Planes must be under 32768 pixels
    on a side (int32 coordinates).
    """
    h, w = dst.shape
    sh, sw = src.shape
    if sw >= 32768 or sh >= 32768:
        raise ValueError("warp_affine: source planes must be under 32768 pixels a side")
    flat = src.reshape(-1)
    ia = np.int64(round(a * 65536.0))
    idd = np.int64(round(d * 65536.0))
    idx = np.empty(w, np.int32)
    wx = np.empty(w, np.int32)
    wy = np.empty(w, np.int32)
    pk = np.empty(w, np.uint32)
    for i in range(h):
        sx0 = np.int64(round((b * i + c) * 65536.0))
        sy0 = np.int64(round((e * i + f) * 65536.0))
        lo, hi = _row_span(sx0, sy0, ia, idd, sw, sh, w)
        row = dst[i]
        for j in range(0, lo):
            row[j] = _edge_pixel(src, sx0 + j * ia, sy0 + j * idd, edge, fill)
        n = hi - lo
        _interior_coords(sx0 + lo * ia, sy0 + lo * idd, ia, idd, sw, n, idx, wx, wy)
        _gather_quads(flat, sw, n, idx, pk)
        _blend_quads(n, pk, wx, wy, row[lo:hi])
        for j in range(hi, w):
            row[j] = _edge_pixel(src, sx0 + j * ia, sy0 + j * idd, edge, fill)


@njit(nogil=True, cache=True)
def warp_affine2(
    su: np.ndarray,
    sv: np.ndarray,
    du: np.ndarray,
    dv: np.ndarray,
    a: float,
    b: float,
    c: float,
    d: float,
    e: float,
    f: float,
    edge: int,
    fill: int,
) -> None:
    """``warp_affine`` of two same-size planes (U and V) sharing the coordinate work."""
    h, w = du.shape
    sh, sw = su.shape
    if sw >= 32768 or sh >= 32768:
        raise ValueError("warp_affine2: source planes must be under 32768 pixels a side")
    fu = su.reshape(-1)
    fv = sv.reshape(-1)
    ia = np.int64(round(a * 65536.0))
    idd = np.int64(round(d * 65536.0))
    idx = np.empty(w, np.int32)
    wx = np.empty(w, np.int32)
    wy = np.empty(w, np.int32)
    pk = np.empty(w, np.uint32)
    for i in range(h):
        sx0 = np.int64(round((b * i + c) * 65536.0))
        sy0 = np.int64(round((e * i + f) * 65536.0))
        lo, hi = _row_span(sx0, sy0, ia, idd, sw, sh, w)
        ru = du[i]
        rv = dv[i]
        for j in range(0, lo):
            ru[j] = _edge_pixel(su, sx0 + j * ia, sy0 + j * idd, edge, fill)
            rv[j] = _edge_pixel(sv, sx0 + j * ia, sy0 + j * idd, edge, fill)
        n = hi - lo
        _interior_coords(sx0 + lo * ia, sy0 + lo * idd, ia, idd, sw, n, idx, wx, wy)
        _gather_quads(fu, sw, n, idx, pk)
        _blend_quads(n, pk, wx, wy, ru[lo:hi])
        _gather_quads(fv, sw, n, idx, pk)
        _blend_quads(n, pk, wx, wy, rv[lo:hi])
        for j in range(hi, w):
            ru[j] = _edge_pixel(su, sx0 + j * ia, sy0 + j * idd, edge, fill)
            rv[j] = _edge_pixel(sv, sx0 + j * ia, sy0 + j * idd, edge, fill)


def affine_coeffs(
    width: int, height: int, zoom: float, rotate: float, x: float, y: float
) -> tuple[float, float, float, float, float, float]:
    """Coefficients mapping destination pixel (j, i) to a source position.

    The image is zoomed and rotated (clockwise on screen for positive
    ``rotate``) about its centre, then moved by (x, y) pixels.
    """
    cx, cy = width / 2.0, height / 2.0
    cs, sn = math.cos(rotate) / zoom, math.sin(rotate) / zoom
    px, py = 0.5 - cx - x, 0.5 - cy - y
    return (
        cs,
        sn,
        cs * px + sn * py + cx - 0.5,
        -sn,
        cs,
        -sn * px + cs * py + cy - 0.5,
    )


class _Scratch:
    def __init__(self, width: int, height: int) -> None:
        self.buf = np.empty((height * 3 // 2, width), dtype=np.uint8)

    def source(self, src: YUVFrame, out: YUVFrame) -> YUVFrame:
        """``src`` itself, or a copy of it when the effect writes in place."""
        if src.data is out.data or np.shares_memory(src.data, out.data):
            self.buf[:] = src.data
            return YUVFrame(self.buf, src.width, src.height)
        return src


def _edge_param(default: str) -> ParamSpec:
    return ParamSpec(
        "edge",
        "enum",
        default,
        doc="what is sampled outside the frame",
        choices=EDGE_MODES,
        animatable=False,
    )


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


_AXES = ("horizontal", "vertical", "both")


def _mirror(inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, s: _Scratch) -> None:
    src = s.source(inputs[0], out)
    axis = _AXES.index(str(p["axis"]))
    for a, b in zip((src.y, src.u, src.v), (out.y, out.u, out.v), strict=True):
        mirror_plane(a, b, axis)


@njit(nogil=True, cache=True, inline="always")
def sample_bilinear(src: np.ndarray, x: float, y: float, edge: int, fill: int) -> np.uint8:
    """Bilinear sample at float position (x, y) with an edge mode."""
    x0f = math.floor(x)
    y0f = math.floor(y)
    fx = x - x0f
    fy = y - y0f
    x0 = int(x0f)
    y0 = int(y0f)
    p00 = _tap(src, y0, x0, edge, fill)
    p01 = _tap(src, y0, x0 + 1, edge, fill)
    p10 = _tap(src, y0 + 1, x0, edge, fill)
    p11 = _tap(src, y0 + 1, x0 + 1, edge, fill)
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
def _row_work(
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
    xs, ys, k, fxs, fys, pk, ok = _row_work(w)
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
    xs, ys, k, fxs, fys, pk, ok = _row_work(w)
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


SPECS = (
    fspec(
        "transform",
        "Zoom, rotate and move the frame (bilinear sampling).",
        "geometric",
        (
            ParamSpec("zoom", "float", 1.0, 0.01, 100.0, "x", "scale factor, 1 = unchanged"),
            ParamSpec(
                "rotate", "float", 0.0, None, None, "rad", "clockwise rotation about the centre"
            ),
            ParamSpec("x", "float", 0.0, None, None, "px", "horizontal move, positive = right"),
            ParamSpec("y", "float", 0.0, None, None, "px", "vertical move, positive = down"),
            _edge_param("black"),
        ),
        _transform,
        scratch=_Scratch,
    ),
    fspec(
        "mirror",
        "Reflect one half of the frame onto the other.",
        "geometric",
        (
            ParamSpec(
                "axis",
                "enum",
                "horizontal",
                doc="horizontal: left onto right; vertical: top onto bottom",
                choices=_AXES,
                animatable=False,
            ),
        ),
        _mirror,
        scratch=_Scratch,
    ),
    fspec(
        "kaleidoscope",
        "Mirror wedges around the centre (coordinate map cached while segments hold; rotation is cheap).",
        "geometric",
        (
            ParamSpec("segments", "int", 6, 1, 64, "", "number of mirrored wedge pairs"),
            ParamSpec("rotate", "float", 0.0, None, None, "rad", "rotation of the sampled wedge"),
        ),
        _kaleidoscope,
        scratch=_KaleidoScratch,
    ),
    fspec(
        "tile",
        "Repeat a shrunken copy count x count times.",
        "geometric",
        (ParamSpec("count", "int", 2, 1, 32, "", "tiles per side"),),
        _tile,
        scratch=_Scratch,
    ),
    fspec(
        "wave",
        "Sinusoidal ripple: rows (or columns) shifted by a sine wave.",
        "geometric",
        (
            ParamSpec("amplitude", "float", 10.0, 0.0, 500.0, "px", "largest shift"),
            ParamSpec("wavelength", "float", 60.0, 2.0, 5000.0, "px", "period of the wave"),
            ParamSpec(
                "phase", "float", 0.0, None, None, "rad", "phase; animate it to move the wave"
            ),
            ParamSpec(
                "direction",
                "enum",
                "horizontal",
                doc="horizontal shifts rows, vertical shifts columns",
                choices=("horizontal", "vertical"),
                animatable=False,
            ),
            _edge_param("mirror"),
        ),
        _wave,
        scratch=_Scratch,
    ),
)
