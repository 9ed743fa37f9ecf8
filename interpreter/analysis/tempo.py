"""Tempo estimation: onset envelopes, pulse evidence, the octave choice, confidence.

The onset envelope is the spectral flux of a log-mel spectrogram (every band
counts, so hi-hats and snares carry the pulse of a syncopated break as much as
kicks do), on the STFT frame grid, minus its 1 s moving average. A second
envelope keeps only the bands below 2 kHz (kick, snare, bass): beats are put
where those hit, not on off-beat hi-hats.

Tempo is read from the envelope's autocorrelation (ACF), in three steps:

1. *Evidence* of a beat period ``L``: the mean ACF at ``L``, ``2L`` and ``4L``
   (weights 1, 1, 1/2). A real pulse repeats at its multiples; requiring
   that rejects the accidental peaks of one rhythm figure, and the powers of
   two keep a loop's length from lending its weight to any divisor of it
   (a 5th or a 3rd of a loop).
2. The *family*: the period with the most evidence, 40-250 BPM.
3. The *octave*: among the family's members (x1/4 .. x4), the one with the
   most evidence times a log-normal preference for :data:`PREFERRED_BPM`
   (0.7 octave wide). Evidence alone favours the slowest member (its
   multiples are whole bars); the preference puts the beat where a drummer
   counts it: 170 for a jungle break, 140 for a house loop, 115 for a pop song.

Alternatives are the half, double, 3/2 and 2/3 of the chosen tempo whose
evidence is at least 3/4 of the chosen one's: where the octave (or a triplet
feel) is ambiguous the caller sees the other reading.

Confidence is the evidence of the chosen tempo, clipped to 0..1: about
1 for a loop that repeats exactly, 0.2-0.8 for songs with a clear pulse, below
0.15 for pads, drones, crowd noise (:data:`LOW_CONFIDENCE`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import librosa
import numpy as np

__all__ = [
    "HOP",
    "LOW_CONFIDENCE",
    "N_FFT",
    "PREFERRED_BPM",
    "TempoEstimate",
    "estimate_tempo",
    "onset_envelopes",
]

#: STFT hop and window (samples) of the spectrogram the envelopes come from.
HOP = 512
N_FFT = 2048
#: Below this confidence there is no steady pulse: no tempo or beat grid is reported.
LOW_CONFIDENCE = 0.15
#: Centre of the octave preference (BPM).
PREFERRED_BPM = 150.0
_OCTAVE_WIDTH = 0.7
_BPM_RANGE = (40.0, 250.0)
_N_MELS = 48
_LOWMID_HZ = 2000.0
_COMB = ((1, 1.0), (2, 1.0), (4, 0.5))
_FINE_COMB = ((1, 1.0), (2, 1.0), (4, 1.0), (8, 1.0), (16, 1.0))
_ALT_EVIDENCE = 0.75
_RELATIVES = (0.25, 0.5, 2.0, 4.0, 1.5, 2 / 3, 3.0, 1 / 3)
_ALT_RATIOS = (0.5, 2.0, 1.5, 2 / 3)  # of the chosen tempo


@dataclass(frozen=True)
class TempoEstimate:
    """The tempo reading of one signal.

    Attributes:
        bpm: The most plausible beat rate (from the ACF; the beat tracker refines it).
        confidence: Pulse clarity, 0..1 (see the module docstring).
        alternatives: Other plausible beat rates (other octave, 3:2), best first.
    """

    bpm: float
    confidence: float
    alternatives: tuple[float, ...]


@functools.lru_cache(maxsize=8)
def _mel_basis(rate: int) -> tuple[np.ndarray, np.ndarray]:
    fmax = rate / 2
    basis = librosa.filters.mel(sr=rate, n_fft=N_FFT, n_mels=_N_MELS, fmax=fmax)
    centres = librosa.mel_frequencies(n_mels=_N_MELS + 2, fmax=fmax)[1:-1]
    return basis.astype(np.float32), centres


def _detrend(env: np.ndarray, fps: float) -> np.ndarray:
    width = max(min(int(fps), len(env)), 1)
    local = np.convolve(env, np.ones(width, np.float32) / width, mode="same")
    out: np.ndarray = np.maximum(env - local, 0.0).astype(np.float32)
    return out


def onset_envelopes(power: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Spectral-flux onset envelopes of an STFT power spectrogram (``N_FFT``/``HOP``).

    Args:
        power: ``|STFT|^2``, shape (1 + N_FFT / 2, frames).
        rate: Sample rate of the signal.

    Returns:
        ``(all_bands, low_mid)``: one value per STFT frame, frame ``f`` centred on
        sample ``f * HOP``; ``low_mid`` uses only the mel bands below 2 kHz.
    """
    basis, centres = _mel_basis(rate)
    mel = basis @ power.astype(np.float32, copy=False)
    db = np.log10(mel + 1e-10)
    db = np.maximum(db, db.max(initial=-10.0) - 8.0)  # an 80 dB range
    flux = np.maximum(np.diff(db, axis=1, prepend=db[:, :1]), 0.0)
    fps = rate / HOP
    everything = _detrend(flux.mean(axis=0), fps)
    low_mid = _detrend(flux[centres < _LOWMID_HZ].mean(axis=0), fps)
    return everything, low_mid


