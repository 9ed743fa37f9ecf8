"""MPEG-TS segments: each one muxed into a container of its own.

Streams are copied from the long-lived encoders' parameters, so every segment
starts with PAT/PMT and a keyframe while timestamps run on across segments.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from fractions import Fraction

import av
from av.audio.stream import AudioStream
from av.packet import Packet
from av.stream import Stream
from av.video.stream import VideoStream

from hls.errors import EncoderError

__all__ = ["mux_ts_segment"]


def _decode_time(item: tuple[Packet[Stream], bool]) -> Fraction:
    p = item[0]
    return (p.dts if p.dts is not None else 0) * p.time_base


def mux_ts_segment(
    index: int,
    video: Sequence[Packet[Stream]],
    audio: Sequence[Packet[Stream]],
    vstream: VideoStream,
    astream: AudioStream | None,
) -> bytes:
    """Mux one segment's packets into a standalone ``.ts``.

    Args:
        index: The segment number (for errors).
        video: Its video packets, in decode order, starting with a keyframe.
        audio: Its audio packets.
        vstream: The video encoder's stream (the template for the segment's).
        astream: The audio encoder's stream, None for video only.

    Raises:
        EncoderError: The muxer failed.
    """
    packets = [(p, True) for p in video] + [(p, False) for p in audio]
    buf = io.BytesIO()
    try:
        with av.open(buf, "w", format="mpegts") as out:
            vs = out.add_stream_from_template(vstream)
            as_ = out.add_stream_from_template(astream) if astream is not None else None
            # Interleave by time so the muxer never has to buffer a whole segment.
            packets.sort(key=_decode_time)
            for p, is_video in packets:
                p.stream = vs if is_video or as_ is None else as_
                out.mux(p)
    except av.FFmpegError as exc:
        raise EncoderError(f"muxing segment {index} failed: {exc}") from exc
    return buf.getvalue()
