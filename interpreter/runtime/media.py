"""Media files: what they hold, and decoded frames scaled to the output size.

A file's time origin is its first video frame (the video stream's start
time): the frame shown at output time 0. Its length is its video's, measured
on timestamps (the last frame's presentation time plus its duration), not
the container's duration, which also covers audio running past the video and
is only an estimate in some containers (MPEG program streams, Ogg). Audio is
cut to that length. Files without video use the container duration.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.packet import Packet
from av.stream import Disposition
from av.video.stream import VideoStream

from effects.frame import VideoFormat, YUVFrame
from interpreter.runtime.errors import SourceError

__all__ = [
    "Fit",
    "MediaInfo",
    "grid_frames",
    "probe",
    "scale_frame",
    "video_format_of",
    "video_stream",
]

Fit = Literal["fit", "fill", "stretch"]

#: Seconds: timestamp tolerance when matching source frames to the output grid.
GRID_EPS = 1e-3
_TAIL = 3.0  # seconds before the estimated end where the end scan starts


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What a media file holds.

    Attributes:
        duration: Container seconds (0.0 when unknown); covers every stream.
        width: Video width (0 without video).
        height: Video height.
        fps: Average video frame rate (0.0 without video).
        has_video: Whether there is a video stream (cover art does not count).
        has_audio: Whether there is an audio stream.
        rate: The average frame rate, exact (``Fraction(0)`` without video).
        sar: Sample (pixel) aspect ratio (``Fraction(1)`` when square or unknown).
        video_start: Container seconds of the first video frame: the file's
            time origin, for audio too (0.0 without video).
        video_duration: Seconds from the first video frame to the end of the
            last, on timestamps (0.0 without video).
    """

    duration: float
    width: int
    height: int
    fps: float
    has_video: bool
    has_audio: bool
    rate: Fraction = Fraction(0)
    sar: Fraction = Fraction(1)
    video_start: float = 0.0
    video_duration: float = 0.0

    @property
    def length(self) -> float:
        """Seconds the file plays: its video's length, else the container's duration."""
        return self.video_duration if self.has_video else self.duration


def grid_frames(seconds: float, fps: float) -> int:
    """Output frames whose start time lies inside ``seconds`` of source video.

    Frame ``k`` starts at ``k / fps``; it exists when that is before the end
    (less ``GRID_EPS``, the timestamp tolerance). At the source's own rate this
    is exactly the source's frame count; at another rate it is
    ``ceil(seconds * fps)``.
    """
    return max(0, math.ceil((seconds - GRID_EPS) * fps))


def video_format_of(info: MediaInfo) -> VideoFormat:
    """The output format that keeps a file's video as it is.

    The size is rounded down to even (the odd last row or column is cropped,
    see :func:`scale_frame`), the rate is the exact average rate (30 when
    unknown) and the sample aspect ratio is the file's (signalled, not
    resampled).
    """
    rate = info.rate if info.rate > 0 else Fraction(30)
    sar = info.sar if info.sar > 0 else Fraction(1)
    return VideoFormat(
        max(2, info.width & ~1),
        max(2, info.height & ~1),
        rate.numerator,
        rate.denominator,
        sar.numerator,
        sar.denominator,
    )


def _exact_rate(v: VideoStream) -> Fraction:
    """The average frame rate, snapped to a denominator <= 1001 when that is within 1e-6.

    Without an average, the guessed rate when it is plausible (<= 120 fps;
    Matroska's guess can be its 1 ms tick); else 0 (unknown).
    """
    r = v.average_rate
    if not r or r <= 0:
        g = v.guessed_rate
        r = g if g and 0 < g <= 120 else None
    if r is None:
        return Fraction(0)
    r = Fraction(r)
    near = r.limit_denominator(1001)
    return near if abs(near - r) <= r * Fraction(1, 1_000_000) else r


def _packet_end(p: Packet[VideoStream], step: Fraction) -> Fraction | None:
    """Presentation end of a packet in seconds (None without a timestamp)."""
    ts = p.pts if p.pts is not None else p.dts
    if ts is None or p.time_base is None:
        return None
    if p.duration:
        return Fraction(ts + p.duration) * p.time_base
    return Fraction(ts) * p.time_base + step


def _scan_end(c: InputContainer, v: VideoStream, step: Fraction, seek: int | None) -> Fraction:
    """Latest packet end of ``v`` after seeking to ``seek`` (None: from the start)."""
    if seek is not None:
        c.seek(seek, stream=v, backward=True)
    end = Fraction(0)
    for p in c.demux(v):
        e = _packet_end(p, step)
        if e is not None and e > end:
            end = e
    return end


def _video_end(path: Path, c: InputContainer, v: VideoStream, step: Fraction) -> Fraction:
    """Container seconds where the last video frame ends: the tail's packets, scanned."""
    tb = v.time_base or Fraction(1, 1)
    seek = None
    if c.duration:
        est = Fraction(c.duration + (c.start_time or 0), av.time_base)
        seek = max(0, int((est - _TAIL) / tb))
    try:
        end = _scan_end(c, v, step, seek)
    except av.FFmpegError:
        end = Fraction(0)
    if end == 0 and seek is not None:  # the estimate was off: read the whole stream
        with av.open(str(path), metadata_errors="replace") as again:
            same = video_stream(again)
            end = _scan_end(again, same, step, None) if same is not None else end
    return end


