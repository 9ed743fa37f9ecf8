"""The output clock: the frame being rendered and the variables expressions read.

Every per-frame parameter of a compiled recipe is a :data:`Value` that reads
the one :class:`Clock` of its graph, so all expressions see the output
timeline (not the time of the stream they happen to sit in).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from interpreter.runtime.analysis import AnalysisTrack
from interpreter.runtime.base import Timing

if TYPE_CHECKING:
    from interpreter.expr import FrameContext

__all__ = ["Clock", "Value"]

Value = Callable[[], float]
"""A per-frame parameter: called once per output frame, reads the :class:`Clock`."""


class Clock:
    """The current output frame and the variables expressions read.

    Attributes:
        timing: Output grid (frame index -> time).
        analysis: Track sampled when an expression names no ANALYZE step.
        params: Recipe parameter values by name.
        n: Output frame being rendered; the runner sets it before each read.
    """

    def __init__(self, timing: Timing, analysis: AnalysisTrack, params: Mapping[str, Any]) -> None:
        self.timing = timing
        self.analysis = analysis
        self.params = dict(params)
        self.n = 0
        self._ctx_n = -1
        self._ctx: dict[int, FrameContext] = {}

    def context(self, track: AnalysisTrack | None = None) -> FrameContext:
        """The FrameContext of the current frame for ``track`` (built once per frame).

        Args:
            track: Analysis to sample (None: :attr:`analysis`).
        """
        track = track or self.analysis
        if self._ctx_n != self.n:
            self._ctx.clear()
            self._ctx_n = self.n
        ctx = self._ctx.get(id(track))
        if ctx is None:
            from interpreter.expr import FrameContext

            t = self.timing.time_of(self.n)
            a = track.sample(t)
            ctx = FrameContext(
                t=t,
                frame=self.n,
                beat=int(a["beat"]),
                beat_phase=a["beat_phase"],
                since_beat=a["since_beat"],
                energy=a["energy"],
                bass=a["bass"],
                mid=a["mid"],
                high=a["high"],
            )
            self._ctx[id(track)] = ctx
        return ctx
