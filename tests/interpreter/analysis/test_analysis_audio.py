"""Accuracy of the audio features against generated audio with known truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from interpreter.analysis import analyze_file
from interpreter.analysis.audio import ENVELOPE_RATE, analyse_audio
from tests.interpreter.analysis.analysis_media import RATE, click, click_track, write_audio


def _match(found: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Distance from each found time to the nearest true time."""
    distance: np.ndarray = np.min(np.abs(found[:, None] - truth[None, :]), axis=1)
    return distance


@pytest.mark.parametrize("bpm", [90, 120, 128, 174])
@pytest.mark.parametrize(
    ("swing", "noise"), [(False, 0.0), (True, 0.0), (False, 0.08), (True, 0.08)]
)
def test_click_track_tempo_and_beats(tmp_path: Path, bpm: int, swing: bool, noise: float) -> None:
    y, truth = click_track(bpm, 10.0, swing=swing, noise=noise, seed=bpm)
    path = write_audio(tmp_path / "clicks.flac", y)
    res = analyze_file(path, "tempo,beats")
    assert res.audio is not None and res.tempo is not None
    assert abs(res.tempo - bpm) / bpm < 0.01, res.tempo
    beats = res.beat_times
    assert np.all(_match(beats, truth) < 0.030), np.round(beats - truth[: len(beats)], 4)
    # every true beat found (at most the very first/last may be trimmed)
    assert len(beats) >= len(truth) - 2
    assert np.all(_match(truth[1:-1], beats) < 0.030)


@pytest.mark.parametrize("accent_phase", [0, 1, 3])
def test_downbeats_follow_the_accent(accent_phase: int) -> None:
    y, truth = click_track(120, 10.0, accent_phase=accent_phase)
    feats = analyse_audio(y, RATE, frozenset({"beats", "downbeats"}))
    assert feats.downbeats is not None
    expected = truth[accent_phase::4]
    assert len(feats.downbeats) >= len(expected) - 1
    assert np.all(_match(feats.downbeats, expected) < 0.030)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def test_energy_follows_the_envelope() -> None:
    dur = 6.0
    t = np.arange(int(dur * RATE)) / RATE
    env = 0.1 + 0.9 * np.sin(np.pi * t / 2.0) ** 2  # two slow swells
    y = (0.5 * env * np.random.default_rng(3).standard_normal(len(t))).astype(np.float32)
    feats = analyse_audio(y, RATE, frozenset({"energy"}))
    assert feats.energy is not None
    assert len(feats.energy) == int(dur * ENVELOPE_RATE)
    assert feats.energy.min() >= 0.0 and feats.energy.max() == pytest.approx(1.0)
    grid_env = np.interp(np.arange(len(feats.energy)) / ENVELOPE_RATE, t, env)
    assert _corr(feats.energy, grid_env) > 0.97
    # quiet at the trough (t=2 s), loud at the crest (t=1 s)
    assert feats.energy[200] < 0.3 < 0.8 < feats.energy[100]


def test_bands_follow_their_own_tones() -> None:
    dur = 6.0
    t = np.arange(int(dur * RATE)) / RATE
    envs = {
        "bass": 0.5 + 0.5 * np.sin(2 * np.pi * t / 3.0),
        "mid": 0.5 + 0.5 * np.sin(2 * np.pi * t / 2.0 + 1.0),
        "high": np.clip(t / dur, 0, 1),
    }
    freqs = {"bass": 80.0, "mid": 1000.0, "high": 7000.0}
    y = sum((0.3 * envs[k] * np.sin(2 * np.pi * freqs[k] * t) for k in envs), np.zeros_like(t))
    y = y.astype(np.float32)
    feats = analyse_audio(y, RATE, frozenset({"bands"}))
    for name, env in envs.items():
        band = getattr(feats, name)
        grid_env = np.interp(np.arange(len(band)) / ENVELOPE_RATE, t, env)
        assert _corr(band, grid_env) > 0.95, name
        for other, oenv in envs.items():
            if other != name:
                og = np.interp(np.arange(len(band)) / ENVELOPE_RATE, t, oenv)
                assert _corr(band, og) < 0.6, (name, other)


def test_silence_has_no_beats() -> None:
    feats = analyse_audio(
        np.zeros(RATE * 3, np.float32), RATE, frozenset({"tempo", "beats", "energy"})
    )
    assert feats.beats is not None and len(feats.beats) == 0
    assert feats.tempo is None
    assert feats.energy is not None and not feats.energy.any()


def test_onsets_include_off_beats() -> None:
    y, truth = click_track(100, 8.0, swing=True, noise=0.03)
    period = 60.0 / 100
    every = np.sort(np.concatenate([truth, truth + period * 2 / 3]))
    every = every[every < 8.0 - 0.05]
    feats = analyse_audio(y, RATE, frozenset({"onsets"}))
    assert feats.onsets is not None and feats.beats is None
    assert np.all(_match(feats.onsets, every) < 0.030)
    assert len(feats.onsets) >= len(every) - 1


def test_long_track_tempo_does_not_drift() -> None:
    # the tracker's period is quantised to its 23 ms hop; over 3 minutes a naive
    # (t - t0) / period beat index slips by whole beats and skews the tempo
    y, truth = click_track(128, 180.0, noise=0.05, seed=11)
    feats = analyse_audio(y, RATE, frozenset({"beats", "tempo"}))
    assert feats.tempo is not None and feats.beats is not None
    assert abs(feats.tempo - 128) < 0.05
    assert len(feats.beats) == len(truth)
    assert np.all(_match(feats.beats, truth) < 0.030)


def test_moving_tempo_is_followed() -> None:
    # 110 -> 135 BPM over 30 s: no rigid grid fits; the tracker's beats are kept
    rate, seconds = RATE, 30.0
    truth, t = [], 0.3
    while t < seconds - 0.2:
        truth.append(t)
        t += 60.0 / (110 + 25 * t / seconds)
    beats_true = np.asarray(truth)
    y = np.zeros(int(seconds * rate), np.float32)
    c = click(rate)
    for b in beats_true:
        s = int(b * rate)
        y[s : s + len(c)] += c[: len(y) - s]
    y += 0.03 * np.random.default_rng(5).standard_normal(len(y)).astype(np.float32)
    feats = analyse_audio(y, rate, frozenset({"tempo", "beats"}))
    assert feats.tempo is not None and feats.beats is not None
    assert 118 < feats.tempo < 128  # the mean tempo
    assert np.mean(_match(feats.beats, beats_true) < 0.07) >= 0.9
    assert abs(len(feats.beats) - len(beats_true)) <= 2
