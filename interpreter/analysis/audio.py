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
* Onsets: librosa's peak picking over the same attack envelope, snapped to
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
    onsets: np.ndarray | None = None
    energy: np.ndarray | None = None
    bass: np.ndarray | None = None
    mid: np.ndarray | None = None
    high: np.ndarray | None = None


def _attack_envelope(y: np.ndarray) -> np.ndarray:
    """Positive amplitude rise per 64-sample block: where attacks start."""
    n = len(y) // _FINE
    if n < 2:
        return np.zeros(max(n, 0), dtype=np.float32)
    e = np.square(y[: n * _FINE].astype(np.float32)).reshape(n, _FINE).sum(axis=1)
    # smooth over ~3 blocks so one noisy block is not an attack
    e = np.convolve(e, np.ones(3, np.float32) / 3, mode="same")
    # amplitude (not log energy): a log rise out of silence is as big for a ghost
    # note as for an accent, which lets the tracker lock onto off-beats
    amp = np.sqrt(e)
    d = np.zeros(n, dtype=np.float32)
    # compare with two blocks earlier: a click's attack spans the smoothing
    d[2:] = np.maximum(amp[2:] - amp[:-2], 0.0)
    return d


def _snap(
    times: np.ndarray, attack: np.ndarray, rate: int, before: float, after: float
) -> np.ndarray:
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
    diffs = np.diff(beats)
    period = float(np.median(diffs))
    # count beats interval by interval (a gap of two periods = one missed beat): an
    # index from (t - t0) / period would drift by whole beats over a long track
    # because the tracker's period is quantised to its hop
    idx = np.concatenate([[0], np.cumsum(np.maximum(np.round(diffs / period), 1))]).astype(int)
    period, t0 = np.polyfit(idx, beats, 1)
    resid = np.abs(beats - (t0 + period * idx))
    keep = resid <= max(0.04, 3 * float(np.median(resid)))
    if 2 <= keep.sum() < len(beats):
        period, t0 = np.polyfit(idx[keep], beats[keep], 1)
    return float(t0), float(period), idx


def _acf_tempo(attack: np.ndarray, rate: int) -> float | None:
    """Tempo prior: autocorrelation peak of the attack envelope, 50-220 BPM.

    Weighted by a log-normal prior around 120 BPM (one octave wide), as
    librosa's tempo estimator does, to settle octave ambiguity.
    """
    block = _FINE / rate
    x = attack.astype(np.float64) - float(attack.mean())
    n = len(x)
    lo, hi = int(60 / 220 / block), int(60 / 50 / block)
    if n <= hi + 1 or not np.any(x):
        return None
    spec = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(spec * np.conj(spec))[: hi + 2]
    lags = np.arange(lo, hi + 1) * block
    prior = np.exp(-0.5 * np.log2(60.0 / lags / 120.0) ** 2)
    weighted = ac[lo : hi + 1] * prior
    k = int(np.argmax(weighted))
    if weighted[k] <= 0:
        return None
    return float(60.0 / lags[k])


def _onset_frames(attack: np.ndarray) -> np.ndarray:
    """The attack envelope max-pooled onto librosa's hop grid."""
    per = _HOP // _FINE
    n = len(attack) // per
    pooled = attack[: n * per].reshape(n, per).max(axis=1)
    # frame f of librosa is centred on sample f * hop: shift by half a hop of blocks
    return np.concatenate([[0.0], pooled]).astype(np.float32)


def _track_beats(y: np.ndarray, rate: int, attack: np.ndarray) -> tuple[float | None, np.ndarray]:
    prior = _acf_tempo(attack, rate)
    if prior is None:
        return None, np.zeros(0)
    onset_env = _onset_frames(attack)
    _, frames = librosa.beat.beat_track(
        onset_envelope=onset_env, sr=rate, hop_length=_HOP, bpm=prior, units="frames"
    )
    beats = librosa.frames_to_time(frames, sr=rate, hop_length=_HOP)
    if len(beats) < 2:
        return None, beats
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
        keep = on_grid & (strength >= 0.5 * typical)
        if keep.sum() >= 2:
            # keep the span between the first and last strong grid beat
            first, last = np.flatnonzero(keep)[[0, -1]]
            span = snapped[first : last + 1].copy()
            weak = ~keep[first : last + 1]
            span[weak] = grid[first : last + 1][weak]
            beats = span
            t0, period, _ = _fit_line(beats)
    return 60.0 / period, beats


def _onsets(attack: np.ndarray, rate: int) -> np.ndarray:
    """librosa's peak picking on the attack envelope, snapped to the attack."""
    env = _onset_frames(attack)
    if not np.any(env):
        return np.zeros(0)
    times = librosa.onset.onset_detect(onset_envelope=env, sr=rate, hop_length=_HOP, units="time")
    times = np.unique(np.round(_snap(np.asarray(times), attack, rate, 0.05, 0.02), 4))
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
    if len(y) < _N_FFT:
        y = np.pad(y, (0, _N_FFT - len(y)))
    spec = np.abs(librosa.stft(y, n_fft=_N_FFT, hop_length=_HOP)) ** 2
    frame_times = librosa.frames_to_time(np.arange(spec.shape[1]), sr=rate, hop_length=_HOP)
    attack = _attack_envelope(y) if features & {"tempo", "beats", "downbeats", "onsets"} else None
    if attack is not None and features & {"tempo", "beats", "downbeats"}:
        tempo, beats = _track_beats(y, rate, attack)
        out.tempo = tempo
        out.beats = beats
        if "downbeats" in features:
            strength = _strength_at(beats, attack, rate) if len(beats) else beats
            out.downbeats = _downbeats(beats, strength)
    if attack is not None and "onsets" in features:
        out.onsets = _onsets(attack, rate)
    if "energy" in features:
        rms = np.sqrt(spec.sum(axis=0) * 2 / (_N_FFT * np.sum(np.hanning(_N_FFT) ** 2)))
        out.energy = _to_grid(rms, frame_times, duration)
    if "bands" in features:
        freqs = librosa.fft_frequencies(sr=rate, n_fft=_N_FFT)
        for name, lo, hi in _BANDS:
            band = np.sqrt(spec[(freqs >= lo) & (freqs < hi)].sum(axis=0))
            setattr(out, name, _to_grid(band, frame_times, duration))
    return out
