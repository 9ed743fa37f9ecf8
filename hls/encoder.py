"""H.264 + AAC segment encoder that cuts HLS segments itself at keyframes.

One libx264 and one AAC encoder run for the whole stream so rate control and
audio priming are continuous; a keyframe (IDR, closed GOP, scene-cut off) is
forced on the first frame of every segment. Segments are cut on packet
timestamps, never on bytes:

- MPEG-TS: each segment is muxed into its own in-memory ``mpegts`` container
  whose streams are copied from the encoders' parameters, so every segment
  starts with PAT/PMT and a keyframe while timestamps run on across segments.
- fMP4/CMAF: one ``mp4`` muxer (``frag_keyframe+empty_moov+default_base_moof``)
  writes into an in-memory sink; ``ftyp+moov`` is the init segment and each
  ``moof+mdat`` pair (one per keyframe, so one per segment) is a segment.

Timestamps are shifted by about one second so that B-frame DTS and AAC priming
never go negative (muxers would otherwise shift the first segment alone).
Everything here is blocking; callers run it off the event loop.
"""

from __future__ import annotations

import contextlib
import io
import math
import struct
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import numpy as np
from av.video.frame import PictureType

from effects.frame import AudioFormat, VideoFormat, YUVFrame
from hls.codec import add_h264_stream, to_video_frame
from hls.errors import EncoderError
from hls.options import HLSOptions

__all__ = ["AUDIO_FRAME_SIZE", "EncodedSegment", "SegmentEncoder", "segment_start_frame"]

AUDIO_FRAME_SIZE = 1024
"""AAC frame length in samples; audio frame timestamps are sample counts."""


@dataclass(frozen=True, slots=True)
class EncodedSegment:
    """One finished media segment.

    Attributes:
        index: Zero-based segment number.
        data: The complete segment bytes (``.ts`` or fMP4 ``moof+mdat``).
        duration: Exact duration in seconds (frames / fps).
        start_time: Presentation start in seconds from the first frame.
        frames: Video frames in the segment.
        first_frame: Stream index of its first frame (a keyframe).
        keyframe: True if the first video packet is a keyframe.
        extension: File extension to use (``".ts"`` or ``".m4s"``).
    """

    index: int
    data: bytes
    duration: float
    start_time: float
    frames: int
    first_frame: int
    keyframe: bool
    extension: str


def _packet_time(item: tuple[av.Packet, bool]) -> Fraction:
    p = item[0]
    return (p.dts if p.dts is not None else 0) * p.time_base


def segment_start_frame(
    index: int, segment_duration: float, fps: Fraction, first_duration: float | None = None
) -> int:
    """First frame of segment ``index``: the first frame at or after ``index * duration``.

    With ``first_duration`` shorter than ``segment_duration`` (and at least one
    frame), the first segment ends at the first frame at or after
    ``first_duration`` and segment ``k >= 2`` starts where segment ``k - 1``
    would without the extra cut.
    """
    d = Fraction(str(segment_duration))
    if first_duration is not None and index > 0:
        cut = math.ceil(Fraction(str(first_duration)) * fps)
        if 0 < cut < math.ceil(d * fps):
            return cut if index == 1 else math.ceil((index - 1) * d * fps)
    return math.ceil(index * d * fps)


