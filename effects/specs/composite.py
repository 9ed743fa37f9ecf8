"""Two-input and compositing effects: declarations (kernels in :mod:`effects.kernels.composite`)."""

from __future__ import annotations

from effects.registry import ParamSpec
from effects.specs._declare import KernelRef, fspec

__all__ = ["BLEND_MODES", "SPECS"]

_K = "effects.kernels.composite"

BLEND_MODES = ("normal", "add", "multiply", "screen", "overlay", "difference", "lighten", "darken")

SPECS = (
    fspec(
        "blend",
        "Blend two inputs with a blend mode (on luma) and an opacity.",
        "composite",
        (
            ParamSpec(
                "mode", "enum", "normal", doc="blend mode", choices=BLEND_MODES, animatable=False
            ),
            ParamSpec(
                "opacity", "float", 1.0, 0.0, 1.0, "", "0 = first input only, 1 = fully blended"
            ),
        ),
        KernelRef(_K, "_blend"),
        arity=2,
    ),
    fspec(
        "crossfade",
        "Linear mix from the first input (0) to the second (1).",
        "composite",
        (ParamSpec("mix", "float", 0.5, 0.0, 1.0, "", "position of the fade"),),
        KernelRef(_K, "_crossfade"),
        arity=2,
    ),
    fspec(
        "chroma_key",
        "Replace the key colour of the first input by the second input.",
        "composite",
        (
            ParamSpec(
                "color", "color", (0.0, 255.0, 0.0), unit="rgb", doc="key colour", animatable=False
            ),
            ParamSpec("similarity", "float", 0.1, 0.0, 1.0, "", "chroma distance keyed out fully"),
            ParamSpec(
                "softness", "float", 0.1, 0.0, 1.0, "", "width of the soft edge beyond similarity"
            ),
        ),
        KernelRef(_K, "_chroma_key"),
        scratch=KernelRef(_K, "_Alpha"),
        arity=2,
    ),
    fspec(
        "vignette",
        "Darken and desaturate towards the corners.",
        "composite",
        (
            ParamSpec("amount", "float", 0.6, 0.0, 1.0, "", "darkening at the corners"),
            ParamSpec(
                "radius", "float", 0.5, 0.0, 1.0, "", "distance where darkening starts (corner = 1)"
            ),
            ParamSpec("softness", "float", 0.5, 0.0, 1.0, "", "width of the falloff"),
        ),
        KernelRef(_K, "_vignette"),
    ),
)
