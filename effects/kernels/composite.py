"""Composite effects: blend modes, crossfade, chroma key (two inputs) and vignette.

Blend modes act on luma with the usual formulas on values normalised to
0..1 (``a`` = first input, ``b`` = second); chroma is mixed linearly with the
same opacity, because multiply/screen/difference of colour-difference
signals has no meaning an artist would expect. ``normal`` with opacity t is
exactly a crossfade.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numba import njit

from effects.frame import YUVFrame
from effects.kernels._base import Params
from effects.kernels.colour_ops import rgb_to_yuv
from effects.kernels.temporal import mix_into
from effects.specs.composite import BLEND_MODES

__all__ = ["BLEND_MODES", "blend_luma"]


@njit(nogil=True, cache=True)
def blend_luma(a: np.ndarray, b: np.ndarray, dst: np.ndarray, mode: int, opacity: float) -> None:
    """Blend luma planes with one of BLEND_MODES (by index), then mix by opacity."""
    h, w = a.shape
    for i in range(h):
        for j in range(w):
            x = a[i, j] / 255.0
            y = b[i, j] / 255.0
            if mode == 0:
                m = y
            elif mode == 1:
                m = min(x + y, 1.0)
            elif mode == 2:
                m = x * y
            elif mode == 3:
                m = 1.0 - (1.0 - x) * (1.0 - y)
            elif mode == 4:
                m = 2.0 * x * y if x < 0.5 else 1.0 - 2.0 * (1.0 - x) * (1.0 - y)
            elif mode == 5:
                m = abs(x - y)
            elif mode == 6:
                m = max(x, y)
            else:
                m = min(x, y)
            v = (x + opacity * (m - x)) * 255.0 + 0.5
            dst[i, j] = np.uint8(min(max(v, 0.0), 255.0))


def _blend(inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, s: object) -> None:
    a, b = inputs[0], inputs[1]
    t = float(p["opacity"])
    blend_luma(a.y, b.y, out.y, BLEND_MODES.index(str(p["mode"])), t)
    mix_into(a.u, b.u, out.u, t)
    mix_into(a.v, b.v, out.v, t)


def _crossfade(inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, s: object) -> None:
    mix_into(inputs[0].data, inputs[1].data, out.data, float(p["mix"]))


@njit(nogil=True, cache=True)
def key_alpha(
    u: np.ndarray, v: np.ndarray, alpha: np.ndarray, ku: float, kv: float, sim: float, soft: float
) -> None:
    """Foreground opacity per chroma sample: 0 near the key colour, 1 away from it."""
    h, w = u.shape
    for i in range(h):
        for j in range(w):
            du = (u[i, j] - ku) / 255.0
            dv = (v[i, j] - kv) / 255.0
            d = math.sqrt(du * du + dv * dv)
            if soft <= 0.0:
                alpha[i, j] = 1.0 if d > sim else 0.0
            else:
                alpha[i, j] = min(max((d - sim) / soft, 0.0), 1.0)


@njit(nogil=True, cache=True)
def key_mix(fg: np.ndarray, bg: np.ndarray, dst: np.ndarray, alpha: np.ndarray, scale: int) -> None:
    """``dst = bg + alpha * (fg - bg)`` with alpha at chroma resolution (scale 2 for luma)."""
    h, w = fg.shape
    for i in range(h):
        for j in range(w):
            t = alpha[i // scale, j // scale]
            x = float(bg[i, j])
            dst[i, j] = np.uint8(x + t * (float(fg[i, j]) - x) + 0.5)


class _Alpha:
    def __init__(self, width: int, height: int) -> None:
        self.alpha = np.empty((height // 2, width // 2), dtype=np.float32)


def _chroma_key(inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, s: _Alpha) -> None:
    fg, bg = inputs[0], inputs[1]
    _, ku, kv = rgb_to_yuv(p["color"])
    key_alpha(
        fg.u, fg.v, s.alpha, float(ku), float(kv), float(p["similarity"]), float(p["softness"])
    )
    key_mix(fg.y, bg.y, out.y, s.alpha, 2)
    key_mix(fg.u, bg.u, out.u, s.alpha, 1)
    key_mix(fg.v, bg.v, out.v, s.alpha, 1)


@njit(nogil=True, cache=True)
def vignette_plane(
    src: np.ndarray, dst: np.ndarray, amount: float, radius: float, softness: float, centre: float
) -> None:
    """Pull values towards ``centre`` (0 for luma, 128 for chroma) away from the middle.

    Distance is normalised so the frame corners are at 1.
    """
    h, w = src.shape
    cx = w / 2.0
    cy = h / 2.0
    inv = 1.0 / math.sqrt(cx * cx + cy * cy)
    soft = max(softness, 1e-6)
    for i in range(h):
        dy = (i + 0.5 - cy) * inv
        for j in range(w):
            dx = (j + 0.5 - cx) * inv
            r = math.sqrt(dx * dx + dy * dy)
            t = min(max((r - radius) / soft, 0.0), 1.0)
            t = t * t * (3.0 - 2.0 * t)
            f = 1.0 - amount * t
            v = centre + (src[i, j] - centre) * f + 0.5
            dst[i, j] = np.uint8(min(max(v, 0.0), 255.0))


def _vignette(inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, s: object) -> None:
    src = inputs[0]
    a, r, sf = float(p["amount"]), float(p["radius"]), float(p["softness"])
    vignette_plane(src.y, out.y, a, r, sf, 16.0)
    vignette_plane(src.u, out.u, a, r, sf, 128.0)
    vignette_plane(src.v, out.v, a, r, sf, 128.0)
