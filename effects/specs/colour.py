"""Colour effects: declarations (kernels in :mod:`effects.kernels.colour`,
:mod:`effects.kernels.colour_ops` and :mod:`effects.kernels.lut3d`).

Most are fusable: ``extra["colour_op"]`` builds the effect's ``ColourOp`` (a
luma table plus an affine chroma map) from its parameter values, and
consecutive fusable effects run as one pass (see ``effects.fusion``). The op
builders are lazy: the first call imports ``colour_ops``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from effects.kernels._base import Params
from effects.registry import EffectSpec, ParamSpec
from effects.specs._declare import KernelRef, fspec, lazy

if TYPE_CHECKING:
    from effects.frame import YUVFrame
    from effects.kernels.colour_ops import ColourOp, OpBuilder

__all__ = ["SPECS"]

_K = "effects.kernels.colour"
_OPS = "effects.kernels.colour_ops"
_LUT = "effects.kernels.lut3d"

_APPLY_REF: KernelRef[Callable[[ColourOp, YUVFrame, YUVFrame], None]] = KernelRef(
    _OPS, "apply_colour_op"
)
_apply = lazy(_APPLY_REF)
_LUT_CACHE: KernelRef[Callable[[], object]] = KernelRef(_LUT, "LutCache")

_AMOUNT01 = ParamSpec("amount", "float", 1.0, 0.0, 1.0, "", "strength, 0 = unchanged, 1 = full")


def _colour(name: str, doc: str, op: str, params: tuple[ParamSpec, ...]) -> EffectSpec:
    """A fusable colour effect: ``op`` names its ColourOp builder in ``colour_ops``.

    Applied alone, the effect builds its op and applies it; fusion composes
    the ops of a run of such effects (``extra["colour_op"]``).
    """
    ref: KernelRef[OpBuilder] = KernelRef(_OPS, op)
    builder = lazy(ref)

    def apply(inputs: Sequence[YUVFrame], out: YUVFrame, p: Params, fi: int, s: object) -> None:
        _apply(builder(p), inputs[0], out)

    return fspec(name, doc, "colour", params, apply, fusable=True, extra={"colour_op": builder})


SPECS = (
    _colour("identity", "Pass the frame through unchanged.", "op_identity", ()),
    _colour("invert", "Negate every plane (photographic negative).", "op_invert", (_AMOUNT01,)),
    _colour(
        "brightness",
        "Add to luma; +1 is full white, -1 full black.",
        "op_brightness",
        (
            ParamSpec(
                "amount", "float", 0.0, -1.0, 1.0, "", "luma offset as a fraction of full scale"
            ),
        ),
    ),
    _colour(
        "contrast",
        "Scale luma and chroma about mid grey.",
        "op_contrast",
        (ParamSpec("amount", "float", 1.0, 0.0, 4.0, "x", "contrast factor, 1 = unchanged"),),
    ),
    _colour(
        "saturation",
        "Scale colourfulness (chroma).",
        "op_saturation",
        (
            ParamSpec(
                "amount", "float", 1.0, 0.0, 4.0, "x", "saturation factor, 1 = unchanged, 0 = grey"
            ),
        ),
    ),
    _colour(
        "hue",
        "Rotate hue (rotation of the U/V chroma pair, as ffmpeg's hue filter).",
        "op_hue",
        (ParamSpec("degrees", "float", 0.0, -360.0, 360.0, "deg", "hue rotation angle"),),
    ),
    _colour(
        "gamma",
        "Luma gamma curve; >1 brightens mid-tones.",
        "op_gamma",
        (ParamSpec("gamma", "float", 1.0, 0.1, 10.0, "", "gamma, 1 = unchanged"),),
    ),
    _colour(
        "levels",
        "Map an input luma range to an output range with a mid-tone gamma.",
        "op_levels",
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
        KernelRef(_K, "_posterize"),
    ),
    _colour(
        "threshold",
        "Black and white: luma at or above level becomes white.",
        "op_threshold",
        (ParamSpec("level", "float", 128.0, 0.0, 255.0, "", "luma threshold"),),
    ),
    _colour("grayscale", "Remove colour.", "op_grayscale", (_AMOUNT01,)),
    _colour(
        "tint",
        "Mix towards a colour.",
        "op_tint",
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
        "op_color_balance",
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
        KernelRef(_LUT, "apply_lut3d"),
        scratch=lambda w, h: _LUT_CACHE.resolve()(),
        layout="rgb24",
    ),
)
