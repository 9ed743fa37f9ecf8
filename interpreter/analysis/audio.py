"""Audio features: tempo, beats, downbeats, onsets, energy and band envelopes.

* Tempo and its confidence and alternatives: :mod:`.tempo` (spectral-flux
  onset envelope, autocorrelation evidence, octave preference).
* Beats: :mod:`.beats` (librosa's dynamic-programming tracker at that tempo,
  phase on the kick/snare, times snapped to the sample-level attack, a steady
  grid where the beats fit one). Below :data:`~.tempo.LOW_CONFIDENCE` there is
  no steady pulse and no tempo or beat grid is reported: the confidence and
  the best guesses (``tempo_alternatives``) are.
* Onsets: librosa's peak picking over a 2.9 ms attack envelope, snapped to
  the attack like the beats.
* Downbeats: every 4th beat, the phase (0..3) whose beats carry the most
  onset energy in total (accented bar starts), assuming 4/4.

Envelopes (energy = RMS; bass < 250 Hz, mid 250-4000 Hz, high > 4000 Hz as
the root of the band's STFT power) are normalised to 0..1 by their maximum and
resampled to a fixed grid of :data:`ENVELOPE_RATE` Hz starting at t = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np

from .beats import FINE, attack_envelope, snap, strength_at, track_beats
from .tempo import HOP, LOW_CONFIDENCE, N_FFT, estimate_tempo, onset_envelopes

__all__ = ["ENVELOPE_RATE", "AudioFeatures", "analyse_audio"]

#: Samples per second of the energy / band envelopes.
ENVELOPE_RATE = 100
_BANDS = (("bass", 0.0, 250.0), ("mid", 250.0, 4000.0), ("high", 4000.0, 1e9))


@dataclass
class AudioFeatures:
    """Audio analysis of one input; absent features are ``None``.

    ``tempo_confidence`` is 0..1 (``None`` when tempo and beats were not asked
    for); ``tempo_alternatives`` are other plausible tempi, best first (all the
    guesses when the confidence is too low for a tempo).
    """

    duration: float
    tempo: float | None = None
    tempo_confidence: float | None = None
    tempo_alternatives: tuple[float, ...] = ()
    beats: np.ndarray | None = None
    downbeats: np.ndarray | None = None
    onsets: np.ndarray | None = None
    energy: np.ndarray | None = None
    bass: np.ndarray | None = None
    mid: np.ndarray | None = None
    high: np.ndarray | None = None


def _onset_frames(attack: np.ndarray) -> np.ndarray:
    """The attack envelope max-pooled onto librosa's hop grid."""
    per = HOP // FINE
    n = len(attack) // per
    pooled = attack[: n * per].reshape(n, per).max(axis=1)
    # frame f of librosa is centred on sample f * hop: shift by half a hop of blocks
    return np.concatenate([[0.0], pooled]).astype(np.float32)


def _onsets(attack: np.ndarray, rate: int) -> np.ndarray:
    """librosa's peak picking on the attack envelope, snapped to the attack."""
    env = _onset_frames(attack)
    if not np.any(env):
        return np.zeros(0)
    times = librosa.onset.onset_detect(onset_envelope=env, sr=rate, hop_length=HOP, units="time")
    times = np.unique(np.round(snap(np.asarray(times), attack, rate, 0.05, 0.02), 4))
    # two picks on one attack collapse to one
    return times[np.concatenate([[True], np.diff(times) > 0.03])] if len(times) else times


def _downbeats(beats: np.ndarray, strength: np.ndarray) -> np.ndarray:
    if len(beats) == 0:
        return beats
    totals = [strength[p::4].mean() if len(strength[p::4]) else 0.0 for p in range(4)]
    phase = int(np.argmax(totals))
    return beats[phase::4]


def _to_grid(values: np.ndarray, frame_times: np.ndarray, duration: float) -> np.ndarray:
    n = max(int(np.ceil(duration * ENVELOPE_RATE)), 1)
    grid = np.arange(n) / ENVELOPE_RATE
    out = np.interp(grid, frame_times, values) if len(values) else np.zeros(n)
    peak = float(out.max()) if n else 0.0
    return (out / peak if peak > 0 else out).astype(np.float32)


def analyse_audio(y: np.ndarray, rate: int, features: frozenset[str]) -> AudioFeatures:
    """Compute the requested audio ``features`` of mono float32 ``y`` at ``rate`` Hz.

    Args:
        y: Mono samples.
        rate: Their sample rate.
        features: Names from ``{"tempo", "beats", "downbeats", "onsets", "energy", "bands"}``.
    """
    duration = len(y) / rate
    out = AudioFeatures(duration=duration)
    if len(y) < N_FFT:
        y = np.pad(y, (0, N_FFT - len(y)))
    spec = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP)) ** 2
    frame_times = librosa.frames_to_time(np.arange(spec.shape[1]), sr=rate, hop_length=HOP)
    attack = attack_envelope(y) if features & {"tempo", "beats", "downbeats", "onsets"} else None
    if attack is not None and features & {"tempo", "beats", "downbeats"}:
        _beats(out, y, rate, spec, attack, "downbeats" in features)
    if attack is not None and "onsets" in features:
        out.onsets = _onsets(attack, rate)
    if "energy" in features:
        rms = np.sqrt(spec.sum(axis=0) * 2 / (N_FFT * np.sum(np.hanning(N_FFT) ** 2)))
        out.energy = _to_grid(rms, frame_times, duration)
    if "bands" in features:
        freqs = librosa.fft_frequencies(sr=rate, n_fft=N_FFT)
        for name, lo, hi in _BANDS:
            band = np.sqrt(spec[(freqs >= lo) & (freqs < hi)].sum(axis=0))
            setattr(out, name, _to_grid(band, frame_times, duration))
    return out


def _beats(
    out: AudioFeatures,
    y: np.ndarray,
    rate: int,
    spec: np.ndarray,
    attack: np.ndarray,
    downbeats: bool,
) -> None:
    """Fill ``out``'s tempo, confidence, alternatives, beats (and downbeats)."""
    envelopes = onset_envelopes(spec, rate)
    estimate = estimate_tempo(envelopes[0], rate / HOP)
    out.beats = np.zeros(0)
    out.tempo_confidence = 0.0 if estimate is None else estimate.confidence
    if estimate is not None and estimate.confidence < LOW_CONFIDENCE:
        out.tempo_alternatives = (round(estimate.bpm, 2), *estimate.alternatives)
    elif estimate is not None:
        out.tempo, out.beats = track_beats(y, rate, attack, envelopes, estimate)
        scale = (out.tempo or estimate.bpm) / estimate.bpm  # the refined tempo's ratio
        out.tempo_alternatives = tuple(round(a * scale, 2) for a in estimate.alternatives)
    if downbeats:
        strength = strength_at(out.beats, attack, rate) if len(out.beats) else out.beats
        out.downbeats = _downbeats(out.beats, strength)
