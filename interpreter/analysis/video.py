"""Video features: motion-energy envelope, scene cuts and motion tempo.

All three come from one pass over tiny grey frames (64 px wide):

* motion[i] = mean absolute luma difference between frame i and frame i-1,
  scaled to 0..1 (255 = 1); motion[0] = 0. One value per source frame.
* A cut at frame i (the first frame of the new shot) is a difference that is
  both large in absolute terms (> :data:`CUT_MIN`) and several times the
  median of its neighbourhood, so fast motion does not read as a cut.
* Motion tempo: the strongest autocorrelation lag of the motion envelope
  between 40 and 240 BPM, refined by parabolic interpolation; ``None`` when
  there is no periodicity worth the name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

__all__ = ["CUT_MIN", "VideoMotion", "analyse_motion", "detect_cuts", "motion_tempo"]

#: Minimum mean luma difference (0..1) for a scene cut.
CUT_MIN = 0.08
_CUT_RATIO = 3.0
_CUT_WINDOW = 8  # frames each side for the local median


@dataclass
class VideoMotion:
    """Motion features of one video stream."""

    motion: np.ndarray
    cuts: np.ndarray
    tempo: float | None


def motion_envelope(frames: Iterable[np.ndarray]) -> np.ndarray:
    """Mean absolute difference of consecutive grey frames, 0..1 per frame."""
    values: list[float] = []
    prev: np.ndarray | None = None
    for f in frames:
        cur = f.astype(np.int16)
        values.append(0.0 if prev is None else float(np.abs(cur - prev).mean()) / 255.0)
        prev = cur
    return np.asarray(values, dtype=np.float32)


def detect_cuts(motion: np.ndarray) -> np.ndarray:
    """Frame indices where a new shot starts (see the module docstring)."""
    n = len(motion)
    cuts: list[int] = []
    for i in range(1, n):
        d = motion[i]
        if d <= CUT_MIN:
            continue
        lo, hi = max(1, i - _CUT_WINDOW), min(n, i + _CUT_WINDOW + 1)
        neigh = np.concatenate([motion[lo:i], motion[i + 1 : hi]])
        base = float(np.median(neigh)) if len(neigh) else 0.0
        if d >= _CUT_RATIO * base and d >= motion[lo:hi].max():
            cuts.append(i)
    return np.asarray(cuts, dtype=np.int64)


def motion_tempo(motion: np.ndarray, fps: float) -> float | None:
    """Dominant period of the motion envelope in BPM, or ``None``."""
    if fps <= 0 or len(motion) < 8:
        return None
    x = motion.astype(np.float64) - float(motion.mean())
    if not np.any(x):
        return None
    n = len(x)
    spec = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(spec * np.conj(spec))[:n]
    ac /= ac[0]
    lo = max(int(np.floor(fps * 60 / 240)), 1)
    hi = min(int(np.ceil(fps * 60 / 40)), n - 2)
    if hi <= lo:
        return None
    k = lo + int(np.argmax(ac[lo : hi + 1]))
    if ac[k] < 0.2:
        return None
    # parabolic interpolation around the peak lag
    a, b, c = ac[k - 1], ac[k], ac[k + 1]
    denom = a - 2 * b + c
    lag = k + (0.5 * (a - c) / denom if denom != 0 else 0.0)
    return float(60.0 * fps / lag)


def analyse_motion(frames: Iterable[np.ndarray], fps: float) -> VideoMotion:
    """Motion envelope, cuts and motion tempo from grey ``frames`` at ``fps``."""
    motion = motion_envelope(frames)
    return VideoMotion(motion=motion, cuts=detect_cuts(motion), tempo=motion_tempo(motion, fps))
