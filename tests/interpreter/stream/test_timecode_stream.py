"""timecode through the StreamInterpreter: the interpreter supplies each frame's output time."""

from __future__ import annotations

import time

import pytest

from effects.frame import VideoFormat
from effects.kernels.timecode import read_timecode, unwrap
from interpreter.loader import load_recipe
from interpreter.stream import StreamInterpreter
from tests.interpreter.stream.stream_sink import RecordingSink

pytestmark = pytest.mark.timeout(60)

VF = VideoFormat(320, 240, 25, 1)


def _recipe(params: str, chain: bool = False) -> str:
    before = (
        "  - {id: fx, type: EFFECT, inputs: [src], config: {effect: hue, degrees: 90 * t}}\n"
        if chain
        else ""
    )
    return (
        "name: tc\nsteps:\n"
        "  - {id: src, type: SOURCE, config: {generator: testsrc, duration: 1}}\n"
        + before
        + f"  - {{id: tc, type: EFFECT, inputs: [{'fx' if chain else 'src'}], "
        + f"config: {{effect: timecode{params}}}}}\n"
        + "output: tc\n"
    )


async def _stamps(text: str) -> list[int | None]:
    sink = RecordingSink()
    await StreamInterpreter(load_recipe(text), {}, sink, video_format=VF).run()
    assert len(sink.frames) == 25
    return [read_timecode(f.y) for f in sink.frames]


@pytest.mark.parametrize("chain", [False, True])
async def test_stream_clock_stamps_each_frames_output_time(chain: bool) -> None:
    assert await _stamps(_recipe("", chain)) == [40 * n for n in range(25)]


async def test_time_given_as_an_expression() -> None:
    assert await _stamps(_recipe(", time: t + 100")) == [100_000 + 40 * n for n in range(25)]


async def test_wall_clock_stamps_when_rendered() -> None:
    before = round(time.time() * 1000)
    got = await _stamps(_recipe(", clock: wall, position: bottom"))
    after = round(time.time() * 1000)
    assert None not in got
    wall = [unwrap(v, before) for v in got if v is not None]
    assert before <= wall[0] and wall == sorted(wall) and wall[-1] <= after
