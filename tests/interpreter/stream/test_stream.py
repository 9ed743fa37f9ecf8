"""StreamInterpreter through a recording sink: effects, sequences, audio sync, cancellation."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest

from effects.frame import AudioFormat, VideoFormat, YUVFrame
from effects.registry import ParamValue
from interpreter.errors import InterpreterError
from interpreter.nodes import Expr, NodeType, Pos, Step
from interpreter.runtime.errors import Cancelled, StreamError
from interpreter.stream import Progress, StreamInterpreter
from tests.interpreter.stream.stream_media import frame_number
from tests.interpreter.stream.stream_recipes import generator, recipe, step
from tests.interpreter.stream.stream_sink import RecordingSink

VF = VideoFormat(64, 48, 25, 1)


async def test_file_through_invert_with_audio(clip: Path) -> None:
    r = recipe(
        step("src", "SOURCE", input="video"),
        step("fx", "EFFECT", ("src",), effect="invert", params={}),
        output="fx",
        inputs=("video",),
    )
    sink = RecordingSink()
    events: list[Progress] = []
    result = await StreamInterpreter(r, {"video": clip}, sink, on_progress=events.append).run()
    assert result == {"frames": 50} and sink.finished and not sink.aborted
    assert sink.video == VideoFormat(64, 48, 25, 1)
    assert sink.audio == AudioFormat(48000, 2)
    # inverted luma of frame n is 255 - (16 + 4n)
    assert [round((255 - y - 16) / 4) for y in sink.lumas] == list(range(50))
    assert sum(a.shape[1] for a in sink.samples) == 2 * 48000
    assert all(a.shape[1] == 1920 for a in sink.samples)
    assert "stream-sink" in sink.threads and "MainThread" not in sink.threads
    assert events[-1].done and events[-1].frames == 50
    assert [e.frames for e in events[:-1]] == [25]


async def test_crossfade_sequence_frame_count_and_mix(clip: Path) -> None:
    r = recipe(
        generator("black", "color", duration=1.0, color=[0, 0, 0]),
        generator("white", "color", duration=1.0, color=[255, 255, 255]),
        generator("tone", "sine", duration=10.0),
        step("seq", "SEQUENCE", ("black", "white"), transition="crossfade", duration=0.4),
        step("fx", "EFFECT", ("seq",), effect="hue", params={"degrees": 90.0}),
        step("out", "MUX", ("fx", "tone")),
        output="out",
    )
    sink = RecordingSink()
    await StreamInterpreter(r, {}, sink, video_format=VF).run()
    # 25 + 25 - 10 overlapping frames
    assert len(sink.lumas) == 40
    assert sink.lumas[0] == pytest.approx(16, abs=1) and sink.lumas[-1] == pytest.approx(235, abs=1)
    fade = sink.lumas[15:25]
    assert all(b > a for a, b in itertools.pairwise(fade))
    assert sum(a.shape[1] for a in sink.samples) == round(40 / 25 * 48000)


async def test_segment_and_cut_sequence_of_a_file(clip: Path) -> None:
    r = recipe(
        step("src", "SOURCE", input="video"),
        step("a", "SEGMENT", ("src",), start=1.0, duration=0.2),
        step("b", "SEGMENT", ("src",), start=0.0, end=0.2),
        step("seq", "SEQUENCE", ("a", "b")),
        output="seq",
        inputs=("video",),
    )
    sink = RecordingSink()
    await StreamInterpreter(r, {"video": clip}, sink).run()
    assert [frame_number(y) for y in sink.lumas] == [25, 26, 27, 28, 29, 0, 1, 2, 3, 4]
    assert sum(a.shape[1] for a in sink.samples) == round(0.4 * 48000)


async def test_expression_parameter_follows_time() -> None:
    # brightness ramps with t: luma rises frame after frame
    ramp = Expr("*", (Expr("var", ("t",)), Expr("num", (0.5,))))
    r = recipe(
        generator("g", "color", duration=1.0, color=[0, 0, 0]),
        Step("tr", NodeType.TRANSFORM, ("g",), {"brightness": ramp}),
        output="tr",
    )
    sink = RecordingSink()
    await StreamInterpreter(r, {}, sink, video_format=VF).run()
    assert len(sink.lumas) == 25 and sink.samples == []
    assert sink.audio is None
    assert all(b > a for a, b in zip(sink.lumas, sink.lumas[1:], strict=False))
    assert sink.lumas[-1] == pytest.approx(16 + 219 * 0.5 * 24 / 25, abs=1.5)


async def test_audio_total_is_exact_for_ntsc_rate() -> None:
    r = recipe(
        generator("v", "testsrc", duration=60.0),
        generator("c", "clicks", duration=60.0),
        step("m", "MUX", ("v", "c")),
        output="m",
    )
    sink = RecordingSink()
    vf = VideoFormat(32, 24, 30000, 1001)
    await StreamInterpreter(r, {}, sink, video_format=vf, duration=10.01).run()
    n = len(sink.lumas)
    assert n == 300
    assert sum(a.shape[1] for a in sink.samples) == n * 48000 * 1001 // 30000 == 480480


async def test_cancel_stops_within_one_frame() -> None:
    r = recipe(generator("v", "testsrc", duration=600.0), output="v")
    sink = RecordingSink(delay=0.02)
    interp = StreamInterpreter(r, {}, sink, video_format=VF)
    task = asyncio.create_task(interp.run())
    await asyncio.to_thread(sink.first_write.wait, 10)
    await asyncio.sleep(0.1)
    interp.cancel()
    at_cancel = len(sink.lumas)
    t0 = time.perf_counter()
    with pytest.raises(Cancelled):
        await task
    assert time.perf_counter() - t0 < 0.5
    assert len(sink.lumas) <= at_cancel + 1
    assert sink.aborted and not sink.finished


async def test_task_cancellation_joins_and_aborts(clip: Path) -> None:
    r = recipe(step("src", "SOURCE", input="video"), output="src", inputs=("video",))
    sink = RecordingSink(delay=0.05)
    task = asyncio.create_task(StreamInterpreter(r, {"video": clip}, sink).run())
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sink.aborted
    assert len(sink.lumas) < 50


async def test_missing_input_has_position_and_hint() -> None:
    src = Step(
        "src",
        NodeType.SOURCE,
        (),
        {"input": "video"},
        Pos(3, 5),
    )
    r = recipe(src, output="src", inputs=("video",))
    with pytest.raises(StreamError) as e:
        await StreamInterpreter(r, {}, RecordingSink(), video_format=VF).run()
    assert isinstance(e.value, InterpreterError)
    assert (
        e.value.line == 3 and "not bound" in str(e.value) and "--input video=PATH" in str(e.value)
    )


async def test_unbounded_output_needs_a_duration(silent_clip: Path) -> None:
    r = recipe(generator("v", "testsrc", duration=1.0), step("m", "MUX", ("v", "v")), output="m")
    sink = RecordingSink()
    # a video-only output: audio None, and frames bounded by the generator
    await StreamInterpreter(r, {}, sink, video_format=VF).run()
    assert len(sink.lumas) == 25 and sink.audio is None


async def test_stage_errors_propagate_and_abort() -> None:
    class Boom(RecordingSink):
        def write(self, frame: YUVFrame, audio: np.ndarray | None) -> None:
            if len(self.lumas) == 3:
                raise RuntimeError("disk full")
            super().write(frame, audio)

    r = recipe(generator("v", "testsrc", duration=5.0), output="v")
    sink = Boom()
    with pytest.raises(RuntimeError, match="disk full"):
        await StreamInterpreter(r, {}, sink, video_format=VF).run()
    assert sink.aborted and len(sink.lumas) == 3


def test_frames_handed_over_are_not_reused() -> None:
    r = recipe(
        generator("v", "noise", duration=0.4, seed=1),
        step("fx", "EFFECT", ("v",), effect="invert", params={}),
        output="fx",
    )
    sink = RecordingSink()
    asyncio.run(StreamInterpreter(r, {}, sink, video_format=VF).run())
    ids = {id(f.data) for f in sink.frames}
    assert len(ids) == len(sink.frames) == 10
    assert not np.array_equal(sink.frames[0].data, sink.frames[1].data)


async def test_fused_chain_with_a_per_frame_parameter() -> None:
    # invert amount ramps 0 -> ~1 over the clip: mid-grey rises or falls smoothly,
    # black (Y=16) moves toward white frame by frame
    amount = Expr("*", (Expr("var", ("t",)), Expr("num", (1.0,))))
    r = recipe(
        generator("g", "color", duration=1.0, color=[0, 0, 0]),
        step("inv", "EFFECT", ("g",), effect="invert", params={"amount": amount}),
        step("hue", "EFFECT", ("inv",), effect="hue", params={"degrees": 0.0}),
        output="hue",
    )
    sink = RecordingSink()
    await StreamInterpreter(r, {}, sink, video_format=VF).run()
    assert sink.lumas[0] == pytest.approx(16, abs=1)
    assert all(b > a for a, b in itertools.pairwise(sink.lumas))
    assert len({id(f.data) for f in sink.frames}) == 25  # chain buffers are not handed out


async def test_effect_failure_names_the_frame() -> None:
    class Broken:
        def apply(
            self,
            inputs: Sequence[YUVFrame],
            out: YUVFrame,
            params: Mapping[str, ParamValue],
            frame_index: int,
        ) -> None:
            if frame_index == 7:
                raise FloatingPointError("kernel blew up")
            out.data[:] = inputs[0].data

        def reset(self) -> None:
            pass

    from effects.registry import EffectSpec, Registry

    reg = Registry([EffectSpec("broken", "", "test", (), lambda w, h: Broken(), arity=1)])
    r = recipe(
        generator("v", "testsrc", duration=1.0),
        step("fx", "EFFECT", ("v",), effect="broken", params={}),
        step("fx2", "EFFECT", ("v",), effect="broken", params={}),
        step("b", "BLEND", ("fx", "fx2")),
        output="b",
    )
    sink = RecordingSink()
    with pytest.raises(StreamError, match=r"frame 7 \(t=0\.280 s\).*kernel blew up") as e:
        await StreamInterpreter(r, {}, sink, video_format=VF, registry=reg).run()
    assert isinstance(e.value.__cause__, FloatingPointError)
    assert sink.aborted and len(sink.lumas) <= 7


async def test_a_step_feeding_two_consumers_advances_once_per_frame(clip: Path) -> None:
    # BLEND of the clip with itself at 50 %: must equal the clip, frame by frame
    r = recipe(
        step("src", "SOURCE", input="video"),
        step("b", "BLEND", ("src", "src"), opacity=0.5),
        output="b",
        inputs=("video",),
    )
    sink = RecordingSink()
    await StreamInterpreter(r, {"video": clip}, sink).run()
    assert [frame_number(y) for y in sink.lumas] == list(range(50))
