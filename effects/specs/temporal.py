"""Temporal effects: declarations (kernels in :mod:`effects.kernels.temporal`)."""

from __future__ import annotations

from collections.abc import Callable

from effects.registry import Effect, EffectSpec, ParamSpec
from effects.specs._declare import KernelRef, fspec, lazy

__all__ = ["ECHO_PARAMS", "FEEDBACK_PARAMS", "FEEDBACK_PREROLL", "MAX_ECHO", "SPECS"]

_K = "effects.kernels.temporal"
_FEEDBACK: KernelRef[Callable[[int, int], Effect]] = KernelRef(_K, "Feedback")
_ECHO: KernelRef[Callable[[int, int], Effect]] = KernelRef(_K, "Echo")

#: Frames ``echo`` can hold (its ring buffer size).
MAX_ECHO = 16

#: Frames of trail ``feedback`` keeps when a render starts mid-stream. Its
#: memory is unbounded (each output mixes in the previous one), so a chunked
#: render defines it as windowed: the trail at a chunk's first frame is built
#: from these earlier frames only (0.8**60 < 1e-5: invisible at the default
#: amount). The chunk grid is fixed by settings, so the bytes do not depend on
#: which worker renders a chunk or in what order.
FEEDBACK_PREROLL = 60

FEEDBACK_PARAMS = (
    ParamSpec(
        "amount", "float", 0.8, 0.0, 0.99, "", "weight of the previous output (trail length)"
    ),
    ParamSpec("zoom", "float", 1.0, 0.5, 2.0, "x", "zoom applied to the trail each frame"),
    ParamSpec("rotate", "float", 0.0, -3.2, 3.2, "rad", "rotation applied to the trail each frame"),
)

ECHO_PARAMS = (
    ParamSpec("frames", "int", 4, 1, MAX_ECHO, "frames", "how many past frames are mixed"),
    ParamSpec("decay", "float", 0.6, 0.0, 1.0, "", "weight ratio between successive past frames"),
)

_STROBE_PARAMS = (
    ParamSpec("period", "int", 8, 1, 10000, "frames", "frames per strobe cycle"),
    ParamSpec("duty", "int", 1, 0, 10000, "frames", "flash frames at the start of each cycle"),
    ParamSpec("level", "int", 235, 0, 255, "", "flash luma (235 video white, 16 black)"),
)

SPECS = (
    EffectSpec(
        "feedback",
        "Video feedback trails: the previous output, zoomed/rotated, mixed under the input.",
        "temporal",
        FEEDBACK_PARAMS,
        lazy(_FEEDBACK),
        temporal=True,
        preroll=FEEDBACK_PREROLL,
    ),
    EffectSpec(
        "echo",
        "Average of recent frames with decaying weights.",
        "temporal",
        ECHO_PARAMS,
        lazy(_ECHO),
        temporal=True,
        preroll=MAX_ECHO - 1,  # the ring holds the last MAX_ECHO inputs: exact
    ),
    fspec(
        "strobe",
        "Flash a flat frame every period frames (driven by the frame index).",
        "temporal",
        _STROBE_PARAMS,
        KernelRef(_K, "_strobe"),
        temporal=True,
    ),
)
