"""Audio features: tempo, beats, downbeats, energy and band envelopes.

Signal processing is librosa's (onset strength, dynamic-programming beat
tracker, STFT); this module adds what the tracker lacks for our use:

* Beat times are refined to the sample-level onset. librosa reports beats on
  its hop grid (23 ms at 22050/512) and its onset envelope lags the attack by
  about a frame, which alone breaks a 30 ms budget; each beat is snapped to
  the strongest attack of a 2.9 ms envelope in a window around it.
* Tempo is the slope of a robust line through the refined beats (not the
  tempogram peak, whose bins are several BPM wide at 120 BPM).
* When the beats fit that line (a steady tempo), beats the tracker put on an
  off-beat are moved back onto the grid, and the grid is extended to the
  first and last attacks the tracker trimmed.
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

__all__ = ["ENVELOPE_RATE", "AudioFeatures", "analyse_audio"]

#: Samples per second of the energy / band envelopes.
ENVELOPE_RATE = 100
_HOP = 512
_N_FFT = 2048
_FINE = 64  # samples per block of the fine attack envelope (2.9 ms at 22050)
_BANDS = (("bass", 0.0, 250.0), ("mid", 250.0, 4000.0), ("high", 4000.0, 1e9))


@dataclass
class AudioFeatures:
    """Audio analysis of one input; absent features are ``None``."""

    duration: float
    tempo: float | None = None
    beats: np.ndarray | None = None
    downbeats: np.ndarray | None = None
    energy: np.ndarray | None = None
    bass: np.ndarray | None = None
    mid: np.ndarray | None = None
    high: np.ndarray | None = None


def _attack_envelope(y: np.ndarray) -> np.ndarray:
    """Positive log-energy rise per 64-sample block: where attacks start."""
    n = len(y) // _FINE
    if n < 2:
        return np.zeros(max(n, 0), dtype=np.float32)
    e = np.square(y[: n * _FINE].astype(np.float32)).reshape(n, _FINE).sum(axis=1)
    # smooth over ~3 blocks so one noisy block is not an attack
    e = np.convolve(e, np.ones(3, np.float32) / 3, mode="same")
    floor = max(float(np.median(e)), 1e-10)
    loge = np.log(e + floor)
    d = np.zeros(n, dtype=np.float32)
    # compare with two blocks earlier: a click's attack spans the smoothing
    d[2:] = np.maximum(loge[2:] - loge[:-2], 0.0)
    return d


def _snap(times: np.ndarray, attack: np.ndarray, rate: int, before: float, after: float) -> np.ndarray:
    """Move each time to the strongest attack within ``[t - before, t + after]``."""
    block = _FINE / rate
    out = times.copy()
    for i, t in enumerate(times):
        lo = max(int((t - before) / block), 0)
        hi = min(int((t + after) / block) + 1, len(attack))
        if hi - lo < 1:
            continue
        k = lo + int(np.argmax(attack[lo:hi]))
        if attack[k] > 0:
            # block k holds the rise measured against block k-2 after 3-block smoothing;
            # on click tracks the attack onset is half a block later (measured)
            out[i] = (k + 0.5) * block
    return out


def _strength_at(times: np.ndarray, attack: np.ndarray, rate: int) -> np.ndarray:
    block = _FINE / rate
    idx = np.clip(np.round(times / block).astype(int), 0, max(len(attack) - 1, 0))
    lo = np.clip(idx - 2, 0, None)
    return np.array([attack[a : b + 3].max(initial=0.0) for a, b in zip(lo, idx, strict=True)])


def _fit_line(beats: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Robust (t0, period, index) so that beats ≈ t0 + period * index."""
    period = float(np.median(np.diff(beats)))
    idx = np.round((beats - beats[0]) / period).astype(int)
    for _ in range(3):
        period, t0 = np.polyfit(idx, beats, 1)
        resid = np.abs(beats - (t0 + period * idx))
        keep = resid <= max(0.04, 3 * float(np.median(resid)))
        if keep.sum() >= 2:
            period, t0 = np.polyfit(idx[keep], beats[keep], 1)
        idx = np.round((beats - t0) / period).astype(int)
    return float(t0), float(period), idx


def _track_beats(y: np.ndarray, rate: int, onset_env: np.ndarray) -> tuple[float | None, np.ndarray]:
    _, frames = librosa.beat.beat_track(onset_envelope=onset_env, sr=rate, hop_length=_HOP,
                                        units="frames")
    beats = librosa.frames_to_time(frames, sr=rate, hop_length=_HOP)
    if len(beats) < 2:
        return None, beats
    attack = _attack_envelope(y)
    # the onset envelope peaks ~1 hop after the attack, so look mostly earlier
    beats = _snap(beats, attack, rate, before=0.07, after=0.03)
    t0, period, _ = _fit_line(beats)
    duration = len(y) / rate
    grid_first = t0 - np.floor(t0 / period) * period
    grid = np.arange(grid_first, duration, period)
    snapped = _snap(grid, attack, rate, before=0.035, after=0.035)
    on_grid = np.abs(snapped - grid) <= 0.035
    strength = _strength_at(snapped, attack, rate)
    typical = float(np.median(_strength_at(beats, attack, rate)))
    # steady: the tracker's beats sit on the grid; then trust the grid
    near = np.min(np.abs(beats[:, None] - grid[None, :]), axis=1) <= 0.04
    if near.mean() >= 0.8 and typical > 0:
        keep = on_grid & (strength >= 0.3 * typical)
        if keep.sum() >= 2:
            # keep the span between the first and last strong grid beat
            first, last = np.flatnonzero(keep)[[0, -1]]
            span = snapped[first : last + 1].copy()
            weak = ~keep[first : last + 1]
            span[weak] = grid[first : last + 1][weak]
            beats = span
            t0, period, _ = _fit_line(beats)
    return 60.0 / period, beats


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
        features: Names from ``{"tempo", "beats", "downbeats", "energy", "bands"}``.
    """
    duration = len(y) / rate
    out = AudioFeatures(duration=duration)
    if len(y) < _N_FFT:
        y = np.pad(y, (0, _N_FFT - len(y)))
    spec = np.abs(librosa.stft(y, n_fft=_N_FFT, hop_length=_HOP)) ** 2
    frame_times = librosa.frames_to_time(np.arange(spec.shape[1]), sr=rate, hop_length=_HOP)
    if features & {"tempo", "beats", "downbeats"}:
        mel = librosa.feature.melspectrogram(S=spec, sr=rate)
        onset_env = librosa.onset.onset_strength(S=librosa.power_to_db(mel), sr=rate,
                                                 hop_length=_HOP)
        tempo, beats = _track_beats(y, rate, onset_env)
        out.tempo = tempo
        out.beats = beats
        if "downbeats" in features:
            strength = _strength_at(beats, _attack_envelope(y), rate) if len(beats) else beats
            out.downbeats = _downbeats(beats, strength)
    if "energy" in features:
        rms = np.sqrt(spec.sum(axis=0) * 2 / (_N_FFT * np.sum(np.hanning(_N_FFT) ** 2)))
        out.energy = _to_grid(rms, frame_times, duration)
    if "bands" in features:
        freqs = librosa.fft_frequencies(sr=rate, n_fft=_N_FFT)
        for name, lo, hi in _BANDS:
            band = np.sqrt(spec[(freqs >= lo) & (freqs < hi)].sum(axis=0))
            setattr(out, name, _to_grid(band, frame_times, duration))
    return out
