"""Streams that run registered effects: one effect per frame, or a fused chain."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, cast

from effects.frame import YUVFrame
from effects.registry import Effect, ParamSpec, ParamValue
from interpreter.runtime.base import Chunk, OneInput, Stream, shortest_frames
from interpreter.runtime.clock import Clock, Value
from interpreter.runtime.errors import StreamError

if TYPE_CHECKING:
    from effects.chain import EffectChain

__all__ = ["ChainStream", "DynParams", "EffectStream", "clamp_param"]

DynParams = Mapping[str, tuple[ParamSpec, Value]]
"""Per-frame effect parameters: name -> (its spec, its per-frame value)."""


def clamp_param(spec: ParamSpec, x: float) -> float | int:
    """``x`` rounded for an int parameter and kept within the parameter's range.

    Expressions may leave the range a recipe could write as a constant; the
    effect kernels are only correct inside it.
    """
    if spec.type == "int":
        x = round(x)
    if spec.min is not None:
        x = max(spec.min, x)
    if spec.max is not None:
        x = min(spec.max, x)
    return x


class EffectStream(Stream):
    """A registered effect applied per frame with per-frame parameters.

    Args:
        srcs: Input streams, as many as the effect takes; audio comes from the first.
        inst: The effect bound to the output frame size.
        base: Constant parameter values (defaults filled in).
        dyn: Parameters evaluated every frame.
        name: Effect name (for errors).
        clock: The graph's clock.
        preroll: Frames of history the effect needs (its spec's ``preroll``).
    """

    def __init__(
        self,
        srcs: list[Stream],
        inst: Effect,
        base: Mapping[str, ParamValue],
        dyn: DynParams,
        name: str,
        clock: Clock,
        preroll: int = 0,
    ) -> None:
        self.srcs = srcs
        self.preroll = preroll
        self.inst = inst
        self.base = dict(base)
        self.dyn = dyn
        self.name = name
        self.clock = clock
        self.has_video = True
        self.has_audio = srcs[0].has_audio
        self.frames = shortest_frames(srcs)
        self.k = 0

    def read(self, nsamples: int) -> Chunk:
        """The effect's output for the next input frames, with the first input's audio."""
        chunks = [s.read(nsamples if i == 0 else 0) for i, s in enumerate(self.srcs)]
        frames = [c[0] for c in chunks]
        if any(f is None for f in frames):
            raise StreamError(f"effect {self.name!r}: an input has no video")
        params = self.base
        if self.dyn:
            params = dict(self.base)
            for k, (spec, fn) in self.dyn.items():
                params[k] = clamp_param(spec, fn())
        f0 = frames[0]
        assert f0 is not None
        out = YUVFrame.alloc(f0.width, f0.height)
        # no None left: checked above
        self.inst.apply(cast(list[YUVFrame], frames), out, params, self.k)
        self.k += 1
        return out, chunks[0][1]

    def skip(self, clock: Clock, first: int, sizes: Sequence[int]) -> None:
        """Inputs skip all but the pre-roll; the pre-roll frames run through the effect."""
        cut = max(0, len(sizes) - self.preroll)
        for i, s in enumerate(self.srcs):
            s.skip(clock, first, sizes[:cut] if i == 0 else [0] * cut)
        self.k += cut
        _run_preroll(self, clock, first + cut, sizes[cut:])


class ChainStream(OneInput):
    """A fused linear chain of single-input effects (``effects.chain.EffectChain``).

    Args:
        child: The input of the first effect.
        chain: The effects, bound to the output frame size.
        dyns: Per-frame parameters of each effect, in chain order.
        clock: The graph's clock.
        preroll: Frames of history the chain needs (the largest ``preroll`` in it).
    """

    def __init__(
        self,
        child: Stream,
        chain: EffectChain,
        dyns: Sequence[DynParams],
        clock: Clock,
        preroll: int = 0,
    ) -> None:
        super().__init__(child)
        self.preroll = preroll
        self.has_video = True
        self.chain = chain
        self.dyns = dyns
        self.any_dyn = any(dyns)
        self.k = 0

    def read(self, nsamples: int) -> Chunk:
        """The chain's output for the next input frame, with its audio."""
        frame, audio = self.child.read(nsamples)
        if frame is None:
            raise StreamError("effect chain: the input has no video")
        params: Sequence[Mapping[str, ParamValue]] = (
            [{k: clamp_param(spec, fn()) for k, (spec, fn) in d.items()} for d in self.dyns]
            if self.any_dyn
            else ()
        )
        res = self.chain.apply(frame, params, self.k)
        self.k += 1
        # the chain reuses its buffers; hand a copy the sink may keep
        return res.copy(), audio

    def skip(self, clock: Clock, first: int, sizes: Sequence[int]) -> None:
        """The input skips all but the pre-roll; the pre-roll frames run through the chain."""
        cut = max(0, len(sizes) - self.preroll)
        self.child.skip(clock, first, sizes[:cut])
        self.k += cut
        _run_preroll(self, clock, first + cut, sizes[cut:])


def _run_preroll(stream: Stream, clock: Clock, first: int, sizes: Sequence[int]) -> None:
    """Read and drop ``sizes`` frames (the effect's history), each at its output frame."""
    for i, n in enumerate(sizes):
        clock.n = first + i
        stream.read(n)
