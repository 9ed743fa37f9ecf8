"""BEAT_SYNC and MAP play the audio their beats came from; ANALYZE without analysis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from effects.frame import AudioFormat, VideoFormat
from interpreter.runtime.base import Timing
from interpreter.runtime.errors import StreamError
from interpreter.runtime.generators import SineAudio
from interpreter.stream import StreamInterpreter
from tests.interpreter.stream.stream_recipes import generator, recipe, step
from tests.interpreter.stream.stream_sink import RecordingSink

VF = VideoFormat(64, 48, 25, 1)


def _tone(seconds: float, frequency: float = 440.0) -> np.ndarray:
    timing = Timing(VF, AudioFormat())
    _, audio = SineAudio(timing, seconds, frequency, 0.5).read(round(seconds * 48000))
    assert audio is not None
    return audio


async def test_map_plays_the_analysed_track() -> None:
    r = recipe(
        generator("black", "color", duration=5.0, color=[0, 0, 0]),
        generator("white", "color", duration=5.0, color=[255, 255, 255]),
        generator("tone", "sine", duration=5.0, frequency=330.0),
        step("an", "ANALYZE", ("tone",), features=["beats"]),
        step("map", "MAP", ("an", "black", "white"), over="beats"),
        output="map",
    )
    sink = RecordingSink()
    analysis = {"an": {"beats": [0.2, 0.4, 0.6], "duration": 0.8}}
    await StreamInterpreter(r, {}, sink, analysis=analysis, video_format=VF).run()
    assert sink.audio is not None and len(sink.lumas) == 20
    audio = np.concatenate(sink.samples, axis=1)
    np.testing.assert_allclose(audio, _tone(0.8, 330.0), atol=1e-6)


async def test_beat_sync_plays_the_analysed_file_under_the_retimed_video(
    clip: Path, silent_clip: Path
) -> None:
    r = recipe(
        step("music", "SOURCE", input="music"),
        step("pic", "SOURCE", input="video"),
        step("an", "ANALYZE", ("music",), features=["beats"]),
        step("bs", "BEAT_SYNC", ("pic", "an"), mode="stretch"),
        output="bs",
        inputs=("video", "music"),
    )
    sink = RecordingSink()
    analysis = {"an": {"beats": [0.0, 0.25, 0.5, 0.75]}}
    await StreamInterpreter(r, {"video": silent_clip, "music": clip}, sink, analysis=analysis).run()
    assert sink.audio is not None
    audio = np.concatenate(sink.samples, axis=1)
    assert audio.shape[1] == len(sink.lumas) * 48000 // 30
    # the clip's 440 Hz tone (AAC-coded): a strong peak at 440 Hz
    spectrum = np.abs(np.fft.rfft(audio[0, 4800:28800]))
    assert abs(float(np.argmax(spectrum)) * 48000 / 24000 - 440) < 5


async def test_beat_sync_over_a_silent_video_has_no_audio(silent_clip: Path) -> None:
    r = recipe(
        step("pic", "SOURCE", input="video"),
        step("an", "ANALYZE", ("pic",), features=["motion"]),
        step("bs", "BEAT_SYNC", ("pic", "an"), mode="cut"),
        output="bs",
        inputs=("video",),
    )
    sink = RecordingSink()
    await StreamInterpreter(
        r, {"video": silent_clip}, sink, analysis={"an": {"beats": [0.0, 0.5]}}
    ).run()
    assert sink.audio is None and sink.samples == [] and len(sink.lumas) == 30


async def test_analyze_of_a_generator_without_analysis_analyses_its_audio() -> None:
    r = recipe(
        generator("g", "color", duration=2.0),
        generator("clicks", "clicks", duration=2.0, bpm=120.0),
        step("an", "ANALYZE", ("clicks",), features=["beats"]),
        step("bs", "BEAT_SYNC", ("g", "an")),
        output="bs",
    )
    sink = RecordingSink()
    await StreamInterpreter(r, {}, sink, video_format=VF).run()
    assert len(sink.lumas) == 50 and sink.audio is not None  # the clicks are played


async def test_video_features_of_a_generator_are_a_positioned_error() -> None:
    r = recipe(
        generator("g", "color", duration=1.0),
        step("an", "ANALYZE", ("g",), features=["motion"]),
        step("bs", "BEAT_SYNC", ("g", "an")),
        output="bs",
    )
    with pytest.raises(StreamError, match="not analysed") as info:
        await StreamInterpreter(r, {}, RecordingSink(), video_format=VF).run()
    assert "'an'" in str(info.value)


def test_track_window_shifts_events_and_features() -> None:
    data = {
        "beats": [0.5, 1.0, 1.5, 2.0, 2.5],
        "energy": {"times": [0.0, 3.0], "values": [0.0, 3.0]},
        "duration": 3.0,
    }
    from interpreter.runtime.analysis import AnalysisTrack

    tr = AnalysisTrack(data).window(1.0, 1.2)
    assert tr.beats == [0.0, 0.5, 1.0] and tr.duration == pytest.approx(1.2)
    s = tr.sample(0.75)
    assert s["beat"] == 1 and s["beat_phase"] == pytest.approx(0.5)
    assert s["energy"] == pytest.approx(1.75)
    nested = AnalysisTrack(data).window(0.5).window(1.0)
    assert nested.beats == [0.0, 0.5, 1.0] and nested.sample(0.0)["energy"] == pytest.approx(1.5)


def test_segment_window_follows_nested_segments_to_the_input() -> None:
    from interpreter.runtime.analysis import AnalysisTrack, segment_window, windowed

    r = recipe(
        step("music", "SOURCE", input="music"),
        step("outer", "SEGMENT", ("music",), start=2.0, duration=6.0),
        step("inner", "SEGMENT", ("outer",), start=1.0, end=10.0),
        generator("tone", "sine", duration=1.0),
        step("a", "ANALYZE", ("inner",), features=["beats"]),
        step("b", "ANALYZE", ("music",), features=["beats"]),
        step("c", "ANALYZE", ("tone",), features=["beats"]),
        output="inner",
        inputs=("music",),
    )
    # inner shows outer's [1, 6) = the file's [3, 8)
    assert segment_window(r, "a") == ("music", 3.0, 5.0)
    assert segment_window(r, "b") == ("music", 0.0, None)
    assert segment_window(r, "c") is None
    doc = windowed({"beats": [2.5, 3.5, 4.5, 8.5], "duration": 9.0}, 3.0, 5.0)
    tr = AnalysisTrack(doc)
    assert tr.beats == [0.5, 1.5] and tr.duration == 5.0
