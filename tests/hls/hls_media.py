"""Synthetic media for the HLS tests: moving yuv420p frames and a sine tone."""

from __future__ import annotations

import numpy as np

from effects.frame import AudioFormat, VideoFormat, YUVFrame


def make_frames(video: VideoFormat, count: int) -> list[YUVFrame]:
    """A moving gradient so x264 has real (cheap) content to encode."""
    w, h = video.width, video.height
    xx = np.arange(w, dtype=np.uint16)[None, :]
    yy = np.arange(h, dtype=np.uint16)[:, None]
    frames = []
    for i in range(count):
        f = YUVFrame.alloc(w, h)
        f.y[:] = ((xx + yy + i * 4) % 256).astype(np.uint8)
        f.data[h:] = np.uint8((i * 7) % 256)
        frames.append(f)
    return frames


def tone_for_frame(audio: AudioFormat, video: VideoFormat, index: int) -> np.ndarray:
    """The 440 Hz samples that belong to frame ``index`` (exact sample split)."""
    sr, fps = audio.sample_rate, video.fps_num / video.fps_den
    start, end = round(index * sr / fps), round((index + 1) * sr / fps)
    t = np.arange(start, end) / sr
    return np.repeat((0.3 * np.sin(2 * np.pi * 440 * t))[None, :], audio.channels, 0).astype(
        np.float32
    )
