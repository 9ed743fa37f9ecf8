"""A synthetic colourful frame for the effects tests (PyAV converts RGB to yuv420p).

A named module, not conftest: a ``conftest`` import finds whichever conftest
pytest imported last when several test folders are collected together.
"""

from __future__ import annotations

import av
import numpy as np

from effects.frame import YUVFrame

__all__ = ["pattern"]


def pattern(width: int, height: int, seed: int = 0) -> YUVFrame:
    """A smooth colourful pattern plus mild noise, through PyAV's rgb24 -> yuv420p."""
    rng = np.random.default_rng(seed)
    jj, ii = np.meshgrid(np.linspace(0, 1, width), np.linspace(0, 1, height))
    rgb = np.stack(
        [
            128 + 100 * np.sin(6 * jj + seed),
            128 + 100 * np.cos(5 * ii + 2 * jj),
            128 + 100 * np.sin(4 * (ii - jj) + 1),
        ],
        -1,
    )
    rgb += rng.normal(0, 6, rgb.shape)
    rgb = np.clip(rgb, 0, 255).astype(np.uint8)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
    return YUVFrame.wrap(np.ascontiguousarray(frame.to_ndarray(format="yuv420p")))
