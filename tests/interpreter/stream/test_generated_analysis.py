"""ANALYZE over media the recipe makes: its audio rendered offline and analysed like a file."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from effects.catalog import default_registry
from interpreter.analysis import AnalysisResult, analyze_file
from interpreter.ids import analysis_id
from interpreter.loader import load_recipe
from interpreter.nodes import Recipe
from interpreter.planner import plan_recipe
from interpreter.runtime.errors import StreamError
from interpreter.runtime.offline import MIN_SECONDS, analyze_generated, render_wav, span_id
from interpreter.runtime.tracks import AnalysisTracks
from interpreter.validate import validate

CLICKS = """\
(recipe "clicks" :version "1.0"
  (def beat (source :generator clicks :duration {duration} :bpm 120))
  (def features (analyze beat :features [{features}]))
  (def video (source :generator testsrc :duration 2 :width 64 :height 48 :fps 25))
  (def out (mux (effect hue video features :degrees (* 90 energy)) beat))
  out)
"""


def _recipe(duration: float = 8, features: str = "beats energy") -> Recipe:
    recipe = load_recipe(CLICKS.format(duration=duration, features=features), "clicks.sexp")
    validate(recipe)
    return recipe


def test_render_wav_writes_the_generated_audio(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    span = render_wav(_recipe(), "beat", {}, path, registry=default_registry())
    assert span == (8.0, 8.0)
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels()) == (48000, 2)
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2)
    assert len(pcm) == 8 * 48000
    loud = np.flatnonzero(np.abs(pcm[:, 0]) > 8000)
    # a click every 0.5 s, starting at 0
    starts = loud[np.insert(np.diff(loud) > 4800, 0, True)] / 48000
    assert np.allclose(starts, np.arange(16) * 0.5, atol=0.005)


def test_generated_clicks_are_analysed_under_the_plan_id(tmp_path: Path) -> None:
    recipe = _recipe()
    request = plan_recipe(recipe, {}).analysis[0]
    looked_up: list[str] = []

    def miss(aid: str) -> AnalysisResult | None:
        looked_up.append(aid)
        return None

    result = analyze_generated(
        recipe, "features", {}, registry=default_registry(), input_id=request.input_cid, cached=miss
    )
    assert result.analysis_id == request.analysis_id == looked_up[0]
    assert result.input_cid == request.input_cid
    assert result.audio is not None
    beats = np.asarray(result.audio.beats)
    assert 14 <= len(beats) <= 16
    assert np.median(np.diff(beats)) == pytest.approx(0.5, abs=0.01)
    # the same analysis as the file: the code path is analyze_file's
    wav = tmp_path / "a.wav"
    render_wav(recipe, "beat", {}, wav, registry=default_registry())
    same = analyze_file(wav, ["beats", "energy"]).audio
    assert same is not None and np.allclose(same.beats, beats)


def test_a_cached_analysis_is_returned_without_rendering() -> None:
    recipe = _recipe()
    request = plan_recipe(recipe, {}).analysis[0]
    stored = AnalysisResult(request.analysis_id, request.input_cid, request.features)
    got = analyze_generated(
        recipe,
        "features",
        {},
        registry=default_registry(),
        input_id=request.input_cid,
        cached=lambda aid: stored if aid == request.analysis_id else None,
    )
    assert got is stored


def test_a_long_generator_under_a_short_run_names_the_span() -> None:
    recipe = _recipe(duration=600)
    request = plan_recipe(recipe, {}).analysis[0]
    result = analyze_generated(
        recipe, "features", {}, registry=default_registry(), input_id="gen", duration=2.0
    )
    assert result.input_cid == f"gen#t=0,{MIN_SECONDS:g}" == span_id("gen", MIN_SECONDS, 600.0)
    assert result.analysis_id == analysis_id(result.input_cid, request.features)
    assert result.audio is not None and result.audio.duration == pytest.approx(MIN_SECONDS)


def test_video_features_of_generated_media_are_a_positioned_error() -> None:
    recipe = load_recipe(
        """(recipe "m" :version "1.0"
             (def v (source :generator testsrc :duration 1 :width 64 :height 48))
             (def m (analyze v :features [motion]))
             (def out (beat-sync v m))
             out)""",
        "m.sexp",
    )
    with pytest.raises(StreamError) as ei:
        analyze_generated(recipe, "m", {}, registry=default_registry())
    assert (ei.value.line, "motion") == (3, "motion") and "not analysed" in ei.value.message


def test_tracks_analyse_generated_audio_when_no_analysis_is_given() -> None:
    tracks = AnalysisTracks(_recipe(), {}, None, registry=default_registry())
    track = tracks.of("features")
    assert 14 <= len(track.beats) <= 16
    assert tracks.default is track
