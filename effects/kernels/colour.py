"""Colour effects on YUV 4:2:0 planes.

Most colour effects here are defined directly in YUV and have the form
``Y' = lut[Y]`` and ``(U', V') - 128 = M (U - 128, V - 128) + o``: a luma
lookup table plus an affine map of the chroma pair. That form composes, so
consecutive effects fuse into one pass (see ``effects.fusion``). Each such
effect's spec (declared in :mod:`effects.specs.colour`) carries
``extra["colour_op"]``, a function from its parameter values to a ``ColourOp``.

How the YUV definitions relate to the RGB ones (BT.601):

* ``invert``: ``255 - x`` on every plane (exact RGB negation for full-range
  video; for limited range, luma ends up 4 levels off the RGB definition).
* ``brightness``: adds ``amount * 255`` to Y only (RGB add scaled to luma).
* ``contrast``: scales Y and chroma about 128, the RGB ``(x-128)*c+128``.
* ``saturation``: scales chroma; RGB saturation about luma, up to rounding.
* ``hue``: rotates (U, V), the same approximation as ffmpeg's ``hue`` filter
  (exact RGB hue rotation would need the unequal U/V scales folded in).
* ``gamma``/``levels``/``threshold``: applied to luma only (luma
  definitions, not per RGB channel); threshold also removes chroma.
* ``grayscale``, ``tint``, ``color_balance``: affine in RGB, hence exact in
  YUV (BT.601 limited range).
* ``posterize`` quantises each plane (not fusable); ``lut3d`` converts each
  pixel to RGB, looks the .cube table up trilinearly and converts back.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

from effects.frame import YUVFrame
from effects.kernels._base import Params
from effects.kernels.colour_ops import LEVELS, ColourOp, apply_colour_op, rgb_to_yuv, yuv_to_rgb
from effects.kernels.lut3d import CubeLUT, load_cube

# the op algebra and the .cube reader lived here; their names stay importable from this module
__all__ = [
    "ColourOp",
    "CubeLUT",
    "apply_colour_op",
    "load_cube",
    "rgb_to_yuv",
    "yuv_to_rgb",
]


# ---------------------------------------------------------------- posterize


@njit(nogil=True, cache=True)
def _plane_lut(src: np.ndarray, dst: np.ndarray, lut: np.ndarray) -> None:
    h, w = src.shape
    for i in range(h):
        for j in range(w):
            dst[i, j] = lut[src[i, j]]


def posterize_lut(levels: int, centre: float) -> np.ndarray:
    """Quantise 0..255 to ``levels`` steps; chroma keeps its neutral level."""
    step = 255.0 / (levels - 1)
    out = np.floor(np.rint((LEVELS - centre) / step) * step + centre + 0.5)
    return np.clip(out, 0, 255).astype(np.uint8)


def _posterize(inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, s: object) -> None:
    n = int(p["levels"])
    src = inputs[0]
    _plane_lut(src.y, out.y, posterize_lut(n, 0.0))
    cl = posterize_lut(n, 128.0)
    _plane_lut(src.u, out.u, cl)
    _plane_lut(src.v, out.v, cl)
