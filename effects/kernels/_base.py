"""Small helpers shared by the kernel modules: plane access and effect wrappers.

Imports neither numpy nor numba at run time: the effect declarations
(:mod:`effects.specs`) build FnEffects and must stay cheap to import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from effects.registry import ParamValue

if TYPE_CHECKING:
    import numpy as np

    from effects.frame import YUVFrame

__all__ = ["ApplyFn", "FnEffect", "KernelFloat", "KernelInt", "Params", "planes"]

Params = dict[str, Any]
#: Scalars as jitted kernels see them: numba mixes Python numbers and numpy
#: scalars freely (``np.int64(x) + 1``), so kernel signatures accept both.
KernelInt: TypeAlias = "int | np.integer[Any]"
KernelFloat: TypeAlias = "float | np.floating[Any]"
ApplyFn: TypeAlias = "Callable[[Sequence[YUVFrame], YUVFrame, Params, int, Any], None]"

BLACK_Y = 16  # video-range black; chroma neutral is 128
NEUTRAL_UV = 128


def planes(frame: YUVFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three planes of a frame as C-contiguous views."""
    return frame.y, frame.u, frame.v


class FnEffect:
    """An Effect built from a function and optional per-instance scratch state.

    Defaults are merged under the given params each frame so callers may pass
    only what changed.
    """

    def __init__(
        self,
        fn: ApplyFn,
        defaults: Mapping[str, ParamValue],
        scratch: Any = None,
        reset: Callable[[Any], None] | None = None,
    ) -> None:
        self._fn = fn
        self._defaults = dict(defaults)
        self.scratch = scratch
        self._reset = reset

    def apply(
        self,
        inputs: Sequence[YUVFrame],
        out: YUVFrame,
        params: Mapping[str, ParamValue],
        frame_index: int,
    ) -> None:
        """Run the effect for one frame."""
        p = self._defaults.copy()
        p.update(params)
        self._fn(inputs, out, p, frame_index, self.scratch)

    def reset(self) -> None:
        """Clear temporal state, if any."""
        if self._reset is not None:
            self._reset(self.scratch)
