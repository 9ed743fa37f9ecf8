"""H.264 + AAC segment encoder that cuts HLS segments itself at keyframes.

One libx264 and one AAC encoder run for the whole stream so rate control and
audio priming are continuous; a keyframe (IDR, closed GOP, scene-cut off) is
forced on the first frame of every segment. Segments are cut on packet
timestamps, never on bytes:

- MPEG-TS: each segment is muxed into its own in-memory ``mpegts`` container
  (:mod:`hls.ts_segments`), so every segment starts with PAT/PMT and a
  keyframe while timestamps run on across segments.
- fMP4/CMAF: one ``mp4`` muxer (``frag_keyframe+empty_moov+default_base_moof``)
  writes into an in-memory sink (:mod:`hls.fmp4_boxes`); ``ftyp+moov`` is the
  init segment and each ``moof+mdat`` pair (one per keyframe, so one per
  segment) is a segment.

- Low-Latency HLS (``HLSOptions.part_duration``, fMP4 only): the packets go
  to :class:`hls.parts.PartAssembler` instead, which writes a ``moof+mdat`` per
  part of a few frames (:meth:`SegmentEncoder.take_parts`); a segment is its
  parts concatenated. The muxer still writes the init segment.

Where segments are cut is :mod:`hls.segment_schedule`; the streams are set up
in :mod:`hls.encoder_streams` and audio is framed in :mod:`hls.aac_audio`.
Timestamps are shifted by about one second so that B-frame DTS and AAC priming
never go negative (muxers would otherwise shift the first segment alone).
Everything here is blocking; callers run it off the event loop.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections import deque
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np
from av.packet import Packet
from av.stream import Stream
from av.video.frame import PictureType

from effects.frame import AudioFormat, VideoFormat, YUVFrame
from hls.aac_audio import AUDIO_FRAME_SIZE, AacAudio
from hls.codec import to_video_frame
from hls.encoder_streams import add_aac_stream, add_segment_video_stream, open_segment_muxer
from hls.errors import EncoderError
from hls.fmp4_boxes import BoxSplitter
from hls.options import HLSOptions
from hls.parts import EncodedPart, FinishedSegment, PartAssembler, frames_per_part
from hls.segment_schedule import SegmentSchedule, segment_start_frame
from hls.ts_segments import mux_ts_segment

__all__ = [
    "AUDIO_FRAME_SIZE",
    "EncodedPart",
    "EncodedSegment",
    "SegmentEncoder",
    "in_stream_order",
    "segment_start_frame",
]


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


def in_stream_order(
    parts: list[EncodedPart], segments: list[EncodedSegment]
) -> list[EncodedPart | EncodedSegment]:
    """Parts and segments as a reader must see them: a segment right after its last part."""

    def key(item: EncodedPart | EncodedSegment) -> tuple[int, int, int]:
        if isinstance(item, EncodedPart):
            return item.segment, 0, item.index
        return item.index, 1, 0

    return sorted([*parts, *segments], key=key)


class SegmentEncoder:
    """Encodes yuv420p frames and float32 audio into HLS segments.

    Args:
        video: Output geometry and frame rate.
        audio: Audio format, or ``None`` for a video-only stream.
        options: Codec and segmenting options.

        first_segment: The segment the first frame pushed starts (a chunk of a
            longer stream; see :mod:`hls.chunk_encoder`): frame and segment
            numbers and timestamps continue from there.
        audio_origin: Stream sample index of the first audio sample pushed.
        audio_keep: Keep only the AAC packets whose timestamp (in samples,
            before the constant shift) lies in ``[lo, hi)`` (``None`` for an
            open end); ``None`` keeps all. A chunk encodes audio pre-roll and
            post-roll that its neighbours own.

    Feed it with :meth:`write` (or :meth:`push_audio` then :meth:`push_video`)
    and collect the finished segments each call returns; :meth:`flush` ends the
    stream and returns the rest. Not thread-safe: use from one thread.
    """

    def __init__(
        self,
        video: VideoFormat,
        audio: AudioFormat | None,
        options: HLSOptions,
        *,
        first_segment: int = 0,
        audio_origin: int = 0,
        audio_keep: tuple[int | None, int | None] | None = None,
    ) -> None:
        if video.width % 2 or video.height % 2 or video.width <= 0 or video.height <= 0:
            raise EncoderError(
                f"video size must be positive and even, got {video.width}x{video.height}"
            )
        if video.fps_num <= 0 or video.fps_den <= 0:
            raise EncoderError(f"bad frame rate {video.fps_num}/{video.fps_den}")
        if video.sar_num <= 0 or video.sar_den <= 0:
            raise EncoderError(f"bad sample aspect ratio {video.sar_num}:{video.sar_den}")
        if audio is not None and audio.channels not in (1, 2):
            raise EncoderError(f"audio channels must be 1 or 2, got {audio.channels}")
        self.video = video
        self.audio = audio
        self.options = options
        self._fps = Fraction(video.fps_num, video.fps_den)
        self._schedule = SegmentSchedule(options, self._fps)
        self._fmp4 = options.container == "fmp4"
        self.extension = ".m4s" if self._fmp4 else ".ts"
        # ~1 s shift keeps B-frame DTS and AAC priming positive.
        self._v_off = math.ceil(self._fps)
        self._a_off = round(self._v_off / self._fps * audio.sample_rate) if audio is not None else 0

        # MPEG-TS: the muxer only hosts the encoders; its output is discarded.
        self._sink = BoxSplitter() if self._fmp4 else None
        self._dummy = io.BytesIO()
        self._mux = open_segment_muxer(self._sink if self._sink is not None else self._dummy)
        self._vstream = add_segment_video_stream(
            self._mux, video, options, self._schedule.max_frames
        )
        self._astream = add_aac_stream(self._mux, audio, options) if audio is not None else None
        try:
            self._mux.start_encoding()
        except av.FFmpegError as exc:
            raise EncoderError(f"could not open encoders: {exc}") from exc
        self._aac = (
            AacAudio(self._astream, audio, audio_origin)
            if self._astream is not None and audio is not None
            else None
        )
        self.init_segment: bytes | None = None
        """fMP4 init segment (``ftyp+moov``); ``None`` for MPEG-TS."""
        self._pending_boxes: list[bytes] = []
        if self._sink is not None:
            self._collect_init(self._sink)
        # Low-latency HLS: packets go to the part assembler instead of the muxer.
        self._parts: PartAssembler | None = None
        if self._fmp4 and options.part_duration:
            if self.init_segment is None:
                raise EncoderError("the fMP4 muxer wrote no init segment before the first frame")
            self._parts = PartAssembler(
                self.init_segment,
                self._fps,
                frames_per_part(options.part_duration, self._fps),
                audio.sample_rate if audio is not None else None,
                self._a_off,
            )

        self._frame_index = self._schedule.start(first_segment)
        self._next_cut = self._schedule.start(first_segment + 1)
        self._seg_index = first_segment  # segment receiving frames
        self._audio_keep = audio_keep
        # Packet routing (closed GOPs: decode order never mixes segments).
        self._open_seg = first_segment
        self._open_video: list[Packet[Stream]] = []
        self._open_key = False
        self._audio_packets: deque[Packet[Stream]] = deque()
        self._closed_meta: deque[tuple[int, int, int, bool]] = deque()
        self._closed = False
        self._flushed = False

    def _collect_init(self, sink: BoxSplitter) -> None:
        # If moov is not flushed yet it is picked up with the first fragment.
        parts = []
        for kind, data in sink.boxes():
            if kind in (b"ftyp", b"moov"):
                parts.append(data)
            else:
                self._pending_boxes.append(data)
        if parts:
            self.init_segment = b"".join(parts)

    # -- input ----------------------------------------------------------------

    @property
    def max_segment_duration(self) -> float:
        """Longest possible segment in seconds (for EXT-X-TARGETDURATION)."""
        return float(self._schedule.max_frames / self._fps)

    @property
    def part_target(self) -> float | None:
        """Seconds of a full partial segment; ``None`` without parts."""
        return None if self._parts is None else self._parts.part_target

    def take_parts(self) -> list[EncodedPart]:
        """Partial segments finished since the last call (before the segments they make)."""
        return [] if self._parts is None else self._parts.take_parts()

    @property
    def frames_written(self) -> int:
        """Video frames accepted so far."""
        return self._frame_index

    def write(self, frame: YUVFrame, audio: np.ndarray | None = None) -> list[EncodedSegment]:
        """Push one frame and the audio that belongs to it; return finished segments.

        With an audio format and ``audio=None`` silence is inserted up to the
        frame's end time so the tracks stay in sync.
        """
        if self.audio is not None and self._aac is not None:
            if audio is not None:
                self.push_audio(audio)
            else:
                end = round((self._frame_index + 1) / self._fps * self.audio.sample_rate)
                missing = end - self._aac.pushed
                if missing > 0:
                    self.push_audio(np.zeros((self.audio.channels, missing), np.float32))
        return self.push_video(frame)

    def push_audio(self, samples: np.ndarray) -> None:
        """Queue float32 planar ``(channels, n)`` samples; encoded in 1024-sample frames."""
        self._check_open()
        if self._aac is None:
            raise EncoderError("audio pushed to a video-only encoder")
        self._route_audio(self._aac.push(samples))

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
            self._next_cut = self._schedule.start(self._seg_index + 1)
        if index == self._schedule.start(self._seg_index):
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
        if self.audio is not None and self._aac is not None:
            # Pad to the video's end so the last segment carries its audio.
            end = round(self._frame_index / self._fps * self.audio.sample_rate)
            if end > self._aac.pushed:
                self.push_audio(np.zeros((self.audio.channels, end - self._aac.pushed), np.float32))
            self._route_audio(self._aac.encode(final=True))
        try:
            packets = self._vstream.codec_context.encode(None)
        except av.FFmpegError as exc:
            raise EncoderError(f"video flush failed: {exc}") from exc
        out = self._route_video(packets)
        if self._parts is not None:
            out += [self._part_built(d, final=True) for d in self._parts.flush()]
        elif self._fmp4:
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

    # -- packet routing -----------------------------------------------------------

    @staticmethod
    def _shift(packet: Packet[Stream], offset: int) -> None:
        if packet.pts is not None:
            packet.pts += offset
        if packet.dts is not None:
            packet.dts += offset

    def _kept(self, packet: Packet[Stream]) -> bool:
        if self._audio_keep is None or packet.pts is None:
            return True
        lo, hi = self._audio_keep
        return (lo is None or packet.pts >= lo) and (hi is None or packet.pts < hi)

    def _route_audio(self, packets: list[Packet[Stream]]) -> None:
        for p in packets:
            if not self._kept(p):
                continue
            self._shift(p, self._a_off)
            if self._parts is not None:
                self._parts.audio(p)
            elif self._astream is not None and self._fmp4:
                p.stream = self._astream
                self._mux_fmp4(p)
            else:
                self._audio_packets.append(p)

    def _route_video(self, packets: list[Packet[Stream]]) -> list[EncodedSegment]:
        out: list[EncodedSegment] = []
        for p in packets:
            assert p.pts is not None
            seg = self._schedule.segment_of(p.pts, near=self._open_seg)
            if self._parts is not None:
                self._shift(p, self._v_off)
                done = self._parts.video(p, seg, self._schedule.start(seg))
                out += [self._part_built(d, final=False) for d in done]
                self._open_seg = seg
                continue
            while seg > self._open_seg:
                if self._fmp4:
                    self._close_fmp4_meta(self._open_seg)
                else:
                    out.append(self._close_ts_segment(self._open_seg, final=False))
                self._next_open_segment()
            if not self._open_video:
                self._open_key = p.is_keyframe
            self._shift(p, self._v_off)
            self._open_video.append(p)
            if self._fmp4:
                p.stream = self._vstream
                self._mux_fmp4(p)
        if self._fmp4:
            if self._parts is None:
                out += self._drain_fragments()
        elif self._open_video:
            out += self._close_complete_ts_segment()
        return out

    def _next_open_segment(self) -> None:
        self._open_seg += 1
        self._open_key = False
        self._open_video = []

    def _close_complete_ts_segment(self) -> list[EncodedSegment]:
        # Every frame of the open segment is out: close it now rather than
        # when the next segment's keyframe leaves the encoder (a frame later).
        first, end = self._schedule.start(self._open_seg), self._schedule.start(self._open_seg + 1)
        if self._frame_index < end or len(self._open_video) != end - first:
            return []
        # The stream's last segment (flush) takes the audio tail too.
        last = self._flushed and end == self._frame_index
        segment = self._close_ts_segment(self._open_seg, final=last)
        self._next_open_segment()
        return [segment]

    def _bounds(self, seg: int, final: bool) -> tuple[int, int]:
        first = self._schedule.start(seg)
        end = self._frame_index if final else self._schedule.start(seg + 1)
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
        audio: list[Packet[Stream]] = []
        if self.audio is not None:
            limit = round(end / self._fps * self.audio.sample_rate) + self._a_off
            while self._audio_packets and (final or (self._audio_packets[0].pts or 0) < limit):
                audio.append(self._audio_packets.popleft())
        data = mux_ts_segment(seg, self._open_video, audio, self._vstream, self._astream)
        return self._meta(seg, first, end, self._open_key, data)

    # -- fMP4 -------------------------------------------------------------------------

    def _part_built(self, done: FinishedSegment, final: bool) -> EncodedSegment:
        first, end = self._bounds(done.index, final)
        return self._meta(done.index, first, end, done.keyframe, done.data)

    def _mux_fmp4(self, packet: Packet[Stream]) -> None:
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
