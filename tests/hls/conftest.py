"""Fixtures for the HLS tests."""

from __future__ import annotations

import pytest

from effects.frame import AudioFormat, VideoFormat


@pytest.fixture
def small_video() -> VideoFormat:
    return VideoFormat(192, 108, 30, 1)


@pytest.fixture
def stereo() -> AudioFormat:
    return AudioFormat(48000, 2)
