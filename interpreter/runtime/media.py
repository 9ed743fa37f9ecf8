"""Media files: what they hold, and decoded frames scaled to the output size."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import av

from effects.frame import YUVFrame
from interpreter.runtime.errors import SourceError

__all__ = ["Fit", "MediaInfo", "probe", "scale_frame"]

Fit = Literal["fit", "fill", "stretch"]


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What a media file holds.

    Attributes:
        duration: Seconds (0.0 when unknown).
        width: Video width (0 without video).
        height: Video height.
        fps: Average video frame rate (0.0 without video).
        has_video: Whether there is a video stream.
        has_audio: Whether there is an audio stream.
    """

    duration: float
    width: int
    height: int
    fps: float
    has_video: bool
    has_audio: bool


def probe(path: Path) -> MediaInfo:
    """Read a file's streams and duration; raises SourceError if unreadable."""
    try:
        with av.open(str(path)) as c:
            v = c.streams.video[0] if c.streams.video else None
            a = c.streams.audio[0] if c.streams.audio else None
            dur = float(c.duration) / av.time_base if c.duration else 0.0
            if not dur and v is not None and v.duration and v.time_base:
                dur = float(v.duration * v.time_base)
            return MediaInfo(
                duration=dur,
                width=v.codec_context.width if v else 0,
                height=v.codec_context.height if v else 0,
                fps=float(v.average_rate) if v is not None and v.average_rate else 0.0,
                has_video=v is not None,
                has_audio=a is not None,
            )
    except (av.FFmpegError, OSError) as e:
        raise SourceError(f"{path}: cannot read media: {e}") from e


def scale_frame(frame: av.VideoFrame, width: int, height: int, fit: Fit) -> YUVFrame:
    """Convert a decoded frame to a ``width`` x ``height`` yuv420p YUVFrame.

    ``stretch`` ignores the aspect ratio; ``fit`` letterboxes inside black
    bars; ``fill`` scales to cover and crops the centre.
    """
    sw, sh = frame.width, frame.height
    if fit == "stretch" or (sw * height == sh * width):
        out = frame.reformat(width=width, height=height, format="yuv420p")
        return YUVFrame.wrap(out.to_ndarray())
    scale = min(width / sw, height / sh) if fit == "fit" else max(width / sw, height / sh)
    iw = max(2, round(sw * scale / 2) * 2)
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
