"""Video encoder set-up shared by the HLS segment encoder and the file output.

Both encode yuv420p :class:`effects.frame.YUVFrame` buffers with libx264; the
stream parameters and the frame hand-over (including a PyAV quirk) live here
once.
"""

from __future__ import annotations

from fractions import Fraction

import av
from av.codec.context import ThreadType
from av.container import OutputContainer
from av.video.stream import VideoStream

from effects.frame import VideoFormat, YUVFrame
from hls.x264_cpu import x264_cpu_flags

__all__ = ["add_h264_stream", "to_video_frame"]


def add_h264_stream(
    container: OutputContainer, video: VideoFormat, options: dict[str, str]
) -> VideoStream:
    """Add a libx264 yuv420p stream for ``video`` to an output ``container``.

    Non-square pixels (``video.sar`` other than 1) are signalled, not
    resampled: x264 writes the sample aspect ratio into the SPS (VUI), which
    every container carries, and the MP4 muxers add a ``pasp`` box from it.
    x264 is kept off AVX-512 where it would use it (:mod:`hls.x264_cpu`: its
    AVX-512 code made the bytes differ between identical encodes).

    Args:
        container: An ``av`` output container (before ``start_encoding``).
        video: Size, frame rate and sample aspect ratio; the codec time base
            is one frame.
        options: libx264 private options (``preset``, ``crf``, ``x264-params``...).

    Returns:
        The ``av`` video stream; callers tune its ``codec_context`` further.
    """
    fps = Fraction(video.fps_num, video.fps_den)
    cpu = x264_cpu_flags()
    if cpu is not None:
        params = options.get("x264-params")
        options = {**options, "x264-params": f"{params}:asm={cpu}" if params else f"asm={cpu}"}
    stream = container.add_stream("libx264", rate=fps, options=options)
    stream.width = video.width
    stream.height = video.height
    stream.pix_fmt = "yuv420p"
    stream.codec_context.thread_type = ThreadType.AUTO
    stream.codec_context.time_base = 1 / fps
    if video.sar != 1:
        stream.codec_context.sample_aspect_ratio = video.sar
    return stream


def to_video_frame(frame: YUVFrame, pts: int, time_base: Fraction) -> av.VideoFrame:
    """Wrap ``frame`` as an ``av.VideoFrame`` with ``pts`` (in frames) and ``time_base``.

    The buffer is shared without a copy when the height is a multiple of 4;
    otherwise PyAV mis-sizes ``from_numpy_buffer`` frames (see
    docs/ARCHITECTURE.md), so those are copied with ``from_ndarray``.
    """
    if frame.height % 4 == 0:
        vf = av.VideoFrame.from_numpy_buffer(frame.data, format="yuv420p")
    else:
        vf = av.VideoFrame.from_ndarray(frame.data, format="yuv420p")
    vf.pts = pts
    vf.time_base = time_base
    return vf
