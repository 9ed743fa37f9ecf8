"""Scale a yuv420p frame to a ladder rung's size, plane by plane, in numba.

The effect graph renders once at the output size; each lower rung gets the
frame resampled here (area averaging downscale: :mod:`effects.kernels.resize`)
straight in YUV, so no colour conversion and no swscale per rung. The tap
tables are built once per geometry. The kernel releases the GIL, so rungs
scale concurrently in the ladder's threads.
"""

from __future__ import annotations

import numpy as np

from effects.frame import YUVFrame
from effects.kernels.resize import axis_taps, resample_plane, row_taps

__all__ = ["FrameScaler", "warm_scaler"]


class FrameScaler:
    """Resamples frames of one size to another (both even).

    Args:
        src_width: Input width.
        src_height: Input height.
        width: Output width.
        height: Output height.
    """

    def __init__(self, src_width: int, src_height: int, width: int, height: int) -> None:
        for w, h in ((src_width, src_height), (width, height)):
            if w <= 0 or h <= 0 or w % 2 or h % 2:
                raise ValueError(f"frame size must be positive and even, got {w}x{h}")
        self.src_size = (src_width, src_height)
        self.size = (width, height)
        self._luma = _tables(src_width, src_height, width, height)
        self._chroma = _tables(src_width // 2, src_height // 2, width // 2, height // 2)

    def scale(self, frame: YUVFrame, out: YUVFrame | None = None) -> YUVFrame:
        """``frame`` resampled into ``out`` (a new frame when ``None``); returns it."""
        if (frame.width, frame.height) != self.src_size:
            raise ValueError(
                f"frame is {frame.width}x{frame.height}, the scaler takes "
                f"{self.src_size[0]}x{self.src_size[1]}"
            )
        dst = out if out is not None else YUVFrame.alloc(*self.size)
        if (dst.width, dst.height) != self.size:
            raise ValueError(f"output frame is {dst.width}x{dst.height}, expected {self.size}")
        xs, xw, ys, yw = self._luma
        resample_plane(frame.y, dst.y, xs, xw, ys, yw)
        xs, xw, ys, yw = self._chroma
        resample_plane(frame.u, dst.u, xs, xw, ys, yw)
        resample_plane(frame.v, dst.v, xs, xw, ys, yw)
        return dst


def _tables(
    src_width: int, src_height: int, width: int, height: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One plane's kernel tables: horizontal (tap-major), then vertical."""
    return (
        *row_taps(*axis_taps(src_width, width), src_width),
        *axis_taps(src_height, height),
    )


def warm_scaler() -> float:
    """Compile (or load from numba's cache) the resampling kernel; returns seconds taken."""
    import time

    t0 = time.perf_counter()
    src = YUVFrame.wrap(np.full((48 * 3 // 2, 64), 128, np.uint8))
    FrameScaler(64, 48, 32, 24).scale(src)
    FrameScaler(64, 48, 96, 72).scale(src)
    return time.perf_counter() - t0
