"""Colour effects on YUV 4:2:0 planes.

Most colour effects here are defined directly in YUV and have the form
``Y' = lut[Y]`` and ``(U', V') - 128 = M (U - 128, V - 128) + o``: a luma
lookup table plus an affine map of the chroma pair. That form composes, so
consecutive effects fuse into one pass (see ``effects.fusion``). Each such
effect's spec carries ``extra["colour_op"]``, a function from its parameter
values to a ``ColourOp``.

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
from effects.kernels._base import ApplyFn, Params, fspec
from effects.kernels.colour_ops import (
    LEVELS,
    ColourOp,
    OpBuilder,
    apply_colour_op,
    op_brightness,
    op_color_balance,
    op_contrast,
    op_gamma,
    op_grayscale,
    op_hue,
    op_identity,
    op_invert,
    op_levels,
    op_saturation,
    op_threshold,
    op_tint,
    rgb_to_yuv,
    yuv_to_rgb,
)
from effects.kernels.lut3d import CubeLUT, LutCache, apply_lut3d, load_cube
from effects.registry import EffectSpec, ParamSpec

# the op algebra and the .cube reader lived here; their names stay importable from this module
__all__ = [
    "SPECS",
    "ColourOp",
    "CubeLUT",
    "apply_colour_op",
    "load_cube",
    "rgb_to_yuv",
    "yuv_to_rgb",
]


def _fused_apply(builder: OpBuilder) -> ApplyFn:
    """The per-frame apply of a fusable effect run on its own: its op, built and applied."""

    def fn(inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, scratch: object) -> None:
        apply_colour_op(builder(p), inputs[0], out)

    return fn


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


# ---------------------------------------------------------------- specs

_AMOUNT01 = ParamSpec("amount", "float", 1.0, 0.0, 1.0, "", "strength, 0 = unchanged, 1 = full")


def _colour(name: str, doc: str, builder: OpBuilder, params: tuple[ParamSpec, ...]) -> EffectSpec:
    """A fusable colour effect: its op builder applied alone, and offered to fusion."""
    return fspec(
        name,
        doc,
        "colour",
        params,
        _fused_apply(builder),
        fusable=True,
        extra={"colour_op": builder},
    )


SPECS = (
    _colour("identity", "Pass the frame through unchanged.", op_identity, ()),
    _colour("invert", "Negate every plane (photographic negative).", op_invert, (_AMOUNT01,)),
    _colour(
        "brightness",
        "Add to luma; +1 is full white, -1 full black.",
        op_brightness,
        (
            ParamSpec(
                "amount", "float", 0.0, -1.0, 1.0, "", "luma offset as a fraction of full scale"
            ),
        ),
    ),
    _colour(
        "contrast",
        "Scale luma and chroma about mid grey.",
        op_contrast,
        (ParamSpec("amount", "float", 1.0, 0.0, 4.0, "x", "contrast factor, 1 = unchanged"),),
    ),
    _colour(
        "saturation",
        "Scale colourfulness (chroma).",
        op_saturation,
        (
            ParamSpec(
                "amount", "float", 1.0, 0.0, 4.0, "x", "saturation factor, 1 = unchanged, 0 = grey"
            ),
        ),
    ),
    _colour(
        "hue",
        "Rotate hue (rotation of the U/V chroma pair, as ffmpeg's hue filter).",
        op_hue,
        (ParamSpec("degrees", "float", 0.0, -360.0, 360.0, "deg", "hue rotation angle"),),
    ),
    _colour(
        "gamma",
        "Luma gamma curve; >1 brightens mid-tones.",
        op_gamma,
        (ParamSpec("gamma", "float", 1.0, 0.1, 10.0, "", "gamma, 1 = unchanged"),),
    ),
    _colour(
        "levels",
        "Map an input luma range to an output range with a mid-tone gamma.",
        op_levels,
        (
            ParamSpec("in_black", "float", 0.0, 0.0, 255.0, "", "input level mapped to out_black"),
            ParamSpec(
                "in_white", "float", 255.0, 0.0, 255.0, "", "input level mapped to out_white"
            ),
            ParamSpec("gamma", "float", 1.0, 0.1, 10.0, "", "mid-tone gamma"),
            ParamSpec("out_black", "float", 0.0, 0.0, 255.0, "", "output black level"),
            ParamSpec("out_white", "float", 255.0, 0.0, 255.0, "", "output white level"),
        ),
    ),
    fspec(
        "posterize",
        "Quantise each plane to a few levels.",
        "colour",
        (ParamSpec("levels", "int", 4, 2, 256, "", "number of levels per plane"),),
        _posterize,
    ),
    _colour(
        "threshold",
        "Black and white: luma at or above level becomes white.",
        op_threshold,
        (ParamSpec("level", "float", 128.0, 0.0, 255.0, "", "luma threshold"),),
    ),
    _colour("grayscale", "Remove colour.", op_grayscale, (_AMOUNT01,)),
    _colour(
        "tint",
        "Mix towards a colour.",
        op_tint,
        (
            ParamSpec(
                "color",
                "color",
                (255.0, 160.0, 60.0),
                unit="rgb",
                doc="tint colour",
                animatable=False,
            ),
            ParamSpec("amount", "float", 0.3, 0.0, 1.0, "", "mix amount"),
        ),
    ),
    _colour(
        "color_balance",
        "Shift red, green and blue (colour balance).",
        op_color_balance,
        (
            ParamSpec("red", "float", 0.0, -1.0, 1.0, "", "red offset, fraction of full scale"),
            ParamSpec("green", "float", 0.0, -1.0, 1.0, "", "green offset, fraction of full scale"),
            ParamSpec("blue", "float", 0.0, -1.0, 1.0, "", "blue offset, fraction of full scale"),
        ),
    ),
    fspec(
        "lut3d",
        "Apply a 3D colour LUT from a .cube file (trilinear, in RGB).",
        "colour",
        (
            ParamSpec("path", "path", "", doc=".cube file", animatable=False),
            ParamSpec("amount", "float", 1.0, 0.0, 1.0, "", "mix with the original"),
        ),
        apply_lut3d,
        scratch=lambda w, h: LutCache(),
        layout="rgb24",
    ),
)
