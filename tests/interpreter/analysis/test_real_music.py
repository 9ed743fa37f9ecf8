"""Tempo and beats on real recordings: drum loops against their bar length, songs
against essentia's RhythmExtractor2013, weak-pulse pieces against a wrong grid.

The recordings and what is known about them: ``real_music.py``. They are
fetched from Debian packages on first use and cached; without a mirror these
tests skip, or fail under ``ARTDAG_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import numpy as np
import pytest

from interpreter.analysis import analyze_file
from interpreter.analysis.audio import AudioFeatures, analyse_audio
from interpreter.analysis.decode import ANALYSIS_RATE
from interpreter.analysis.tempo import LOW_CONFIDENCE
from tests.fetched_media import MediaUnavailable, fetch_debian
from tests.interpreter.analysis.real_music import (
    RECORDINGS,
    Clip,
    RealMusic,
    f_measure,
    octave_relation,
    reference_at,
)

LOOPS = [r.key for r in RECORDINGS if r.kind == "loop"]
SONGS = [r.key for r in RECORDINGS if r.kind == "song"]
PHASE_SONGS = [r.key for r in RECORDINGS if r.kind == "song" and r.essentia_phase]
WEAK = [r.key for r in RECORDINGS if r.kind == "weak"]
_FEATURES = frozenset({"tempo", "beats", "downbeats"})


def _analyse(clip: Clip) -> AudioFeatures:
    return analyse_audio(clip.samples, ANALYSIS_RATE, _FEATURES)


def _line_residuals(beats: np.ndarray, period: float) -> np.ndarray:
    """Distance of each beat from the best straight grid of ``period``."""
    idx = np.round((beats - beats[0]) / period)
    slope, t0 = np.polyfit(idx, beats, 1)
    resid: np.ndarray = np.abs(beats - (t0 + slope * idx))
    return resid


@pytest.mark.parametrize("key", LOOPS)
def test_drum_loop_tempo_is_exact(real_music: RealMusic, key: str) -> None:
    clip = real_music.clip(key)
    feats = _analyse(clip)
    rec = clip.recording
    assert clip.truth is not None and rec.beats is not None
    where = (
        f"{key}: {rec.beats} beats in {60 * rec.beats / clip.truth:.3f} s = {clip.truth:.2f} BPM; "
        f"found {feats.tempo} (confidence {feats.tempo_confidence}, "
        f"alternatives {feats.tempo_alternatives})"
    )
    assert feats.tempo is not None, where
    assert abs(feats.tempo / clip.truth - 1) < 0.01, where
    assert feats.tempo_confidence is not None and feats.tempo_confidence >= LOW_CONFIDENCE, where
    # one steady grid at that tempo over the whole repeated loop
    beats = feats.beats
    assert beats is not None
    period = 60.0 / clip.truth
    assert len(beats) >= clip.duration / period - 2, where
    assert np.all(_line_residuals(beats, period) < 0.04), where


@pytest.mark.parametrize("key", SONGS)
def test_song_tempo_agrees_with_essentia(real_music: RealMusic, key: str) -> None:
    clip = real_music.clip(key)
    feats = _analyse(clip)
    ess_bpm, _, ess_conf = real_music.essentia(key)
    stated = clip.recording.essentia_octave
    where = (
        f"{key}: ours {feats.tempo} (confidence {feats.tempo_confidence}, alternatives "
        f"{feats.tempo_alternatives}), essentia {ess_bpm:.2f} (confidence {ess_conf:.2f}), "
        f"stated ratio ours/essentia {stated}"
    )
    assert feats.tempo is not None, where
    assert feats.tempo_confidence is not None and feats.tempo_confidence >= LOW_CONFIDENCE, where
    # within 2 % of essentia at the octave the recording states ...
    assert octave_relation(feats.tempo, ess_bpm) == stated, where
    if stated != 1.0:
        # ... and where we count another octave, essentia's reading is our alternative
        assert any(abs(a / ess_bpm - 1) <= 0.02 for a in feats.tempo_alternatives), where
    if clip.truth is not None:
        assert abs(feats.tempo / clip.truth - 1) < 0.01, f"{where}; truth {clip.truth:.2f}"


@pytest.mark.parametrize("key", PHASE_SONGS)
def test_song_beats_match_essentia(real_music: RealMusic, key: str) -> None:
    clip = real_music.clip(key)
    feats = _analyse(clip)
    _, ess_beats, _ = real_music.essentia(key)
    assert feats.tempo is not None and feats.beats is not None
    ratio = clip.recording.essentia_octave
    # at essentia's metrical level: its beats plus midpoints where we count twice as many
    reference = reference_at(ess_beats, ratio, feats.beats)
    score = f_measure(feats.beats, reference, window=0.07)
    assert score >= 0.8, f"{key}: beat F-measure {score:.2f} vs essentia (x{ratio})"


@pytest.mark.parametrize("key", WEAK)
def test_weak_pulse_reports_low_confidence_not_a_grid(real_music: RealMusic, key: str) -> None:
    feats = _analyse(real_music.clip(key))
    where = f"{key}: confidence {feats.tempo_confidence}, tempo {feats.tempo}"
    assert feats.tempo_confidence is not None and feats.tempo_confidence < LOW_CONFIDENCE, where
    assert feats.tempo is None, where
    assert feats.beats is not None and len(feats.beats) == 0, where
    assert feats.downbeats is not None and len(feats.downbeats) == 0, where
    assert feats.tempo_alternatives, "the guesses are still reported"


def test_real_file_through_analyze_file(real_music: RealMusic) -> None:
    # Shift-JIS Vorbis comments: opening must not fail on the tags
    path = real_music.path("torus-tt2")
    result = analyze_file(path, "tempo,beats")
    assert result.tempo is not None and abs(result.tempo - 160) < 1.6
    assert result.tempo_confidence is not None and result.tempo_confidence >= LOW_CONFIDENCE
    doc = result.to_dict()["audio"]
    assert doc["tempo_confidence"] == pytest.approx(result.tempo_confidence, abs=1e-4)
    assert doc["tempo_alternatives"] == list(result.tempo_alternatives)


def test_f_measure() -> None:
    ref = np.arange(0.5, 10, 0.5)
    assert f_measure(ref + 0.05, ref) == 1.0
    assert f_measure(ref + 0.25, ref) == 0.0
    recall = 10 / 19  # every other one of 19 beats found, none wrong
    assert f_measure(ref[::2], ref) == pytest.approx(2 * recall / (1 + recall))
    assert f_measure(np.zeros(0), ref) == 0.0


def test_fetch_failure_has_a_reason() -> None:
    with pytest.raises(MediaUnavailable, match="bad package name"):
        fetch_debian("Not A Package!", ["x"])
