"""Spatial filters: declarations (kernels in :mod:`effects.kernels.spatial`)."""

from __future__ import annotations

from effects.registry import ParamSpec
from effects.specs._declare import KernelRef, fspec

__all__ = ["SPECS"]

_K = "effects.kernels.spatial"

SPECS = (
    fspec(
        "blur",
        "Box blur (mean over a (2r+1) square), any radius at constant cost.",
        "spatial",
        (
            ParamSpec(
                "radius", "float", 2.0, 0.0, 200.0, "px", "blur radius, rounded to whole pixels"
            ),
        ),
        KernelRef(_K, "_blur"),
        scratch=KernelRef(_K, "BlurScratch"),
    ),
    fspec(
        "gaussian_blur",
        "Gaussian blur approximated by three box passes, constant cost per pixel.",
        "spatial",
        (ParamSpec("sigma", "float", 2.0, 0.0, 100.0, "px", "standard deviation"),),
        KernelRef(_K, "_gaussian"),
        scratch=KernelRef(_K, "BlurScratch"),
    ),
    fspec(
        "sharpen",
        "Unsharp mask on luma.",
        "spatial",
        (
            ParamSpec("amount", "float", 1.0, 0.0, 10.0, "x", "how much detail to add back"),
            ParamSpec(
                "radius", "float", 1.0, 1.0, 20.0, "px", "size of the detail removed by the blur"
            ),
        ),
        KernelRef(_K, "_sharpen"),
        scratch=KernelRef(_K, "BlurScratch"),
    ),
    fspec(
        "edges",
        "Sobel edge magnitude as grey (alias of a sobel filter).",
        "spatial",
        (ParamSpec("strength", "float", 1.0, 0.0, 10.0, "x", "gain on the gradient magnitude"),),
        KernelRef(_K, "_edges"),
        scratch=KernelRef(_K, "BlurScratch"),
    ),
    fspec(
        "emboss",
        "Emboss relief in grey around mid level.",
        "spatial",
        (ParamSpec("strength", "float", 1.0, 0.0, 10.0, "x", "relief depth"),),
        KernelRef(_K, "_emboss"),
        scratch=KernelRef(_K, "BlurScratch"),
    ),
    fspec(
        "pixelate",
        "Mosaic of square blocks, each its mean colour.",
        "spatial",
        (ParamSpec("size", "int", 16, 2, 512, "px", "block size (rounded down to even)"),),
        KernelRef(_K, "_pixelate"),
    ),
)
