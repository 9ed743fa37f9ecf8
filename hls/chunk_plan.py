"""Chunks of a stream: runs of whole segments that can be rendered apart.

A chunked render cuts the stream into chunks of ``chunk_segments`` segments.
Each chunk is rendered and encoded on its own (any worker, any order) and the
chunks' segments concatenate into one continuous stream: every segment starts
with a keyframe, timestamps are absolute, and audio is encoded on the one
1024-sample AAC frame grid of the whole stream.

Audio needs a margin on both sides: an AAC packet's window spans two frames
and the encoder primes itself on its first frame, so a chunk's encoder starts
:data:`AUDIO_PREROLL` samples (or more, rounded down to the frame grid)
before the chunk and runs :data:`AUDIO_POSTROLL` samples past its end; the
packets outside ``[chunk start, chunk end)`` (in samples) are dropped, their
neighbours own them. The video frames rendered for those margins are not
encoded. The first chunk keeps the stream's priming packet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from effects.frame import AudioFormat, VideoFormat
from hls.aac_audio import AUDIO_FRAME_SIZE
from hls.errors import HLSError
from hls.options import HLSOptions
from hls.segment_schedule import SegmentSchedule

__all__ = [
    "AUDIO_POSTROLL",
    "AUDIO_PREROLL",
    "ChunkSpan",
    "chunk_count",
    "chunk_span",
    "sample_at",
    "segment_count",
]

AUDIO_PREROLL = 8 * AUDIO_FRAME_SIZE
"""Samples the AAC encoder sees before a chunk's first owned packet (priming, psy state)."""

AUDIO_POSTROLL = 4 * AUDIO_FRAME_SIZE
"""Samples encoded past a chunk's end so its last packets' windows hold real audio."""


@dataclass(frozen=True, slots=True)
class ChunkSpan:
    """Where one chunk lies in the stream.

    Attributes:
        index: Chunk number.
        first_segment: Its first segment.
        end_segment: One past its last segment.
        first_frame: First video frame it encodes (a segment start, a keyframe).
        end_frame: One past the last frame it encodes.
        render_first: First frame to render (earlier than ``first_frame`` by
            the audio pre-roll); the frames before ``first_frame`` only give audio.
        render_end: One past the last frame to render (the audio post-roll).
        audio_origin: Stream sample where the chunk's AAC encoder starts (on the frame grid).
        keep_from: First owned AAC packet timestamp in samples (None: from the stream start).
        keep_until: One past the last owned packet timestamp (None: to the stream end).
    """

    index: int
    first_segment: int
    end_segment: int
    first_frame: int
    end_frame: int
    render_first: int
    render_end: int
    audio_origin: int
    keep_from: int | None
    keep_until: int | None


def sample_at(frame: int, video: VideoFormat, audio: AudioFormat) -> int:
    """First audio sample of ``frame`` (as the interpreter's ``Timing.sample_at``: floor)."""
    return frame * audio.sample_rate * video.fps_den // video.fps_num


def _encoder_sample(frame: int, video: VideoFormat, audio: AudioFormat) -> int:
    """Sample where the segment encoder's audio for ``frame`` begins (its own rounding)."""
    return round(Fraction(frame) / Fraction(video.fps_num, video.fps_den) * audio.sample_rate)


def _frame_at_or_before(sample: int, video: VideoFormat, audio: AudioFormat) -> int:
    """The last frame whose audio starts at or before ``sample``."""
    n = sample * video.fps_num // (audio.sample_rate * video.fps_den)
    while n > 0 and sample_at(n, video, audio) > sample:
        n -= 1
    return n


def _frame_at_or_after(sample: int, video: VideoFormat, audio: AudioFormat) -> int:
    """The first frame whose audio starts at or after ``sample``."""
    n = _frame_at_or_before(sample, video, audio)
    while sample_at(n, video, audio) < sample:
        n += 1
    return n


def segment_count(options: HLSOptions, video: VideoFormat, total_frames: int) -> int:
    """Segments in a stream of ``total_frames`` frames."""
    if total_frames <= 0:
        return 0
    schedule = SegmentSchedule(options, Fraction(video.fps_num, video.fps_den))
    k = 0
    while schedule.start(k + 1) < total_frames:
        k += 1
    return k + 1


def chunk_count(
    options: HLSOptions, video: VideoFormat, total_frames: int, chunk_segments: int
) -> int:
    """Chunks of ``chunk_segments`` segments in a stream of ``total_frames`` frames."""
    if chunk_segments < 1:
        raise HLSError(f"chunk_segments {chunk_segments!r} must be at least 1")
    return math.ceil(segment_count(options, video, total_frames) / chunk_segments)


def chunk_span(
    options: HLSOptions,
    video: VideoFormat,
    audio: AudioFormat | None,
    total_frames: int,
    chunk_segments: int,
    index: int,
) -> ChunkSpan:
    """Chunk ``index`` of a ``total_frames`` stream cut every ``chunk_segments`` segments.

    Raises:
        HLSError: ``index`` is not a chunk of the stream.
    """
    chunks = chunk_count(options, video, total_frames, chunk_segments)
    if not 0 <= index < chunks:
        raise HLSError(f"chunk {index} is outside the stream's {chunks} chunk(s)")
    schedule = SegmentSchedule(options, Fraction(video.fps_num, video.fps_den))
    nseg = segment_count(options, video, total_frames)
    a = index * chunk_segments
    b = min(a + chunk_segments, nseg)
    first, end = schedule.start(a), min(schedule.start(b), total_frames)
    if audio is None:
        return ChunkSpan(index, a, b, first, end, first, end, 0, None, None)
    last = b == nseg
    if index == 0:
        origin, render_first, keep_from = 0, 0, None
    else:
        keep_from = _encoder_sample(first, video, audio)
        origin = max(0, (keep_from - AUDIO_PREROLL) // AUDIO_FRAME_SIZE * AUDIO_FRAME_SIZE)
        render_first = _frame_at_or_before(origin, video, audio)
    if last:
        render_end, keep_until = total_frames, None
    else:
        keep_until = _encoder_sample(end, video, audio)
        render_end = min(
            total_frames, _frame_at_or_after(keep_until + AUDIO_POSTROLL, video, audio) + 1
        )
    return ChunkSpan(
        index, a, b, first, end, render_first, render_end, origin, keep_from, keep_until
    )