class _BoxSplitter:
    """Collects an fMP4 byte stream and yields complete top-level boxes."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def write(self, data: Any) -> int:
        self._buf += data
        return len(data)

    def boxes(self) -> list[tuple[bytes, bytes]]:
        out: list[tuple[bytes, bytes]] = []
        pos = 0
        buf = self._buf
        while len(buf) - pos >= 8:
            size, kind = struct.unpack_from(">I4s", buf, pos)
            header = 8
            if size == 1:
                if len(buf) - pos < 16:
                    break
                size = struct.unpack_from(">Q", buf, pos + 8)[0]
                header = 16
            if size < header:
                raise EncoderError(f"fMP4 muxer wrote a malformed box {kind!r} of size {size}")
            if len(buf) - pos < size:
                break
            out.append((bytes(kind), bytes(buf[pos : pos + size])))
            pos += size
        del buf[:pos]
        return out


class SegmentEncoder:
    """Encodes yuv420p frames and float32 audio into HLS segments.

    Args:
        video: Output geometry and frame rate.
        audio: Audio format, or ``None`` for a video-only stream.
        options: Codec and segmenting options.

    Feed it with :meth:`write` (or :meth:`push_audio` then :meth:`push_video`)
    and collect the finished segments each call returns; :meth:`flush` ends the
    stream and returns the rest. Not thread-safe: use from one thread.
    """

    def __init__(self, video: VideoFormat, audio: AudioFormat | None, options: HLSOptions) -> None:
        if video.width % 2 or video.height % 2 or video.width <= 0 or video.height <= 0:
            raise EncoderError(
                f"video size must be positive and even, got {video.width}x{video.height}"
            )
        if video.fps_num <= 0 or video.fps_den <= 0:
            raise EncoderError(f"bad frame rate {video.fps_num}/{video.fps_den}")
        if audio is not None and audio.channels not in (1, 2):
            raise EncoderError(f"audio channels must be 1 or 2, got {audio.channels}")
        self.video = video
        self.audio = audio
        self.options = options
        self._fps = Fraction(video.fps_num, video.fps_den)
        self._starts: list[int] = []
        self._fmp4 = options.container == "fmp4"
        self.extension = ".m4s" if self._fmp4 else ".ts"
        self._max_frames = max(self._start(i + 1) - self._start(i) for i in range(64))
        # ~1 s shift keeps B-frame DTS and AAC priming positive.
        self._v_off = math.ceil(self._fps)
        self._a_off = round(self._v_off / self._fps * audio.sample_rate) if audio is not None else 0

        self._sink: _BoxSplitter | None = None
        self._dummy = io.BytesIO()
        if self._fmp4:
            self._sink = _BoxSplitter()
            self._mux = av.open(
                self._sink,
                "w",
                format="mp4",
                # cmaf (negative CTS offsets) + frag_discont: each track's tfdt is
                # its absolute decode time, so tfdt-based players (hls.js, Safari)
                # see video frame 0 and audio sample 0 at the same instant.
                options={
                    "movflags": "frag_keyframe+empty_moov+default_base_moof+cmaf+frag_discont",
                    "use_editlist": "0",
                    "flush_packets": "1",
                },
            )
        else:
            self._mux = av.open(self._dummy, "w", format="mpegts")
        self._vstream = self._add_video_stream(self._mux)
        self._astream = self._add_audio_stream(self._mux) if audio is not None else None
        try:
            self._mux.start_encoding()
        except av.FFmpegError as exc:
            raise EncoderError(f"could not open encoders: {exc}") from exc
        self.init_segment: bytes | None = None
        """fMP4 init segment (``ftyp+moov``); ``None`` for MPEG-TS."""
        self._pending_boxes: list[bytes] = []
        if self._sink is not None:
            self._collect_init()

        self._frame_index = 0
        self._next_cut = self._start(1)
        self._seg_index = 0  # segment receiving frames
        # Packet routing (closed GOPs: decode order never mixes segments).
        self._open_seg = 0
        self._open_video: list[av.Packet] = []
        self._open_key = False
        self._audio_packets: deque[av.Packet] = deque()
        self._closed_meta: deque[tuple[int, int, int, bool]] = deque()
        # Audio accumulation.
        self._audio_chunks: list[np.ndarray] = []
        self._audio_buffered = 0
        self._audio_sent = 0  # samples handed to the AAC encoder
        self._audio_pushed = 0  # samples received
        self._audio_tb = Fraction(1, audio.sample_rate) if audio is not None else None
        self._layout = "mono" if audio is not None and audio.channels == 1 else "stereo"
        self._closed = False
        self._flushed = False

    # -- set-up ---------------------------------------------------------------

    def _start(self, index: int) -> int:
        # Cached: called per frame and per packet, and Fraction arithmetic is slow.
        starts = self._starts
        while len(starts) <= index:
            o = self.options
            starts.append(
                segment_start_frame(
                    len(starts), o.segment_duration, self._fps, o.first_segment_duration
                )
            )
        return starts[index]

    def _add_video_stream(self, container: Any) -> Any:
        opts = self.options
        x264 = f"scenecut=0:keyint={self._max_frames + 1}:min-keyint=1:open-gop=0"
        codec_opts = {"preset": opts.preset, "forced-idr": "1", "x264-params": x264}
        if opts.tune:
            codec_opts["tune"] = opts.tune
        if opts.rc_lookahead is not None:
            codec_opts["rc-lookahead"] = str(opts.rc_lookahead)
        if opts.video_bitrate is None:
            codec_opts["crf"] = str(opts.crf)
        stream = add_h264_stream(container, self.video, codec_opts)
        ctx = stream.codec_context
        ctx.gop_size = self._max_frames + 1
        if opts.threads:
            ctx.thread_count = opts.threads
        if opts.video_bitrate is not None:
            ctx.bit_rate = opts.video_bitrate
        if opts.bframes is not None:
            ctx.max_b_frames = opts.bframes
        return stream

    def _add_audio_stream(self, container: Any) -> Any:
        assert self.audio is not None
        stream = container.add_stream(
            "aac", rate=self.audio.sample_rate, layout=self._layout_name()
        )
        stream.bit_rate = self.options.audio_bitrate
        stream.thread_type = "AUTO"
        return stream

    def _layout_name(self) -> str:
        return "mono" if self.audio is not None and self.audio.channels == 1 else "stereo"

    def _collect_init(self) -> None:
        assert self._sink is not None
        parts = []
        for kind, data in self._sink.boxes():
            if kind in (b"ftyp", b"moov"):
                parts.append(data)
            else:
                self._pending_boxes.append(data)
        if parts:
            self.init_segment = b"".join(parts)
        if self.init_segment is None or (b"moov" not in self.init_segment[:64] and len(parts) < 2):
            # moov not flushed yet; it will be picked up with the first fragment.
            pass

    # -- input ----------------------------------------------------------------

    @property
    def max_segment_duration(self) -> float:
        """Longest possible segment in seconds (for EXT-X-TARGETDURATION)."""
        return float(self._max_frames / self._fps)

    @property
    def frames_written(self) -> int:
        """Video frames accepted so far."""
        return self._frame_index

    def write(self, frame: YUVFrame, audio: np.ndarray | None = None) -> list[EncodedSegment]:
        """Push one frame and the audio that belongs to it; return finished segments.

        With an audio format and ``audio=None`` silence is inserted up to the
        frame's end time so the tracks stay in sync.
        """
        if self.audio is not None:
            if audio is not None:
                self.push_audio(audio)
            else:
                end = round((self._frame_index + 1) / self._fps * self.audio.sample_rate)
                missing = end - self._audio_pushed
                if missing > 0:
                    self.push_audio(np.zeros((self.audio.channels, missing), np.float32))
        return self.push_video(frame)

    def push_audio(self, samples: np.ndarray) -> None:
        """Queue float32 planar ``(channels, n)`` samples; encoded in 1024-sample frames."""
        self._check_open()
        if self.audio is None:
            raise EncoderError("audio pushed to a video-only encoder")
        if samples.ndim != 2 or samples.shape[0] != self.audio.channels:
            raise EncoderError(
                f"audio must be (channels={self.audio.channels}, n), got shape {samples.shape}"
            )
        if samples.shape[1] == 0:
            return
        self._audio_chunks.append(np.asarray(samples, dtype=np.float32))
        self._audio_buffered += samples.shape[1]
        self._audio_pushed += samples.shape[1]
        if self._audio_buffered >= AUDIO_FRAME_SIZE:
            self._encode_audio(final=False)

    def push_video(self, frame: YUVFrame) -> list[EncodedSegment]:
        """Encode one frame (a keyframe if it starts a segment); return finished segments."""
        self._check_open()
        if frame.width != self.video.width or frame.height != self.video.height:
            raise EncoderError(
                f"frame {self._frame_index} is {frame.width}x{frame.height}, "
                f"the stream is {self.video.width}x{self.video.height}"
            )
        index = self._frame_index
        vf = to_video_frame(frame, index, self._vstream.codec_context.time_base)
        if index == self._next_cut:
            self._seg_index += 1
            self._next_cut = self._start(self._seg_index + 1)
        if index == self._start(self._seg_index):
            vf.pict_type = PictureType.I
        self._frame_index += 1
        try:
            packets = self._vstream.codec_context.encode(vf)
        except av.FFmpegError as exc:
            raise EncoderError(f"video encode failed at frame {index}: {exc}") from exc
        return self._route_video(packets)

    def flush(self) -> list[EncodedSegment]:
        """Drain the encoders and return every remaining segment (the stream ends)."""
        self._check_open()
        self._flushed = True
        if self.audio is not None:
            # Pad to the video's end so the last segment carries its audio.
            end = round(self._frame_index / self._fps * self.audio.sample_rate)
            if end > self._audio_pushed:
                self.push_audio(
                    np.zeros((self.audio.channels, end - self._audio_pushed), np.float32)
                )
            self._encode_audio(final=True)
        try:
            packets = self._vstream.codec_context.encode(None)
        except av.FFmpegError as exc:
            raise EncoderError(f"video flush failed: {exc}") from exc
        out = self._route_video(packets)
        if self._fmp4:
            out += self._finish_fmp4()
        elif self._open_video:
            out.append(self._close_ts_segment(self._open_seg, final=True))
        self.close()
        return out

    def close(self) -> None:
        """Release the encoders (idempotent). Unflushed frames are dropped."""
        if self._closed:
            return
        self._closed = True
        # Aborting: nothing useful to report about a dropped tail.
        with contextlib.suppress(av.FFmpegError, OSError, ValueError):
            self._mux.close()

    def _check_open(self) -> None:
        if self._closed or self._flushed:
            raise EncoderError("encoder already flushed or closed")

    # -- audio ------------------------------------------------------------------

    def _encode_audio(self, final: bool) -> None:
        assert self.audio is not None and self._astream is not None
        if self._audio_chunks:
            buf = (
                self._audio_chunks[0]
                if len(self._audio_chunks) == 1
                else np.concatenate(self._audio_chunks, axis=1)
            )
        else:
            buf = np.zeros((self.audio.channels, 0), np.float32)
        usable = buf.shape[1] - buf.shape[1] % AUDIO_FRAME_SIZE
        if final and usable < buf.shape[1]:
            pad = AUDIO_FRAME_SIZE - buf.shape[1] % AUDIO_FRAME_SIZE
            buf = np.concatenate([buf, np.zeros((self.audio.channels, pad), np.float32)], axis=1)
            usable = buf.shape[1]
        ctx = self._astream.codec_context
        packets: list[av.Packet] = []
        try:
            for start in range(0, usable, AUDIO_FRAME_SIZE):
                chunk = np.ascontiguousarray(buf[:, start : start + AUDIO_FRAME_SIZE])
                af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=self._layout)
                af.sample_rate = self.audio.sample_rate
                af.pts = self._audio_sent
                af.time_base = self._audio_tb
                self._audio_sent += AUDIO_FRAME_SIZE
                packets.extend(ctx.encode(af))
            if final:
                packets.extend(ctx.encode(None))
        except av.FFmpegError as exc:
            raise EncoderError(f"audio encode failed at sample {self._audio_sent}: {exc}") from exc
        rest = buf[:, usable:]
        self._audio_chunks = [rest] if rest.shape[1] else []
        self._audio_buffered = rest.shape[1]
        for p in packets:
            self._shift(p, self._a_off)
            if self._fmp4:
                p.stream = self._astream
                self._mux_fmp4(p)
            else:
                self._audio_packets.append(p)

    # -- packet routing -----------------------------------------------------------

    @staticmethod
    def _shift(packet: av.Packet, offset: int) -> None:
        if packet.pts is not None:
            packet.pts += offset
        if packet.dts is not None:
            packet.dts += offset

    def _segment_of(self, frame: int) -> int:
        # Inverse of _start; packets arrive near the open segment, so search from there.
        k = self._open_seg
        while self._start(k + 1) <= frame:
            k += 1
        while k > 0 and self._start(k) > frame:
            k -= 1
        return k

    def _route_video(self, packets: list[av.Packet]) -> list[EncodedSegment]:
        out: list[EncodedSegment] = []
        for p in packets:
            assert p.pts is not None
            seg = self._segment_of(p.pts)
            while seg > self._open_seg:
                if self._fmp4:
                    self._close_fmp4_meta(self._open_seg)
                else:
                    out.append(self._close_ts_segment(self._open_seg, final=False))
                self._open_seg += 1
                self._open_key = False
                self._open_video = []
            if not self._open_video:
                self._open_key = p.is_keyframe
            self._shift(p, self._v_off)
            self._open_video.append(p)
            if self._fmp4:
                p.stream = self._vstream
                self._mux_fmp4(p)
        if self._fmp4:
            out += self._drain_fragments()
        elif self._open_video:
            # Every frame of the open segment is out: close it now rather than
            # when the next segment's keyframe leaves the encoder (a frame later).
            first, end = self._start(self._open_seg), self._start(self._open_seg + 1)
            if self._frame_index >= end and len(self._open_video) == end - first:
                # The stream's last segment (flush) takes the audio tail too.
                last = self._flushed and end == self._frame_index
                out.append(self._close_ts_segment(self._open_seg, final=last))
                self._open_seg += 1
                self._open_key = False
                self._open_video = []
        return out

    def _bounds(self, seg: int, final: bool) -> tuple[int, int]:
        first = self._start(seg)
        end = self._frame_index if final else self._start(seg + 1)
        return first, min(end, self._frame_index)

    def _meta(self, seg: int, first: int, end: int, key: bool, data: bytes) -> EncodedSegment:
        return EncodedSegment(
            index=seg,
            data=data,
            duration=float((end - first) / self._fps),
            start_time=float(first / self._fps),
            frames=end - first,
            first_frame=first,
            keyframe=key,
            extension=self.extension,
        )

    def _close_ts_segment(self, seg: int, final: bool) -> EncodedSegment:
        first, end = self._bounds(seg, final)
        packets: list[tuple[av.Packet, bool]] = [(p, True) for p in self._open_video]
        if self.audio is not None:
            limit = round(end / self._fps * self.audio.sample_rate) + self._a_off
            while self._audio_packets and (final or (self._audio_packets[0].pts or 0) < limit):
                packets.append((self._audio_packets.popleft(), False))
        buf = io.BytesIO()
        try:
            with av.open(buf, "w", format="mpegts") as out:
                vs = out.add_stream_from_template(self._vstream)
                as_ = (
                    out.add_stream_from_template(self._astream)
                    if self._astream is not None
                    else None
                )
                # Interleave by time so the muxer never has to buffer a whole segment.
                packets.sort(key=_packet_time)
                for p, is_video in packets:
                    p.stream = vs if is_video or as_ is None else as_
                    out.mux(p)
        except av.FFmpegError as exc:
            raise EncoderError(f"muxing segment {seg} failed: {exc}") from exc
        return self._meta(seg, first, end, self._open_key, buf.getvalue())

    # -- fMP4 -------------------------------------------------------------------------

    def _mux_fmp4(self, packet: av.Packet) -> None:
        try:
            self._mux.mux(packet)
        except av.FFmpegError as exc:
            raise EncoderError(f"fMP4 mux failed: {exc}") from exc

    def _close_fmp4_meta(self, seg: int) -> None:
        first, end = self._bounds(seg, final=False)
        self._closed_meta.append((seg, first, end, self._open_key))

    def _drain_fragments(self) -> list[EncodedSegment]:
        assert self._sink is not None
        out: list[EncodedSegment] = []
        for kind, data in self._sink.boxes():
            if kind in (b"ftyp", b"moov"):
                self.init_segment = (self.init_segment or b"") + data
                continue
            self._pending_boxes.append(data)
            if kind == b"mdat":
                if not self._closed_meta:
                    raise EncoderError("fMP4 muxer wrote a fragment that starts no segment")
                seg, first, end, key = self._closed_meta.popleft()
                out.append(self._meta(seg, first, end, key, b"".join(self._pending_boxes)))
                self._pending_boxes = []
        return out

    def _finish_fmp4(self) -> list[EncodedSegment]:
        if self._open_video:
            first, end = self._bounds(self._open_seg, final=True)
            self._closed_meta.append((self._open_seg, first, end, self._open_key))
            self._open_video = []
        try:
            self._mux.close()
        except av.FFmpegError as exc:
            raise EncoderError(f"fMP4 trailer failed: {exc}") from exc
        self._closed = True
        out = self._drain_fragments()
        if self._closed_meta:
            raise EncoderError(f"{len(self._closed_meta)} fMP4 segment(s) were never written")
        return out
