"""The result schema (JSON round trip, versioning) and per-frame sampling."""

from __future__ import annotations

import json

import numpy as np
import pytest

from interpreter.analysis import (
    SCHEMA_VERSION,
    AnalysisError,
    AnalysisResult,
    AudioAnalysis,
    UnknownFeatureError,
    VideoAnalysis,
    resolve_features,
)
from interpreter.ids import analysis_id


def _result() -> AnalysisResult:
    audio = AudioAnalysis(
        duration=3.0,
        sample_rate=44100,
        channels=2,
        tempo=120.0,
        beats=np.array([0.5, 1.0, 1.5, 2.0, 2.5]),
        downbeats=np.array([0.5, 2.5]),
        envelope_rate=100,
        energy=np.linspace(0, 1, 300, dtype=np.float32),
        bass=np.full(300, 0.25, np.float32),
        mid=np.full(300, 0.5, np.float32),
        high=np.linspace(1, 0, 300, dtype=np.float32),
    )
    video = VideoAnalysis(
        duration=3.0,
        fps=25.0,
        width=320,
        height=240,
        codec="h264",
        frame_count=75,
        motion=np.zeros(75, np.float32),
        cuts=np.array([25, 50]),
        motion_tempo=None,
    )
    feats = ("beats", "energy", "cuts")
    return AnalysisResult(
        analysis_id=analysis_id("Qmabc", feats),
        input_cid="Qmabc",
        features=tuple(sorted(feats)),
        audio=audio,
        video=video,
    )


def test_json_round_trip() -> None:
    r = _result()
    doc = json.loads(r.to_json())
    assert doc["schema"] == "artdag.analysis" and doc["version"] == SCHEMA_VERSION
    assert doc["audio"]["tempo"] == 120.0 and doc["audio"]["beats"][0] == 0.5
    assert doc["video"]["cut_times"] == [1.0, 2.0]
    back = AnalysisResult.from_json(r.to_json())
    assert back.analysis_id == r.analysis_id == analysis_id("Qmabc", ["energy", "cuts", "beats"])
    assert back.audio is not None and back.video is not None and r.audio is not None
    assert np.allclose(back.audio.energy, r.audio.energy, atol=1e-4)
    assert back.video.cuts.tolist() == [25, 50]
    assert back.to_json() == r.to_json()


def test_tempo_confidence_and_alternatives_round_trip() -> None:
    r = _result()
    assert r.audio is not None
    r.audio.tempo_confidence, r.audio.tempo_alternatives = 0.61234, (60.0, 240.0)
    doc = json.loads(r.to_json())
    assert doc["version"] == SCHEMA_VERSION == 2
    assert doc["audio"]["tempo_confidence"] == 0.6123
    assert doc["audio"]["tempo_alternatives"] == [60.0, 240.0]
    back = AnalysisResult.from_json(r.to_json())
    assert back.tempo_confidence == 0.6123 and back.tempo_alternatives == (60.0, 240.0)
    assert back.version == SCHEMA_VERSION


def test_reads_version_1_documents() -> None:
    doc = _result().to_dict()
    doc["version"] = 1
    assert doc["audio"] is not None
    del doc["audio"]["tempo_confidence"], doc["audio"]["tempo_alternatives"]
    old = AnalysisResult.from_dict(doc)
    assert old.version == 1 and old.tempo == 120.0 and old.beat_times[0] == 0.5
    assert old.tempo_confidence is None and old.tempo_alternatives == ()
    # written back at the current version, the missing fields null / empty
    again = old.to_dict()
    assert again["version"] == SCHEMA_VERSION and again["audio"]["tempo_confidence"] is None


def test_rejects_other_versions_and_garbage() -> None:
    doc = _result().to_dict()
    doc["version"] = SCHEMA_VERSION + 1
    with pytest.raises(AnalysisError, match="version"):
        AnalysisResult.from_dict(doc)
    with pytest.raises(AnalysisError, match="schema"):
        AnalysisResult.from_dict({"hello": 1})
    with pytest.raises(AnalysisError, match="invalid JSON") as info:
        AnalysisResult.from_json('{"schema": ', source="x.json")
    assert info.value.file == "x.json" and info.value.line == 1


def test_sample_beats_and_envelopes() -> None:
    r = _result()
    s = r.sample(1.25)
    assert s["beat"] == 1 and isinstance(s["beat"], int)
    assert s["beat_phase"] == pytest.approx(0.5)
    assert s["since_beat"] == pytest.approx(0.25)
    assert s["energy"] == pytest.approx(125 / 299, abs=1e-3)
    assert s["bass"] == pytest.approx(0.25) and s["mid"] == pytest.approx(0.5)
    before = r.sample(0.25)
    assert before["beat"] == -1 and before["beat_phase"] == pytest.approx(0.5)
    after = r.sample(2.75)  # past the last beat: extrapolated with the tempo
    assert after["beat"] == 4 and after["beat_phase"] == pytest.approx(0.5)
    assert r.sample(10.0)["energy"] == 0.0


def test_sample_many_matches_sample() -> None:
    r = _result()
    times = np.arange(0, 3.0, 1 / 30)
    many = r.sample_many(times)
    assert many["beat"].dtype == np.int64 and many["beat"].shape == times.shape
    for i in (0, 17, 45, 89):
        one = r.sample(float(times[i]))
        for key, values in many.items():
            assert one[key] == pytest.approx(float(values[i])), key
    assert np.all(np.diff(many["beat"]) >= 0)
    assert np.all((many["beat_phase"] >= 0) & (many["beat_phase"] < 1))


def test_no_audio_samples_neutral() -> None:
    r = AnalysisResult(analysis_id="x", input_cid="c", features=("cuts",))
    s = r.sample(1.0)
    assert s["beat"] == -1 and s["energy"] == 0.0 and s["since_beat"] == 1.0


def test_resolve_features() -> None:
    assert resolve_features("beats, energy") == ("beats", "energy")
    assert "motion" in resolve_features(["video"])
    with pytest.raises(UnknownFeatureError, match="unknown analysis feature 'tempi'") as info:
        resolve_features("beats,tempi", source="--features")
    assert "tempo" in info.value.hint and info.value.file == "--features"