def video_stream(c: InputContainer) -> VideoStream | None:
    """The file's first video stream that is not cover art (an attached picture)."""
    for v in c.streams.video:
        if not v.disposition & Disposition.attached_pic:
            return v
    return None


def _start(stream: VideoStream | AudioStream | None) -> Fraction:
    """A stream's start time in seconds (0 when unknown)."""
    if stream is None or stream.start_time is None:
        return Fraction(0)
    return Fraction(stream.start_time) * (stream.time_base or Fraction(1, 1))


@functools.lru_cache(maxsize=64)
def _probe(path: Path, _stamp: tuple[int, int]) -> MediaInfo:
    with av.open(str(path), metadata_errors="replace") as c:
        v = video_stream(c)
        a = c.streams.audio[0] if c.streams.audio else None
        dur = float(c.duration) / av.time_base if c.duration else 0.0
        if v is None:
            return MediaInfo(dur, 0, 0, 0.0, False, a is not None)
        if not dur and v.duration and v.time_base:
            dur = float(v.duration * v.time_base)
        rate = _exact_rate(v)
        start = _start(v)
        length = _video_end(path, c, v, 1 / rate if rate else Fraction(1, 30)) - start
        if length <= 0:  # no timestamps to go by: the container's duration
            length = Fraction(dur)
        sar = v.sample_aspect_ratio
        return MediaInfo(
            duration=dur,
            width=v.codec_context.width,
            height=v.codec_context.height,
            fps=float(rate),
            has_video=True,
            has_audio=a is not None,
            rate=rate,
            sar=Fraction(sar) if sar and sar > 0 else Fraction(1),
            video_start=float(start),
            video_duration=float(max(Fraction(0), length)),
        )


def probe(path: Path) -> MediaInfo:
    """Read a file's streams, duration and video span; raises SourceError if unreadable.

    Results are cached per path, size and modification time (a file is probed
    once however many steps use it).
    """
    try:
        st = os.stat(path)
        return _probe(Path(path), (st.st_size, st.st_mtime_ns))
    except (av.FFmpegError, OSError) as e:
        raise SourceError(f"{path}: cannot read media: {e}") from e


def _crop(frame: av.VideoFrame, width: int, height: int) -> YUVFrame:
    """The top-left ``width`` x ``height`` of ``frame`` as yuv420p, unscaled.

    Drops the odd last row or column of an odd-sized frame (720x405 -> 720x404).
    """
    f = frame if frame.format.name == "yuv420p" else frame.reformat(format="yuv420p")
    out = YUVFrame.alloc(width, height)
    for plane, dst in zip(f.planes, (out.y, out.u, out.v), strict=True):
        rows, cols = dst.shape
        src = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)
        dst[:] = src[:rows, :cols]
    return out


def scale_frame(
    frame: av.VideoFrame,
    width: int,
    height: int,
    fit: Fit,
    src_sar: Fraction = Fraction(1),
    out_sar: Fraction = Fraction(1),
) -> YUVFrame:
    """Convert a decoded frame to a ``width`` x ``height`` yuv420p YUVFrame.

    ``stretch`` ignores the aspect ratio; ``fit`` letterboxes inside black
    bars; ``fill`` scales to cover and crops the centre. Aspect ratios are
    display ones: a source pixel is ``src_sar`` wide, an output pixel
    ``out_sar``. A frame that only differs from the output by its odd last
    row or column (same pixel aspect) is cropped to it, not scaled.
    """
    sw, sh = frame.width, frame.height
    if (sw & ~1, sh & ~1) == (width, height) and (fit == "stretch" or src_sar == out_sar):
        if (sw, sh) != (width, height):
            return _crop(frame, width, height)
        return YUVFrame.wrap(frame.reformat(format="yuv420p").to_ndarray())
    dw = sw * src_sar / out_sar  # source width in output pixels
    if fit == "stretch" or dw * height == sh * width:
        out = frame.reformat(width=width, height=height, format="yuv420p")
        return YUVFrame.wrap(out.to_ndarray())
    pick = min if fit == "fit" else max
    scale: Fraction = pick(width / dw, Fraction(height, sh))
    iw = max(2, round(dw * scale / 2) * 2)
    ih = max(2, round(sh * scale / 2) * 2)
    img = YUVFrame.wrap(frame.reformat(width=iw, height=ih, format="yuv420p").to_ndarray())
    out_f = YUVFrame.alloc(width, height)
    if fit == "fit":
        out_f.y[:] = 16
        out_f.u[:] = 128
        out_f.v[:] = 128
        x0, y0 = ((width - iw) // 2) & ~1, ((height - ih) // 2) & ~1
        out_f.y[y0 : y0 + ih, x0 : x0 + iw] = img.y
        out_f.u[y0 // 2 : (y0 + ih) // 2, x0 // 2 : (x0 + iw) // 2] = img.u
        out_f.v[y0 // 2 : (y0 + ih) // 2, x0 // 2 : (x0 + iw) // 2] = img.v
    else:
        x0, y0 = ((iw - width) // 2) & ~1, ((ih - height) // 2) & ~1
        out_f.y[:] = img.y[y0 : y0 + height, x0 : x0 + width]
        out_f.u[:] = img.u[y0 // 2 : (y0 + height) // 2, x0 // 2 : (x0 + width) // 2]
        out_f.v[:] = img.v[y0 // 2 : (y0 + height) // 2, x0 // 2 : (x0 + width) // 2]
    return out_f
