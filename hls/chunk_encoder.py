"""Encode one chunk of a stream (:mod:`hls.chunk_plan`) into its segments (MPEG-TS or fMP4).

A fresh encoder per chunk with fixed settings: the bytes depend only on the
chunk's frames and audio, never on the worker (x264 runs a fixed number of
threads, ``HLSOptions.threads``, so the core count does not change them) or on
the chunks rendered before. Two settings are required: constant-quality AAC
(see :mod:`hls.chunk_plan`) and no B-frames: with B-frames x264's lookahead
gave different bytes for the same frames from one encode to the next on the
same thread (measured at 160x120 with audio interleaved; ``rc_lookahead=0``
also avoided it), which looks like a read of uninitialised memory. :class:`ChunkSink` is the interpreter's
``FrameSink`` for a chunk: it is fed the chunk's rendered frames
``[render_first, render_end)`` and returns the chunk's segments.

fMP4: a chunk's muxer writes the same init segment (``ftyp+moov``) as any
other chunk's and the single pass's, and absolute ``tfdt`` decode times (the
encoder's timestamps run on from the chunk's first segment); only the
muxer's fragment numbers (``mfhd``) restart at 1, so each segment's is set
to its index + 1, as a single pass numbers them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from effects.frame import AudioFormat, VideoFormat, YUVFrame
from hls.chunk_plan import ChunkSpan, sample_at
from hls.encoder import EncodedSegment, SegmentEncoder
from hls.errors import EncoderError
from hls.options import HLSOptions

__all__ = ["ChunkEncoder", "ChunkResult", "ChunkSink"]


class ChunkEncoder:
    """The segment encoder of one chunk, fed every rendered frame of the chunk.

    Frames before ``span.first_frame`` and from ``span.end_frame`` on give
    only their audio (the AAC pre-roll and post-roll); samples before
    ``span.audio_origin`` are dropped.

    Args:
        video: Stream geometry and rate.
        audio: Stream audio (None: video only).
        options: Encoding options (no B-frames, constant-quality AAC).
        span: The chunk.
    """

    def __init__(
        self, video: VideoFormat, audio: AudioFormat | None, options: HLSOptions, span: ChunkSpan
    ) -> None:
        if options.bframes != 0:
            raise EncoderError(
                "chunked rendering needs bframes=0: with B-frames this x264 build's "
                "lookahead gives different bytes from run to run"
            )
        if audio is not None and options.audio_quality is None:
            raise EncoderError(
                "chunked rendering needs constant-quality AAC (HLSOptions.audio_quality): "
                "an average bit rate carries state across the whole stream"
            )
        self.span = span
        self.video = video
        self.audio = audio
        self._enc = SegmentEncoder(
            video,
            audio,
            options,
            first_segment=span.first_segment,
            audio_origin=span.audio_origin,
            audio_keep=(span.keep_from, span.keep_until) if audio is not None else None,
        )
        self._n = span.render_first
        self._sample = sample_at(span.render_first, video, audio) if audio is not None else 0

    def write(self, frame: YUVFrame, audio: np.ndarray | None) -> list[EncodedSegment]:
        """Take the next rendered frame and its audio; return segments finished."""
        n = self._n
        if n >= self.span.render_end:
            raise EncoderError(f"frame {n} is past the chunk's render end {self.span.render_end}")
        self._n += 1
        if self.audio is not None:
            if audio is None:
                end = sample_at(n + 1, self.video, self.audio)
                audio = np.zeros((self.audio.channels, end - self._sample), np.float32)
            drop = max(0, min(audio.shape[1], self.span.audio_origin - self._sample))
            self._sample += audio.shape[1]
            if drop < audio.shape[1]:
                self._enc.push_audio(audio[:, drop:])
        if self.span.first_frame <= n < self.span.end_frame:
            return _numbered(self._enc.push_video(frame))
        return []

    @property
    def init_segment(self) -> bytes | None:
        """The fMP4 init segment (the same for every chunk); None for MPEG-TS."""
        return self._enc.init_segment

    def flush(self) -> list[EncodedSegment]:
        """End the chunk: the rest of its segments."""
        if self._n != self.span.render_end:
            raise EncoderError(
                f"chunk {self.span.index} got frames up to {self._n}, "
                f"expected {self.span.render_end}"
            )
        return _numbered(self._enc.flush())

    def close(self) -> None:
        """Release the encoder (idempotent)."""
        self._enc.close()


def _set_fragment_numbers(data: bytes, number: int) -> bytes:
    """``data`` (``moof+mdat`` boxes) with every ``moof``'s ``mfhd`` sequence number set."""
    out = bytearray(data)
    pos = 0
    while pos + 8 <= len(out):
        size, kind = struct.unpack_from(">I4s", out, pos)
        if size < 8:
            raise EncoderError(f"malformed fMP4 box {kind!r} of size {size}")
        if kind == b"moof":
            inner = pos + 8
            while inner + 8 <= pos + size:
                child, ckind = struct.unpack_from(">I4s", out, inner)
                if child < 8:
                    raise EncoderError(f"malformed fMP4 box {ckind!r} of size {child}")
                if ckind == b"mfhd":  # size, type, version+flags, sequence_number
                    struct.pack_into(">I", out, inner + 12, number)
                inner += child
        pos += size
    return bytes(out)


def _numbered(segments: list[EncodedSegment]) -> list[EncodedSegment]:
    """fMP4 segments numbered as a single pass numbers them (index + 1); TS as they are."""
    return [
        dataclasses.replace(s, data=_set_fragment_numbers(s.data, s.index + 1))
        if s.data[4:8] in (b"moof", b"styp")
        else s
        for s in segments
    ]


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """A chunk's encoded segments, in order, and the fMP4 init segment (None: MPEG-TS)."""

    span: ChunkSpan
    segments: tuple[EncodedSegment, ...]
    init_segment: bytes | None = None


class ChunkSink:
    """A ``FrameSink`` that encodes one chunk in memory (segments returned by ``finish``).

    Args:
        options: Encoding options.
        span: The chunk; render its frames ``[render_first, render_end)`` into it.
    """

    def __init__(self, options: HLSOptions, span: ChunkSpan) -> None:
        self.options = options
        self.span = span
        self._enc: ChunkEncoder | None = None
        self._segments: list[EncodedSegment] = []

    async def start(
        self,
        video: VideoFormat,
        audio: AudioFormat | None,
        on_playlist_update: Callable[[Any], Awaitable[None]] | None,
    ) -> None:
        """Open the chunk's encoder (the playlist callback is not used: chunks list nothing)."""
        self._enc = ChunkEncoder(video, audio, self.options, self.span)

    def write(self, frame: YUVFrame, audio: np.ndarray | None) -> None:
        """Encode one rendered frame (called from the interpreter's sink thread)."""
        assert self._enc is not None, "start() first"
        self._segments += self._enc.write(frame, audio)

    async def finish(self) -> ChunkResult:
        """Flush the encoder; the chunk's segments in order."""
        assert self._enc is not None, "start() first"
        self._segments += await asyncio.to_thread(self._enc.flush)
        return ChunkResult(self.span, tuple(self._segments), self._enc.init_segment)

    async def abort(self) -> None:
        """Drop the encoder and what it made."""
        if self._enc is not None:
            with contextlib.suppress(EncoderError):
                self._enc.close()
        self._segments = []
