"""Fusion of consecutive per-pixel colour effects into one pass.

Every fusable colour effect maps its parameters to a ``ColourOp`` (a luma
table plus an affine chroma map, see ``effects.kernels.colour_ops``). A run of
them composes into a single ``ColourOp`` and runs as one luma pass and one
chroma pass, so a chain of five colour tweaks costs about one.

The fused result equals running the effects one after another except where
an intermediate chroma value would have clipped at 0 or 255 (the fused pass
clips once, at the end) and for rounding of intermediate values (at most a
level or two).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from effects.registry import EffectError, EffectSpec, ParamValue

if TYPE_CHECKING:  # the colour kernels (and numba) load when a fused pass is built
    from effects.frame import YUVFrame
    from effects.kernels.colour_ops import ColourOp

__all__ = ["FusedColour", "fuse_ops", "fusion_groups", "is_fusable"]


def is_fusable(spec: EffectSpec) -> bool:
    """Whether ``spec`` can join a fused colour pass."""
    return spec.fusable and spec.arity == 1 and not spec.temporal and "colour_op" in spec.extra


def fusion_groups(specs: Sequence[EffectSpec]) -> list[list[int]]:
    """Split node indices into stages: runs of fusable effects, other effects alone."""
    groups: list[list[int]] = []
    for i, spec in enumerate(specs):
        if is_fusable(spec) and groups and len(groups[-1]) and is_fusable(specs[groups[-1][-1]]):
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def fuse_ops(ops: Sequence[ColourOp]) -> ColourOp:
    """Compose ops applied in order into one."""
    from effects.kernels.colour_ops import ColourOp

    out = ColourOp.identity()
    for op in ops:
        out = out.then(op)
    return out


class FusedColour:
    """One pass for a run of fusable colour effects.

    ``apply`` takes the per-effect parameter mappings (already merged with
    defaults) for this frame; the composed op is cached while they do not change.
    """

    def __init__(self, specs: Sequence[EffectSpec]) -> None:
        from effects.kernels.colour_ops import ColourOp, apply_colour_op

        bad = [s.name for s in specs if not is_fusable(s)]
        if bad:
            raise EffectError(f"cannot fuse non-colour effects: {', '.join(bad)}")
        self.specs = tuple(specs)
        self._builders = [s.extra["colour_op"] for s in specs]
        self._key: Any = None
        self._op = ColourOp.identity()
        self._apply = apply_colour_op

    def op_for(self, params: Sequence[Mapping[str, ParamValue]]) -> ColourOp:
        """The composed op for these parameters (cached while unchanged)."""
        key = tuple(tuple(sorted(p.items())) for p in params)
        if key != self._key:
            self._op = fuse_ops([b(p) for b, p in zip(self._builders, params, strict=True)])
            self._key = key
        return self._op

    def apply(
        self, src: YUVFrame, out: YUVFrame, params: Sequence[Mapping[str, ParamValue]]
    ) -> None:
        """Run the fused pass from ``src`` into ``out`` (in place allowed)."""
        self._apply(self.op_for(params), src, out)
