"""Plain numpy references for the effect kernels (float64, written for clarity)."""

from __future__ import annotations

import math

import numpy as np

from effects.frame import YUVFrame

M = np.array([[0.257, 0.504, 0.098], [-0.148, -0.291, 0.439], [0.439, -0.368, -0.071]])
OFF = np.array([16.0, 128.0, 128.0])


def planes(f: YUVFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return f.y.astype(np.float64), f.u.astype(np.float64), f.v.astype(np.float64)


def make(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> YUVFrame:
    """Round, clip and pack planes into a frame."""
    h, w = y.shape
    out = YUVFrame.alloc(w, h)
    for dst, src in ((out.y, y), (out.u, u), (out.v, v)):
        dst[:] = np.clip(np.floor(np.asarray(src, dtype=np.float64) + 0.5), 0, 255).astype(np.uint8)
    return out


def to_rgb(f: YUVFrame) -> np.ndarray:
    """Per-pixel RGB (float, unclipped), chroma repeated over its 2x2 block."""
    y, u, v = planes(f)
    u = u.repeat(2, 0).repeat(2, 1)
    v = v.repeat(2, 0).repeat(2, 1)
    yuv = np.stack([y, u, v], -1) - OFF
    rgb: np.ndarray = yuv @ np.linalg.inv(M).T
    return rgb


def from_rgb(rgb: np.ndarray) -> YUVFrame:
    """Back to yuv420p, chroma averaged over each 2x2 block."""
    yuv = rgb @ M.T + OFF
    h, w = yuv.shape[:2]
    c = yuv[..., 1:].reshape(h // 2, 2, w // 2, 2, 2).mean(axis=(1, 3))
    return make(yuv[..., 0], c[..., 0], c[..., 1])


def box(p: np.ndarray, r: int) -> np.ndarray:
    """Box mean with window 2r+1, edge-clamped, rounded half up."""
    if r <= 0:
        return p.copy()
    n = 2 * r + 1
    q = np.pad(p.astype(np.int64), r, mode="edge")
    c = q.cumsum(0).cumsum(1)
    c = np.pad(c, ((1, 0), (1, 0)))
    s: np.ndarray = c[n:, n:] - c[:-n, n:] - c[n:, :-n] + c[:-n, :-n]
    return ((s + n * n // 2) // (n * n)).astype(np.float64)


def gaussian_true(p: np.ndarray, sigma: float) -> np.ndarray:
    """Exact separable gaussian (edge-clamped), for checking the box approximation."""
    r = math.ceil(4 * sigma)
    x = np.arange(-r, r + 1)
    k = np.exp(-(x**2) / (2 * sigma * sigma))
    k /= k.sum()
    q = np.pad(p.astype(np.float64), r, mode="edge")
    q = np.apply_along_axis(lambda row: np.convolve(row, k, mode="valid"), 1, q)
    return np.apply_along_axis(lambda col: np.convolve(col, k, mode="valid"), 0, q)


def edge_idx(k: np.ndarray, n: int, edge: str) -> tuple[np.ndarray, np.ndarray]:
    """Index mapping for an edge mode and a mask of samples that use the fill."""
    inside = (k >= 0) & (k < n)
    if edge == "clamp":
        return np.clip(k, 0, n - 1), np.zeros_like(inside)
    if edge == "wrap":
        return k % n, np.zeros_like(inside)
    if edge == "mirror":
        m = k % (2 * n)
        return np.where(m < n, m, 2 * n - 1 - m), np.zeros_like(inside)
    return np.clip(k, 0, n - 1), ~inside


def bilinear(p: np.ndarray, x: np.ndarray, y: np.ndarray, edge: str, fill: float) -> np.ndarray:
    """Float bilinear sampling at positions (x, y) with an edge mode."""
    h, w = p.shape
    x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    fx, fy = x - x0, y - y0
    out = np.zeros(np.shape(x))
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            yi, ym = edge_idx(y0 + dy, h, edge)
            xi, xm = edge_idx(x0 + dx, w, edge)
            val = np.where(ym | xm, fill, p[yi, xi])
            out = out + wx * wy * val
    return out


def affine(
    p: np.ndarray, zoom: float, rot: float, tx: float, ty: float, edge: str, fill: float
) -> np.ndarray:
    """Zoom/rotate (clockwise on screen) about the centre, then move by (tx, ty)."""
    h, w = p.shape
    cx, cy = w / 2, h / 2
    jj, ii = np.meshgrid(np.arange(w), np.arange(h))
    px, py = jj + 0.5 - cx - tx, ii + 0.5 - cy - ty
    c, s = math.cos(rot), math.sin(rot)
    sx = (c * px + s * py) / zoom + cx - 0.5
    sy = (-s * px + c * py) / zoom + cy - 0.5
    return bilinear(p, sx, sy, edge, fill)


MASK64 = (1 << 64) - 1


def mix64(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.uint64)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    mixed: np.ndarray = x ^ (x >> np.uint64(31))
    return mixed


def hash3(seed: int, frame: int, k: np.ndarray) -> np.ndarray:
    g = np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        x = mix64(np.array([(seed * 0x9E3779B97F4A7C15 + frame) & MASK64], dtype=np.uint64))
        return mix64(x ^ (k.astype(np.uint64) * g))


def unit(h: np.ndarray) -> np.ndarray:
    return (h >> np.uint64(40)).astype(np.float64) / 16777216.0


def run(name: str, *frames: YUVFrame, fi: int = 0, **params: object) -> YUVFrame:
    """Apply a registered effect once on fresh state; returns a new frame."""
    from effects.catalog import default_registry

    spec = default_registry().get(name)
    f0 = frames[0]
    effect = spec.factory(f0.width, f0.height)
    out = YUVFrame.alloc(f0.width, f0.height)
    effect.apply(list(frames), out, spec.resolve(params), fi)
    return out


def diff(a: YUVFrame, b: YUVFrame) -> int:
    """Largest absolute difference over all planes."""
    return int(np.abs(a.data.astype(np.int64) - b.data.astype(np.int64)).max())
