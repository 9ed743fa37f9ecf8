"""Synthetic frames for the effects tests (PyAV converts an RGB pattern to yuv420p)."""

from __future__ import annotations

import numpy as np
import pytest

from effects.frame import YUVFrame
from tests.effects.fx_pattern import pattern

W, H = 318, 242  # odd-ish: H % 4 == 2, so the chroma planes are not row aligned


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
