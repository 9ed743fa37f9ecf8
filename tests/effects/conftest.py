"""Synthetic frames for the effects tests (PyAV converts an RGB pattern to yuv420p)."""

from __future__ import annotations

import av
import numpy as np
import pytest

from effects.frame import YUVFrame

W, H = 318, 242  # odd-ish: H % 4 == 2, so the chroma planes are not row aligned


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


@pytest.fixture(scope="session")
def frame() -> YUVFrame:
    return pattern(W, H, 0)


@pytest.fixture(scope="session")
def frame_b() -> YUVFrame:
    return pattern(W, H, 3)


@pytest.fixture(scope="session")
def noisy() -> YUVFrame:
    """Full-range random bytes: every level, sharp edges."""
    rng = np.random.default_rng(7)
    return YUVFrame.wrap(rng.integers(0, 256, (H * 3 // 2, W), dtype=np.uint8))
