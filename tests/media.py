"""Synthetic media helpers several test packages share (numpy + PyAV)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

__all__ = ["click_track", "write_wav"]


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    """Write mono float samples (-1..1) to ``path`` as 16-bit PCM WAV."""
    y = np.ascontiguousarray(samples, dtype=np.float32)
    with av.open(str(path), "w", format="wav") as c:
        s = c.add_stream("pcm_s16le", rate=rate, layout="mono")
        for i in range(0, len(y), 1024):
            f = av.AudioFrame.from_ndarray(y[None, i : i + 1024], format="fltp", layout="mono")
            f.sample_rate, f.pts, f.time_base = rate, i, Fraction(1, rate)
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    return path


def click_track(beats: np.ndarray, seconds: float, rate: int = 48000) -> np.ndarray:
    """Mono samples with a 20 ms decaying 1 kHz click (amplitude 0.8) at each beat time."""
    n = round(seconds * rate)
    y = np.zeros(n, np.float32)
    k = np.arange(round(0.02 * rate))
    click = (0.8 * np.exp(-k / rate * 200) * np.sin(2 * np.pi * 1000 * k / rate)).astype(np.float32)
    for b in beats:
        i = round(b * rate)
        y[i : i + len(click)] += click[: n - i]
    return y
