"""Beat tracking: a beat grid at the estimated tempo, on the attacks.

librosa's dynamic-programming tracker follows the onset envelope at the tempo
:func:`~interpreter.analysis.tempo.estimate_tempo` read; this module adds what
it lacks for our use:

* It follows the sum of the all-band and the low/mid onset envelopes, so
  that kicks and snares weigh more than the hi-hats between them, on an
  envelope upsampled until the beat period is a whole number of frames (the
  tracker rounds it).
* A steady grid: when the tracker's beats keep one period (the ACF's or
  their own; switching between beat and off-beat allowed), the beats are a
  rigid grid of that period, phased where the onset envelope folded over one
  beat is strongest, each point snapped to the strongest attack of a 2.9 ms
  envelope within 35 ms and the line refitted through them, from the first to
  the last grid point with a real attack. A beat the tracker drifted off or
  put on an off-beat is back on the grid; the ones it trimmed at the ends
  are there.
* A moving tempo keeps the tracker's beats, each snapped to the attack within
  30 ms.
* Tempo is the slope of a robust line through the final beats (not the ACF
  peak, whose lag resolution is a few BPM at 150 BPM).
"""

from __future__ import annotations

import librosa
import numpy as np

from .tempo import HOP, TempoEstimate

__all__ = ["FINE", "attack_envelope", "snap", "strength_at", "track_beats"]

#: Samples per block of the fine attack envelope (2.9 ms at 22050 Hz).
FINE = 64


def attack_envelope(y: np.ndarray) -> np.ndarray:
    """Positive amplitude rise per :data:`FINE`-sample block: where attacks start."""
    n = len(y) // FINE
    if n < 2:
        return np.zeros(max(n, 0), dtype=np.float32)
    e = np.square(y[: n * FINE].astype(np.float32)).reshape(n, FINE).sum(axis=1)
    # smooth over ~3 blocks so one noisy block is not an attack
    e = np.convolve(e, np.ones(3, np.float32) / 3, mode="same")
    # amplitude (not log energy): a log rise out of silence is as big for a ghost
    # note as for an accent
    amp = np.sqrt(e)
    d = np.zeros(n, dtype=np.float32)
    # compare with two blocks earlier: a click's attack spans the smoothing
    d[2:] = np.maximum(amp[2:] - amp[:-2], 0.0)
    return d


def snap(
    times: np.ndarray, attack: np.ndarray, rate: int, before: float, after: float
) -> np.ndarray:
    """Move each time to the strongest attack within ``[t - before, t + after]``."""
    block = FINE / rate
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


def strength_at(times: np.ndarray, attack: np.ndarray, rate: int) -> np.ndarray:
    """The strongest attack within a few blocks before each time."""
    block = FINE / rate
    idx = np.clip(np.round(times / block).astype(int), 0, max(len(attack) - 1, 0))
    lo = np.clip(idx - 2, 0, None)
    return np.array([attack[a : b + 3].max(initial=0.0) for a, b in zip(lo, idx, strict=True)])


def _fit_line(beats: np.ndarray) -> tuple[float, float]:
    """Robust (t0, period) so that beats ≈ t0 + period * index."""
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
    return float(t0), float(period)


def _grid(t0: float, period: float, duration: float) -> np.ndarray:
    """``t0 + k * period`` for every k that falls in ``[0, duration)``."""
    first = t0 - np.floor(t0 / period) * period
    return np.arange(first, duration, period)


def _near(beats: np.ndarray, grid: np.ndarray, tol: float) -> float:
    """Fraction of ``beats`` within ``tol`` seconds of a ``grid`` point."""
    if not len(grid):
        return 0.0
    return float(np.mean(np.min(np.abs(beats[:, None] - grid[None, :]), axis=1) <= tol))


def _fold_phase(env: np.ndarray, fps: float, period: float) -> float:
    """Time (mod ``period``) at which ``env`` is strongest on average over the signal."""
    bins = max(round(period * fps), 4)
    pos = np.arange(len(env)) / fps % period / period * bins
    idx = np.minimum(pos.astype(int), bins - 1)
    prof = np.bincount(idx, weights=env, minlength=bins) / np.maximum(
        np.bincount(idx, minlength=bins), 1
    )
    smooth = (np.roll(prof, 1) + prof + np.roll(prof, -1)) / 3
    return (int(np.argmax(smooth)) + 0.5) / bins * period


