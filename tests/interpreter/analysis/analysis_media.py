"""Synthetic media with known truth for the analysis tests (made with numpy + PyAV).

A named module, not conftest: a ``conftest`` import finds whichever conftest
pytest imported last when several test folders are collected together.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

RATE = 22050


def click(rate: int = RATE) -> np.ndarray:
    """A 20 ms decaying 1.5 kHz click."""
    t = np.arange(int(0.02 * rate)) / rate
    return (np.sin(2 * np.pi * 1500 * t) * np.exp(-t * 200)).astype(np.float32)


def click_track(
    bpm: float,
    duration: float = 10.0,
    *,
    swing: bool = False,
    noise: float = 0.0,
    offset: float = 0.25,
    accent_phase: int = 0,
    seed: int = 0,
    rate: int = RATE,
) -> tuple[np.ndarray, np.ndarray]:
    """Clicks on every beat (every 4th, from ``accent_phase``, louder).

    With ``swing`` a quieter click falls on each swung off-beat (2/3 of the beat).
    Returns the samples and the true beat times.
    """
    n = int(duration * rate)
    y = np.zeros(n, np.float32)
    c = click(rate)
    period = 60.0 / bpm
    beats = np.arange(offset, duration - 0.1, period)

    def put(t: float, amp: float) -> None:
        s = round(t * rate)
        if s < n:
            seg = c[: n - s]
            y[s : s + len(seg)] += amp * seg

    for i, b in enumerate(beats):
        put(b, 1.0 if i % 4 == accent_phase else 0.55)
        if swing:
            put(b + period * 2 / 3, 0.3)
    if noise:
        y += noise * np.random.default_rng(seed).standard_normal(n).astype(np.float32)
    return y, beats


def write_audio(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    """Write mono float samples to ``path`` (wav or flac by suffix) with PyAV."""
    codec = "flac" if path.suffix == ".flac" else "pcm_s16le"
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16).reshape(1, -1)
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        assert isinstance(stream, av.AudioStream)
        step = 4096
        for i in range(0, pcm.shape[1], step):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(pcm[:, i : i + step]), format="s16", layout="mono"
            )
            frame.sample_rate = rate
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def write_video(
    path: Path,
    luma: list[np.ndarray] | np.ndarray,
    fps: int = 25,
    audio: np.ndarray | None = None,
    audio_rate: int = 44100,
) -> Path:
    """Encode grey frames (uint8 (H, W)) as H.264 mp4, optionally with an AAC track."""
    frames = np.asarray(luma, dtype=np.uint8)
    h, w = frames.shape[1:]
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.options = {"preset": "ultrafast", "crf": "18"}
        as_ = out.add_stream("aac", rate=audio_rate, layout="mono") if audio is not None else None
        for i, f in enumerate(frames):
            yuv = np.concatenate([f, np.full((h // 2, w), 128, np.uint8)])
            frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in vs.encode(frame):
                out.mux(packet)
        for packet in vs.encode(None):
            out.mux(packet)
        if as_ is not None and audio is not None:
            pcm = audio.astype(np.float32).reshape(1, -1)
            for i in range(0, pcm.shape[1], 1024):
                af = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(pcm[:, i : i + 1024]), format="flt", layout="mono"
                )
                af.sample_rate = audio_rate
                af.pts = i
                for packet in as_.encode(af):
                    out.mux(packet)
            for packet in as_.encode(None):
                out.mux(packet)
    return path


def shots_video(
    cut_frames: list[int], n_frames: int, size: tuple[int, int] = (96, 160), seed: int = 1
) -> np.ndarray:
    """Grey frames: one flat level per shot plus a drifting texture (real motion, no cut)."""
    rng = np.random.default_rng(seed)
    h, w = size
    levels = rng.permutation(np.linspace(40, 215, len(cut_frames) + 1))
    texture = rng.integers(0, 30, (h, w * 2)).astype(np.int16)
    bounds = [0, *cut_frames, n_frames]
    out = np.empty((n_frames, h, w), np.uint8)
    for s in range(len(bounds) - 1):
        for i in range(bounds[s], bounds[s + 1]):
            shift = i % w
            out[i] = np.clip(levels[s] + texture[:, shift : shift + w] - 15, 0, 255)
    return out
