"""Glitch effects: declarations (kernels in :mod:`effects.kernels.glitch`)."""

from __future__ import annotations

from effects.registry import ParamSpec
from effects.specs._declare import KernelRef, fspec

__all__ = ["SPECS"]

_K = "effects.kernels.glitch"

_SEED = ParamSpec(
    "seed",
    "int",
    0,
    0,
    2**31 - 1,
    "",
    "random seed (combined with the frame index)",
    animatable=False,
)

SPECS = (
    fspec(
        "rgb_split",
        "Colour fringing: red and blue difference planes pushed apart (YUV chroma split).",
        "glitch",
        (
            ParamSpec("x", "float", 8.0, -200.0, 200.0, "px", "horizontal separation"),
            ParamSpec("y", "float", 0.0, -200.0, 200.0, "px", "vertical separation"),
        ),
        KernelRef(_K, "_rgb_split"),
        scratch=KernelRef(_K, "_Copy"),
    ),
    fspec(
        "scanlines",
        "Displace random bands of lines sideways (wrapping).",
        "glitch",
        (
            ParamSpec("amount", "float", 40.0, 0.0, 2000.0, "px", "largest sideways shift"),
            ParamSpec("line_height", "int", 8, 1, 512, "px", "rows per band"),
            ParamSpec("probability", "float", 0.3, 0.0, 1.0, "", "fraction of bands displaced"),
            _SEED,
        ),
        KernelRef(_K, "_scanlines"),
        scratch=KernelRef(_K, "_Copy"),
    ),
    fspec(
        "noise",
        "Film grain: uniform noise, deterministic per seed and frame.",
        "glitch",
        (
            ParamSpec("amount", "float", 16.0, 0.0, 255.0, "", "largest luma change in levels"),
            ParamSpec(
                "mono", "bool", True, doc="luma only (true) or also chroma", animatable=False
            ),
            _SEED,
        ),
        KernelRef(_K, "_noise"),
    ),
)
