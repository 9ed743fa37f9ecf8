"""BEAT_SYNC, MAP and analysis-driven parameters (analysis given as JSON with the run)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from effects.frame import VideoFormat
from interpreter.nodes import Expr, Recipe
from interpreter.runtime.analysis import AnalysisTrack
from interpreter.runtime.errors import StreamError
from interpreter.stream import StreamInterpreter
from tests.interpreter.stream.stream_media import frame_number
from tests.interpreter.stream.stream_recipes import generator, recipe, step
from tests.interpreter.stream.stream_sink import RecordingSink

VF = VideoFormat(64, 48, 25, 1)


def _beat_sync(mode: str) -> Recipe:
    return recipe(
        step("src", "SOURCE", input="video"),
        step("an", "ANALYZE", ("src",), features=["beats"]),
        step("bs", "BEAT_SYNC", ("src", "an"), mode=mode),
        output="bs",
        inputs=("video",),
    )


async def test_beat_sync_cut_jumps_and_holds(clip: Path) -> None:
    sink = RecordingSink()
    analysis = {"an": {"beats": [0.0, 0.2, 0.6, 0.8]}}  # median interval 0.2 s
    await StreamInterpreter(
        _beat_sync("cut"), {"video": clip}, sink, analysis=analysis, duration=0.8
    ).run()
    nums = [frame_number(y) for y in sink.lumas]
    assert nums[:10] == list(range(10))
    assert nums[10:15] == [9] * 5  # the long interval holds the segment's last frame
    assert nums[15:20] == list(range(10, 15))  # next beat: next segment


async def test_beat_sync_stretch_warps_time(clip: Path) -> None:
    sink = RecordingSink()
    analysis = {"an": {"beats": [0.0, 0.4, 0.6, 1.0]}}  # segments of 0.4 s; [0.4, 0.6) plays 2x
    await StreamInterpreter(
        _beat_sync("stretch"), {"video": clip}, sink, analysis=analysis, duration=0.8
    ).run()
    nums = [frame_number(y) for y in sink.lumas]
    assert nums[:10] == list(range(10))
    assert nums[10:15] == [10, 12, 14, 16, 18]
    assert nums[15:20] == [20, 21, 22, 23, 24]


async def test_map_slices_sources_on_beats() -> None:
    r = recipe(
        generator("black", "color", duration=5.0, color=[0, 0, 0]),
        generator("white", "color", duration=5.0, color=[255, 255, 255]),
        generator("tone", "sine", duration=5.0),
        step("an", "ANALYZE", ("tone",), features=["beats"]),
        step("map", "MAP", ("an", "black", "white"), over="beats"),
        output="map",
    )
    sink = RecordingSink()
    analysis = {"an": {"beats": [0.2, 0.4, 0.6], "duration": 0.8}}
    await StreamInterpreter(r, {}, sink, analysis=analysis, video_format=VF).run()
    bright = [y > 128 for y in sink.lumas]
    assert len(bright) == 20
    assert bright == [False] * 5 + [True] * 5 + [False] * 5 + [True] * 5


async def test_beat_phase_drives_a_parameter() -> None:
    # brightness = beat_phase * 0.5: ramps up within each beat, drops at the next
    expr = Expr("*", (Expr("var", ("beat_phase",)), Expr("num", (0.5,))))
    from interpreter.nodes import NodeType, Step

    r = recipe(
        generator("g", "color", duration=1.0, color=[0, 0, 0]),
        Step("tr", NodeType.TRANSFORM, ("g",), {"brightness": expr}),
        output="tr",
    )
    sink = RecordingSink()
    await StreamInterpreter(
        r, {}, sink, analysis={"beats": [0.0, 0.4, 0.8, 1.2]}, video_format=VF
    ).run()
    y = sink.lumas
    assert all(b > a for a, b in itertools.pairwise(y[0:10]))
    assert y[10] < y[9]  # the beat at 0.4 s resets the phase
    assert y[0] == pytest.approx(16, abs=1)


def test_track_reads_the_analysis_result_schema() -> None:
    from interpreter.analysis.result import AnalysisResult, AudioAnalysis

    res = AnalysisResult(
        "id",
        "cid",
        ("beats", "energy"),
        audio=AudioAnalysis(
            duration=2.0,
            sample_rate=48000,
            channels=2,
            tempo=120.0,
            beats=__import__("numpy").array([0.5, 1.0, 1.5]),
        ),
    )
    for data in (res, res.to_dict()):
        tr = AnalysisTrack(data)
        assert tr.beats == [0.5, 1.0, 1.5] and tr.duration == 2.0
        s = tr.sample(1.25)
        assert s["beat"] == 1 and s["beat_phase"] == pytest.approx(0.5)


async def test_beat_sync_without_an_analyze_input_is_an_error(clip: Path) -> None:
    r = recipe(
        step("src", "SOURCE", input="video"),
        step("bs", "BEAT_SYNC", ("src",), mode="cut"),
        output="bs",
        inputs=("video",),
    )
    with pytest.raises(StreamError, match="ANALYZE"):
        await StreamInterpreter(r, {"video": clip}, RecordingSink()).run()
