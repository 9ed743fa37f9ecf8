"""Decoding inputs with PyAV into what the analysers need.

Audio becomes one mono float32 array at a fixed rate (PyAV's resampler, so the
rate conversion is FFmpeg's); video becomes a stream of tiny grey frames, which
is all motion and cut detection needs and keeps decoding cheap.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from .errors import AnalysisError

__all__ = ["ANALYSIS_RATE", "MediaInfo", "VideoInfo", "decode_audio", "iter_grey_frames", "probe"]

#: Sample rate audio is analysed at (librosa's default; enough for bands up to 11 kHz).
ANALYSIS_RATE = 22050


@dataclass(frozen=True)
class VideoInfo:
    """Metadata of the first video stream."""

    width: int
    height: int
    fps: float
    codec: str
    duration: float
    frame_count: int


@dataclass(frozen=True)
class MediaInfo:
    """What an input holds: audio (rate, channels, duration) and/or video."""

    has_audio: bool
    audio_rate: int
    audio_channels: int
    audio_duration: float
    video: VideoInfo | None


def _open(path: Path) -> av.container.InputContainer:
    try:
        # tags are not always UTF-8 (Shift-JIS titles in game music): replace, not raise
        return av.open(str(path), metadata_errors="replace")
    except (av.FFmpegError, OSError) as exc:
        raise AnalysisError(f"cannot open media: {exc}", file=str(path)) from exc


def _duration(stream: av.stream.Stream, container: av.container.InputContainer) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0


def probe(path: Path) -> MediaInfo:
    """Read stream metadata without decoding."""
    with _open(path) as container:
        a = container.streams.audio[0] if container.streams.audio else None
        v = container.streams.video[0] if container.streams.video else None
        video = None
        if v is not None:
            rate = v.average_rate or v.base_rate or Fraction(0)
            fps = float(rate)
            dur = _duration(v, container)
            frames = v.frames or round(dur * fps)
            video = VideoInfo(
                width=v.codec_context.width,
                height=v.codec_context.height,
                fps=fps,
                codec=v.codec_context.name,
                duration=dur,
                frame_count=int(frames),
            )
        return MediaInfo(
            has_audio=a is not None,
            audio_rate=a.codec_context.sample_rate if a is not None else 0,
            audio_channels=a.codec_context.channels if a is not None else 0,
            audio_duration=_duration(a, container) if a is not None else 0.0,
            video=video,
        )


def decode_audio(path: Path, rate: int = ANALYSIS_RATE) -> np.ndarray:
    """Decode the first audio stream to mono float32 at ``rate`` Hz.

    Raises:
        AnalysisError: The file has no audio stream or cannot be decoded.
    """
    with _open(path) as container:
        if not container.streams.audio:
            raise AnalysisError(
                "input has no audio stream",
                file=str(path),
                hint="audio features (tempo, beats, energy, bands) need audio",
            )
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks: list[np.ndarray] = []
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except av.FFmpegError as exc:
            raise AnalysisError(f"audio decode failed: {exc}", file=str(path)) from exc
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.ascontiguousarray(np.concatenate(chunks), dtype=np.float32)


def iter_grey_frames(path: Path, width: int = 64) -> Iterator[np.ndarray]:
    """Yield each video frame as a small grey uint8 image ``width`` pixels wide.

    Raises:
        AnalysisError: The file has no video stream or cannot be decoded.
    """
    with _open(path) as container:
        if not container.streams.video:
            raise AnalysisError(
                "input has no video stream",
                file=str(path),
                hint="video features (motion, cuts) need video",
            )
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        w0, h0 = stream.codec_context.width, stream.codec_context.height
        height = max(2, round(width * h0 / max(w0, 1)) // 2 * 2)
        try:
            for frame in container.decode(stream):
                yield frame.reformat(width=width, height=height, format="gray").to_ndarray()
        except av.FFmpegError as exc:
            raise AnalysisError(f"video decode failed: {exc}", file=str(path)) from exc