def _autocorr(env: np.ndarray) -> np.ndarray | None:
    """Unbiased, normalised ACF of ``env`` for lags below half its length."""
    x = env.astype(np.float64) - float(env.mean())
    n = len(x)
    spec = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(spec * np.conj(spec))[: n // 2]
    if len(ac) < 2 or ac[0] <= 0:
        return None
    ac = ac / (n - np.arange(len(ac)))
    normed: np.ndarray = ac / ac[0]
    return normed


def _peak(ac: np.ndarray, lags: np.ndarray, spread: bool) -> np.ndarray:
    """ACF at each (fractional) lag, or the max within +-1 frame; NaN past the end."""
    idx = np.arange(len(ac), dtype=np.float64)
    shifts = (-1.0, -0.5, 0.0, 0.5, 1.0) if spread else (0.0,)
    near = [np.interp(lags + d, idx, ac, right=np.nan) for d in shifts]
    out: np.ndarray = np.max(near, axis=0)
    return out


def _evidence(
    ac: np.ndarray,
    fps: float,
    bpms: np.ndarray,
    spread: bool = True,
    comb: tuple[tuple[int, float], ...] = _COMB,
) -> np.ndarray:
    """Mean ACF at 1, 2 and 4 beat periods (terms past the ACF's end left out).

    ``spread`` takes each term's max within +-1 frame: a coarse BPM grid then
    cannot step over a peak; without it the evidence peaks at the exact period.
    """
    lags = 60.0 * fps / bpms
    num = np.zeros(len(bpms))
    den = np.zeros(len(bpms))
    for k, w in comb:
        v = _peak(ac, k * lags, spread)
        ok = ~np.isnan(v)
        num[ok] += w * v[ok]
        den[ok] += w
    out: np.ndarray = np.where(den > 0, num / np.maximum(den, 1e-12), -1.0)
    return out


def _preference(bpm: float) -> float:
    return float(np.exp(-0.5 * (np.log2(bpm / PREFERRED_BPM) / _OCTAVE_WIDTH) ** 2))


def _refine(ac: np.ndarray, fps: float, bpm: float) -> tuple[float, float]:
    """The best (bpm, evidence) within 4 % of ``bpm``.

    The period is where the ACF at 1, 2, 4, 8 and 16 periods peaks exactly: the
    long lags pin it (a swung break is even only over a whole bar).
    """
    grid = bpm * np.exp(np.linspace(-0.04, 0.04, 161))
    ev = _evidence(ac, fps, grid, spread=False, comb=_FINE_COMB)
    i = int(np.argmax(ev))
    return float(grid[i]), float(_evidence(ac, fps, grid[i : i + 1])[0])


def estimate_tempo(env: np.ndarray, fps: float) -> TempoEstimate | None:
    """Read the tempo of onset envelope ``env`` sampled at ``fps`` frames per second.

    Returns:
        The estimate, or ``None`` when the envelope is flat or too short to hold
        two periods of the slowest tempo that fits.
    """
    ac = _autocorr(env)
    if ac is None:
        return None
    lo = max(_BPM_RANGE[0], 60.0 * fps / (len(ac) - 2))
    if lo >= _BPM_RANGE[1]:
        return None
    bpms = np.exp(np.linspace(np.log(lo), np.log(_BPM_RANGE[1]), 480))
    ev = _evidence(ac, fps, bpms)
    root = float(bpms[int(np.argmax(ev))])
    cands: dict[float, tuple[float, float, float]] = {}  # ratio -> (bpm, evidence, score)
    for ratio in (1.0, *_RELATIVES):
        if lo <= root * ratio <= _BPM_RANGE[1]:
            bpm, e = _refine(ac, fps, root * ratio)
            cands[ratio] = (bpm, e, max(e, 0.0) * _preference(bpm))
    octave = [c for r, c in cands.items() if r in (0.25, 0.5, 1.0, 2.0, 4.0)]
    best = max(octave, key=lambda c: c[2])
    alts: list[float] = []
    for bpm, e, _ in sorted(cands.values(), key=lambda c: -c[2]):
        related = any(abs(bpm / (best[0] * r) - 1) < 0.03 for r in _ALT_RATIOS)
        fresh = all(abs(bpm / a - 1) >= 0.03 for a in alts)
        if related and fresh and e >= _ALT_EVIDENCE * best[1]:
            alts.append(bpm)
    return TempoEstimate(
        bpm=best[0],
        confidence=float(np.clip(best[1], 0.0, 1.0)),
        alternatives=tuple(round(b, 2) for b in alts),
    )
