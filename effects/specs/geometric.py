"""Geometric effects: declarations (kernels in :mod:`effects.kernels.geometric`)."""

from __future__ import annotations

from effects.registry import ParamSpec
from effects.specs._declare import KernelRef, fspec

__all__ = ["EDGE_MODES", "MIRROR_AXES", "SPECS"]

_K = "effects.kernels.geometric"

#: What is sampled outside the frame; kernels take the index.
EDGE_MODES = ("black", "clamp", "wrap", "mirror")
#: ``mirror``'s axes; kernels take the index.
MIRROR_AXES = ("horizontal", "vertical", "both")


def _edge_param(default: str) -> ParamSpec:
    return ParamSpec(
        "edge",
        "enum",
        default,
        doc="what is sampled outside the frame",
        choices=EDGE_MODES,
        animatable=False,
    )


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
        KernelRef(_K, "_transform"),
        scratch=KernelRef(_K, "_Scratch"),
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
                choices=MIRROR_AXES,
                animatable=False,
            ),
        ),
        KernelRef(_K, "_mirror"),
        scratch=KernelRef(_K, "_Scratch"),
    ),
    fspec(
        "kaleidoscope",
        "Mirror wedges around the centre (coordinate map cached while segments hold; rotation is cheap).",
        "geometric",
        (
            ParamSpec("segments", "int", 6, 1, 64, "", "number of mirrored wedge pairs"),
            ParamSpec("rotate", "float", 0.0, None, None, "rad", "rotation of the sampled wedge"),
        ),
        KernelRef(_K, "_kaleidoscope"),
        scratch=KernelRef(_K, "_KaleidoScratch"),
    ),
    fspec(
        "tile",
        "Repeat a shrunken copy count x count times.",
        "geometric",
        (ParamSpec("count", "int", 2, 1, 32, "", "tiles per side"),),
        KernelRef(_K, "_tile"),
        scratch=KernelRef(_K, "_Scratch"),
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
        KernelRef(_K, "_wave"),
        scratch=KernelRef(_K, "_Scratch"),
    ),
)
