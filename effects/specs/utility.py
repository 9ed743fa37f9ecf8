"""Utility effects: measurement aids (kernels in :mod:`effects.kernels.timecode`)."""

from __future__ import annotations

from effects.registry import STREAM_TIME, ParamSpec
from effects.specs._declare import KernelRef, fspec

__all__ = ["SPECS"]

_K = "effects.kernels.timecode"

SPECS = (
    fspec(
        "timecode",
        "Stamp a time in milliseconds into the frame as a machine-readable band of blocks.",
        "utility",
        (
            ParamSpec(
                "clock",
                "enum",
                "stream",
                doc="stream: the frame's output time (deterministic); "
                "wall: the wall clock when the frame renders (latency measurement, "
                "not deterministic)",
                choices=("stream", "wall"),
                animatable=False,
            ),
            ParamSpec(
                "time",
                "float",
                0.0,
                0.0,
                1e9,
                "s",
                "time stamped with clock stream (default: the frame's output time t)",
            ),
            ParamSpec(
                "position",
                "enum",
                "top",
                doc="frame edge the band sits on",
                choices=("top", "bottom"),
                animatable=False,
            ),
        ),
        KernelRef(_K, "_timecode"),
        scratch=KernelRef(_K, "Band"),
        extra={STREAM_TIME: "time"},
    ),
)
