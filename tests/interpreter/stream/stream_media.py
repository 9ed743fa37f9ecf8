"""Synthetic media for the stream tests, made with PyAV."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def make_clip(
    path: Path,
    *,
    width: int = 64,
    height: int = 48,
    fps: int = 25,
    seconds: float = 2.0,
    audio: bool = True,
    rate: int = 48000,
) -> Path:
    """An H.264 (+ AAC) MP4 whose luma encodes the frame number (Y = 4 * n + 16 for n < 55)."""
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
        vs.options = {"preset": "ultrafast", "qp": "0"}
        as_ = c.add_stream("aac", rate=rate) if audio else None
        n_frames = round(seconds * fps)
        for n in range(n_frames):
            data = np.full((height * 3 // 2, width), 128, dtype=np.uint8)
            data[:height] = (16 + 4 * n) % 256
            f = av.VideoFrame.from_ndarray(data, format="yuv420p")
            f.pts = n
            f.time_base = Fraction(1, fps)
            for p in vs.encode(f):
                c.mux(p)
        for p in vs.encode(None):
            c.mux(p)
        if as_ is not None:
            total = round(seconds * rate)
            t = np.arange(total) / rate
            tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            for i in range(0, total, 1024):
                chunk = np.stack([tone[i : i + 1024]] * 2)
                af = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(chunk), format="fltp", layout="stereo"
                )
                af.sample_rate = rate
                af.pts = i
                af.time_base = Fraction(1, rate)
                for p in as_.encode(af):
                    c.mux(p)
            for p in as_.encode(None):
                c.mux(p)
    return path


def frame_number(y_mean: float) -> int:
    """Inverse of make_clip's luma code."""
    return round((y_mean - 16) / 4)