def _steady_grid(
    beats: np.ndarray,
    periods: tuple[float, ...],
    env: np.ndarray,
    attack: np.ndarray,
    rate: int,
) -> np.ndarray | None:
    """A rigid beat grid on the attacks, or ``None`` when the tempo moves.

    The period is whichever of ``periods`` (the ACF's, the tracker's) keeps
    more of the tracker's beats within 70 ms of its grid or of the grid half a
    beat over (the tracker may switch between beat and off-beat; at least 80 %
    are needed). The phase is where the onset envelope ``env`` is strongest
    folded over that period. Each grid point is then snapped to its attack and
    the line refitted through the strong ones, three times, which pulls a long
    grid onto the attacks at both ends.
    """
    fps = rate / HOP
    duration = len(env) / fps
    best: tuple[float, float] | None = None
    for period in periods:
        half = period / 2
        phase = float(np.angle(np.mean(np.exp(2j * np.pi * beats / half)))) / (2 * np.pi) * half
        score = _near(beats, _grid(phase, half, duration), min(0.07, period / 8))
        if score >= 0.8 and (best is None or score > best[0]):
            best = score, period
    if best is None:
        return None
    period = best[1]
    # the envelope peaks about a hop before the attack
    grid = _grid(_fold_phase(env, fps, period) + 1.0 / fps, period, duration)
    for _ in range(3):
        snapped = snap(grid, attack, rate, before=0.035, after=0.035)
        strength = strength_at(snapped, attack, rate)
        keep = strength >= 0.5 * float(np.median(strength))
        if keep.sum() < 2 or not np.any(strength):
            return grid
        idx = np.arange(len(grid))
        period, t0 = np.polyfit(idx[keep], snapped[keep], 1)
        grid = _grid(float(t0), float(period), duration)
    snapped = snap(grid, attack, rate, before=0.035, after=0.035)
    strength = strength_at(snapped, attack, rate)
    keep = strength >= 0.5 * float(np.median(strength))
    if keep.sum() < 2:
        return grid
    # the span between the first and last strong grid beat; a weak beat inside it
    # stays on the grid
    first_i, last_i = np.flatnonzero(keep)[[0, -1]]
    span = snapped[first_i : last_i + 1].copy()
    weak = ~keep[first_i : last_i + 1]
    span[weak] = grid[first_i : last_i + 1][weak]
    return span


def track_beats(
    y: np.ndarray,
    rate: int,
    attack: np.ndarray,
    envelopes: tuple[np.ndarray, np.ndarray],
    estimate: TempoEstimate,
) -> tuple[float | None, np.ndarray]:
    """Beat times (seconds) and the tempo they give (BPM).

    Args:
        y: Mono samples.
        rate: Their sample rate.
        attack: :func:`attack_envelope` of ``y``.
        envelopes: ``(all_bands, low_mid)`` from :func:`~.tempo.onset_envelopes`.
        estimate: The tempo the tracker follows.

    Returns:
        ``(tempo, beats)``; tempo is ``None`` with fewer than two beats.
    """
    everything, low_mid = envelopes
    fps = rate / HOP
    # librosa's tracker rounds the beat period to whole frames (17.7 -> 18 is
    # 1.7 % slow at 146 BPM, and its beats drift off the music): upsample the
    # envelope so that the period is within 0.2 % of a whole number of frames
    lag = 60.0 * fps / estimate.bpm
    up = min(range(1, 9), key=lambda u: (abs(u * lag - round(u * lag)) / (u * lag) > 0.002, u))
    env = everything + low_mid
    fine = np.interp(np.arange(len(env) * up) / up, np.arange(len(env)), env)
    _, frames = librosa.beat.beat_track(
        onset_envelope=fine,
        sr=rate * up,  # only the frame rate matters: rate * up / HOP
        hop_length=HOP,
        bpm=estimate.bpm,
        tightness=200,
        units="frames",
    )
    # the flux envelope peaks about one hop before the attack
    beats = (np.asarray(frames, dtype=np.float64) / up + 1.0) / fps
    if len(beats) < 2:
        return None, beats
    periods = (60.0 / estimate.bpm, _fit_line(beats)[1])
    steady = _steady_grid(beats, periods, env, attack, rate)
    if steady is None:
        beats = np.unique(snap(beats, attack, rate, before=0.03, after=0.03))
    else:
        beats = steady
    if len(beats) < 2:
        return None, beats
    _, period = _fit_line(beats)
    return 60.0 / period, beats
