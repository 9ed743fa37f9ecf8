"""Memory stays flat over a 10-minute render (small frames keep the test quick)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

from effects.frame import AudioFormat, VideoFormat, YUVFrame
from interpreter.stream import StreamInterpreter
from tests.interpreter.stream.stream_recipes import generator, recipe, step


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class CountingSink:
    """Keeps nothing; samples RSS along the way."""

    def __init__(self) -> None:
        self.frames = 0
        self.samples = 0
        self.rss: list[float] = []

    async def start(self, video: VideoFormat, audio: AudioFormat | None, cb: Any) -> None:
        pass

    def write(self, frame: YUVFrame, audio: np.ndarray | None) -> None:
        self.frames += 1
        self.samples += 0 if audio is None else audio.shape[1]
        if self.frames % 1800 == 0:
            self.rss.append(_rss_mb())

    async def finish(self) -> int:
        return self.frames

    async def abort(self) -> None:
        pass


@pytest.mark.slow
async def test_ten_minute_render_memory_is_flat() -> None:
    r = recipe(
        generator("v", "testsrc", duration=600.0),
        generator("a", "clicks", duration=600.0),
        step("inv", "EFFECT", ("v",), effect="invert", params={}),
        step("m", "MUX", ("inv", "a")),
        output="m",
    )
    sink = CountingSink()
    await StreamInterpreter(r, {}, sink, video_format=VideoFormat(64, 48, 30, 1)).run()
    assert sink.frames == 18000
    assert sink.samples == 600 * 48000
    # after the first minute (allocator warm), RSS does not grow
    assert max(sink.rss[1:]) - sink.rss[1] < 15.0, sink.rss
