"""Stream set-up for the segment encoder: the muxer, the x264 and AAC streams.

The encoder keeps one muxer for the whole stream. For fMP4 it is the real
muxer (its output is cut into fragments); for MPEG-TS it only hosts the
encoders, and each segment is muxed into a container of its own
(:mod:`hls.ts_segments`).
"""

from __future__ import annotations

import io

import av
from av.audio.stream import AudioStream
from av.codec.context import ThreadType
from av.container import OutputContainer
from av.video.stream import VideoStream

from effects.frame import AudioFormat, VideoFormat
from hls.codec import add_h264_stream
from hls.fmp4_boxes import BoxSplitter
from hls.options import HLSOptions

__all__ = [
    "FMP4_MUXER_OPTIONS",
    "add_aac_stream",
    "add_segment_video_stream",
    "channel_layout",
    "open_segment_muxer",
]

FF_QP2LAMBDA = 118
"""FFmpeg's quality-to-lambda scale (``-q:a 1`` is lambda 118 for the AAC encoder)."""

FMP4_MUXER_OPTIONS = {
    # cmaf (negative CTS offsets) + frag_discont: each track's tfdt is its
    # absolute decode time, so tfdt-based players (hls.js, Safari) see video
    # frame 0 and audio sample 0 at the same instant.
    "movflags": "frag_keyframe+empty_moov+default_base_moof+cmaf+frag_discont",
    "use_editlist": "0",
    "flush_packets": "1",
}
"""``mp4`` muxer options: one ``moof+mdat`` per keyframe, so one per segment."""


def channel_layout(channels: int) -> str:
    """The FFmpeg layout name for 1 or 2 channels."""
    return "mono" if channels == 1 else "stereo"


def open_segment_muxer(sink: BoxSplitter | io.BytesIO) -> OutputContainer:
    """Open the stream's muxer: fMP4 into a :class:`BoxSplitter`, else MPEG-TS into ``sink``."""
    if isinstance(sink, BoxSplitter):
        return av.open(sink, "w", format="mp4", options=FMP4_MUXER_OPTIONS)
    return av.open(sink, "w", format="mpegts")


def add_segment_video_stream(
    container: OutputContainer, video: VideoFormat, options: HLSOptions, max_frames: int
) -> VideoStream:
    """Add the x264 stream: closed GOPs, no scene-cut, IDR only where forced.

    Args:
        container: The stream's muxer.
        video: Size and frame rate.
        options: Preset, tune, rate control, B-frames, threads.
        max_frames: Frames in the longest segment; the GOP may never be longer.
    """
    x264 = f"scenecut=0:keyint={max_frames + 1}:min-keyint=1:open-gop=0"
    codec_opts = {"preset": options.preset, "forced-idr": "1", "x264-params": x264}
    if options.tune:
        codec_opts["tune"] = options.tune
    if options.rc_lookahead is not None:
        codec_opts["rc-lookahead"] = str(options.rc_lookahead)
    if options.video_bitrate is None:
        codec_opts["crf"] = str(options.crf)
        if options.video_maxrate is not None:
            # capped CRF (VBV): quality where it is cheap, never over the rung's rate
            codec_opts["maxrate"] = str(options.video_maxrate)
            codec_opts["bufsize"] = str(2 * options.video_maxrate)
    stream = add_h264_stream(container, video, codec_opts)
    ctx = stream.codec_context
    ctx.gop_size = max_frames + 1
    if options.threads:
        ctx.thread_count = options.threads
    if options.video_bitrate is not None:
        ctx.bit_rate = options.video_bitrate
    if options.bframes is not None:
        ctx.max_b_frames = options.bframes
    return stream


def add_aac_stream(
    container: OutputContainer, audio: AudioFormat, options: HLSOptions
) -> AudioStream:
    """Add the AAC stream at ``options.audio_bitrate`` (or constant ``audio_quality``)."""
    stream = container.add_stream(
        "aac", rate=audio.sample_rate, layout=channel_layout(audio.channels)
    )
    if options.audio_quality is not None:
        stream.codec_context.qscale = True
        stream.codec_context.global_quality = round(FF_QP2LAMBDA * options.audio_quality)
    else:
        stream.bit_rate = options.audio_bitrate
    stream.codec_context.thread_type = ThreadType.AUTO
    return stream
