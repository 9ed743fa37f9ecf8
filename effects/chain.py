"""Linear chains of single-input effects with pre-allocated buffers and fusion."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from effects.frame import YUVFrame
from effects.fusion import FusedColour, fusion_groups
from effects.registry import Effect, EffectError, EffectSpec, ParamValue

__all__ = ["EffectChain"]


class EffectChain:
    """Run effects one after another on frames of one size.

    Consecutive fusable colour effects run as one pass. Two frame buffers are
    allocated once and used in turn, so ``apply`` allocates nothing per frame.

    Args:
        nodes: ``(spec, params)`` per effect, in order; ``params`` are the
            constant values (checked here, defaults filled in).
        width: Frame width (even).
        height: Frame height (even).

    Raises:
        EffectError: an effect takes more than one input.
        EffectParamError: a constant parameter is unknown or out of range.
    """

    def __init__(
        self,
        nodes: Sequence[tuple[EffectSpec, Mapping[str, ParamValue]]],
        width: int,
        height: int,
    ) -> None:
        self.width, self.height = width, height
        self.specs = tuple(spec for spec, _ in nodes)
        for spec in self.specs:
            if spec.arity != 1:
                raise EffectError(
                    f"effect {spec.name!r} takes {spec.arity} inputs; a chain takes one"
                )
        self.base: list[dict[str, ParamValue]] = [spec.resolve(p) for spec, p in nodes]
        self.groups = fusion_groups(self.specs)
        self._stages: list[FusedColour | Effect] = []
        for g in self.groups:
            if len(g) > 1 or self.specs[g[0]].fusable:
                self._stages.append(FusedColour([self.specs[i] for i in g]))
            else:
                self._stages.append(self.specs[g[0]].factory(width, height))
        self._bufs = (YUVFrame.alloc(width, height), YUVFrame.alloc(width, height))

    @property
    def passes(self) -> int:
        """Number of passes over the frame per ``apply`` (after fusion)."""
        return len(self._stages)

    def apply(
        self,
        frame: YUVFrame,
        params: Sequence[Mapping[str, ParamValue]] = (),
        frame_index: int = 0,
    ) -> YUVFrame:
        """Run the chain on one frame.

        Args:
            frame: Input frame (not modified).
            params: Per-node parameter values for this frame, overriding the
                constants (empty: constants only).
            frame_index: Frame number, for temporal and seeded effects.

        Returns:
            A frame owned by the chain, valid until the next call.
        """
        if (frame.width, frame.height) != (self.width, self.height):
            raise EffectError(
                f"frame is {frame.width}x{frame.height}, chain was built for {self.width}x{self.height}"
            )
        if params and len(params) != len(self.specs):
            raise EffectError(
                f"got parameters for {len(params)} nodes, chain has {len(self.specs)}"
            )
        merged = [b | dict(params[i]) for i, b in enumerate(self.base)] if params else self.base
        src = frame
        for n, (stage, group) in enumerate(zip(self._stages, self.groups, strict=True)):
            dst = self._bufs[n % 2]
            if isinstance(stage, FusedColour):
                stage.apply(src, dst, [merged[i] for i in group])
            else:
                stage.apply([src], dst, merged[group[0]], frame_index)
            src = dst
        if src is frame:  # empty chain
            self._bufs[0].data[:] = frame.data
            return self._bufs[0]
        return src

    def reset(self) -> None:
        """Clear the state of temporal effects."""
        for stage in self._stages:
            if not isinstance(stage, FusedColour):
                stage.reset()
