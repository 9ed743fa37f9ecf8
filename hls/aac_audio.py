"""Audio for the segment encoder: planar float32 samples in, AAC packets out.

AAC takes fixed 1024-sample frames, so samples are buffered until a frame is
full; the stream's last frame is padded with silence. Frame timestamps are
sample counts, so audio never drifts from the video's frame clock.
"""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
from av.audio.stream import AudioStream
from av.packet import Packet
from av.stream import Stream

from effects.frame import AudioFormat
from hls.encoder_streams import channel_layout
from hls.errors import EncoderError

__all__ = ["AUDIO_FRAME_SIZE", "AacAudio"]

AUDIO_FRAME_SIZE = 1024
"""AAC frame length in samples; audio frame timestamps are sample counts."""


class AacAudio:
    """Buffers one stream's samples and encodes them in whole AAC frames.

    Args:
        stream: The AAC stream (its codec context does the encoding).
        audio: Sample rate and channel count of the input.
        origin: Sample index of the first sample pushed (a chunk starts
            part-way; a multiple of :data:`AUDIO_FRAME_SIZE` keeps every
            chunk on the one frame grid).
    """

    def __init__(self, stream: AudioStream, audio: AudioFormat, origin: int = 0) -> None:
        self._stream = stream
        self._audio = audio
        self._chunks: list[np.ndarray] = []
        self._buffered = 0
        self._layout = channel_layout(audio.channels)
        self._time_base = Fraction(1, audio.sample_rate)
        self.sent = origin
        """Samples handed to the AAC encoder (counted from sample 0 of the stream)."""
        self.pushed = origin
        """Samples received (counted from sample 0 of the stream)."""

    def push(self, samples: np.ndarray) -> list[Packet[Stream]]:
        """Buffer float32 planar ``(channels, n)`` samples; return packets of full frames.

        Raises:
            EncoderError: Wrong shape, or the encoder failed.
        """
        if samples.ndim != 2 or samples.shape[0] != self._audio.channels:
            raise EncoderError(
                f"audio must be (channels={self._audio.channels}, n), got shape {samples.shape}"
            )
        if samples.shape[1] == 0:
            return []
        self._chunks.append(np.asarray(samples, dtype=np.float32))
        self._buffered += samples.shape[1]
        self.pushed += samples.shape[1]
        if self._buffered >= AUDIO_FRAME_SIZE:
            return self.encode(final=False)
        return []

    def encode(self, final: bool) -> list[Packet[Stream]]:
        """Encode every full frame buffered; with ``final``, pad the rest and drain.

        Raises:
            EncoderError: The encoder failed.
        """
        channels = self._audio.channels
        if self._chunks:
            buf = (
                self._chunks[0] if len(self._chunks) == 1 else np.concatenate(self._chunks, axis=1)
            )
        else:
            buf = np.zeros((channels, 0), np.float32)
        usable = buf.shape[1] - buf.shape[1] % AUDIO_FRAME_SIZE
        if final and usable < buf.shape[1]:
            pad = AUDIO_FRAME_SIZE - buf.shape[1] % AUDIO_FRAME_SIZE
            buf = np.concatenate([buf, np.zeros((channels, pad), np.float32)], axis=1)
            usable = buf.shape[1]
        ctx = self._stream.codec_context
        packets: list[Packet[Stream]] = []
        try:
            for start in range(0, usable, AUDIO_FRAME_SIZE):
                chunk = np.ascontiguousarray(buf[:, start : start + AUDIO_FRAME_SIZE])
                af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=self._layout)
                af.sample_rate = self._audio.sample_rate
                af.pts = self.sent
                af.time_base = self._time_base
                self.sent += AUDIO_FRAME_SIZE
                packets.extend(ctx.encode(af))
            if final:
                packets.extend(ctx.encode(None))
        except av.FFmpegError as exc:
            raise EncoderError(f"audio encode failed at sample {self.sent}: {exc}") from exc
        rest = buf[:, usable:]
        self._chunks = [rest] if rest.shape[1] else []
        self._buffered = rest.shape[1]
        return packets
