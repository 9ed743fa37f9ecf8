"""Low-latency HLS partial segments: fMP4 fragments of a few whole frames each.

With ``HLSOptions.part_duration`` set (fMP4 only), :class:`hls.encoder.SegmentEncoder`
hands its packets to a :class:`PartAssembler` instead of the muxer. Every
``frames_per_part`` video packets (decode order; closed GOPs keep a segment's
packets together) close a part: one ``moof+mdat`` (:mod:`hls.fmp4_fragments`)
with those frames and the AAC frames that start before the part's end. The
first part of a segment starts with its IDR frame and is independent; a
segment's last part may be shorter. A segment is exactly the concatenation
of its parts, so its bytes (and CID) are those of the parts in order.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from fractions import Fraction

from av.packet import Packet
from av.stream import Stream

from hls.errors import EncoderError
from hls.fmp4_fragments import (
    FragmentSample,
    InitTrack,
    TrackRun,
    annexb_to_avcc,
    build_fragment,
    init_tracks,
)

__all__ = ["EncodedPart", "PartAssembler", "frames_per_part"]


def frames_per_part(part_duration: float, fps: Fraction) -> int:
    """Whole frames in a part: ``part_duration`` rounded to frames, at least one."""
    return max(1, round(Fraction(str(part_duration)) * fps))


@dataclass(frozen=True, slots=True)
class EncodedPart:
    """One finished partial segment.

    Attributes:
        segment: Index of its parent segment.
        index: Zero-based position in the parent segment.
        data: ``moof+mdat`` bytes.
        duration: Seconds (frames / fps).
        frames: Video frames in it.
        independent: Starts with an IDR frame (the first part of a segment).
        last: The parent segment's last part.
    """

    segment: int
    index: int
    data: bytes
    duration: float
    frames: int
    independent: bool
    last: bool


@dataclass(frozen=True, slots=True)
class FinishedSegment:
    """A segment whose every part is out: the concatenation of their bytes."""

    index: int
    data: bytes
    keyframe: bool


def _ticks(value: int, time_base: Fraction, timescale: int) -> int:
    return round(value * time_base * timescale)


class PartAssembler:
    """Cuts the encoder's packets into parts and segments (see the module docstring).

    Args:
        init: The init segment (tracks: video first, then audio if any).
        fps: Frame rate.
        frames_per_part: Video frames per part.
        sample_rate: Audio sample rate (``None``: no audio track).
        audio_offset: Samples the audio timestamps are shifted by (the encoder's shift).
    """

    def __init__(
        self,
        init: bytes,
        fps: Fraction,
        frames_per_part: int,
        sample_rate: int | None,
        audio_offset: int,
    ) -> None:
        tracks = init_tracks(init)
        self._video = next((t for t in tracks if t.handler == b"vide"), None)
        self._audio: InitTrack | None = next((t for t in tracks if t.handler == b"soun"), None)
        if self._video is None or (sample_rate is not None) != (self._audio is not None):
            raise EncoderError("the init segment's tracks do not match the stream")
        self._fps = fps
        self._per_part = frames_per_part
        self._sample_rate = sample_rate
        self._audio_offset = audio_offset
        self._sequence = 0
        self._segment = 0
        self._first_frame = 0
        # The muxer (frag_discont) starts the video decode timeline at the first
        # packet's presentation time; the same here, so timings match its output.
        self._video_shift: int | None = None
        self._taken = 0  # video frames of the open segment in finished parts
        self._part_index = 0
        self._key = False
        self._parts_data: list[bytes] = []
        self._video_packets: list[Packet[Stream]] = []
        self._audio_packets: deque[Packet[Stream]] = deque()
        self._done: list[EncodedPart] = []

    @property
    def part_target(self) -> float:
        """Seconds of a full part (EXT-X-PART-INF PART-TARGET)."""
        return float(self._per_part / self._fps)

    def take_parts(self) -> list[EncodedPart]:
        """The parts finished since the last call, in stream order."""
        out, self._done = self._done, []
        return out

    def audio(self, packet: Packet[Stream]) -> None:
        """Queue an (already shifted) AAC packet for the part it starts in."""
        self._audio_packets.append(packet)

    def video(
        self, packet: Packet[Stream], segment: int, first_frame: int
    ) -> list[FinishedSegment]:
        """Add a (shifted) video packet of ``segment``; return the segment it completes.

        A part is closed when the packet after its last frame arrives (or at
        :meth:`flush`), so the stream's last part also takes the audio tail.

        Args:
            packet: The packet, in decode order.
            segment: Its segment.
            first_frame: The segment's first frame.
        """
        out: list[FinishedSegment] = []
        if segment != self._segment and (self._video_packets or self._parts_data):
            out += self._close(final=False, segment_end=True)
        elif len(self._video_packets) == self._per_part:
            self._close(final=False, segment_end=False)
        if not self._video_packets and not self._parts_data:
            self._segment = segment
            self._key = packet.is_keyframe
            self._first_frame = first_frame
        self._video_packets.append(packet)
        return out

    def flush(self) -> list[FinishedSegment]:
        """End the stream: the open part (with the audio tail) and its segment."""
        if not self._video_packets and not self._parts_data:
            self._audio_packets.clear()  # no frame at all: no segment to carry it
            return []
        return self._close(final=True, segment_end=True)

    def _close(self, *, final: bool, segment_end: bool) -> list[FinishedSegment]:
        """Close the open part; with ``segment_end`` its segment too."""
        if self._video_packets:
            self._emit_part(final=final, last=segment_end)
        elif final and self._audio_packets and self._parts_data:
            raise EncoderError("audio left over after the last part")
        if not segment_end:
            return []
        seg = FinishedSegment(self._segment, b"".join(self._parts_data), self._key)
        self._parts_data = []
        self._taken = 0
        self._part_index = 0
        return [seg]

    def _emit_part(self, *, final: bool, last: bool) -> None:
        assert self._video is not None
        video = self._video_packets
        frames = len(video)
        start = self._first_frame + self._taken
        end = start + frames
        runs = [
            TrackRun(self._video.track_id, self._video_dts(video[0]), self._video_samples(video))
        ]
        if self._audio is not None and self._sample_rate is not None:
            limit = math.ceil(end / self._fps * self._sample_rate) + self._audio_offset
            audio: list[Packet[Stream]] = []
            while self._audio_packets and (final or (self._audio_packets[0].pts or 0) < limit):
                audio.append(self._audio_packets.popleft())
            if audio:
                runs.append(self._audio_run(self._audio, audio))
        self._sequence += 1
        data = build_fragment(self._sequence, runs)
        self._done.append(
            EncodedPart(
                segment=self._segment,
                index=self._part_index,
                data=data,
                duration=float(frames / self._fps),
                frames=frames,
                independent=self._part_index == 0 and self._key,
                last=last,
            )
        )
        self._parts_data.append(data)
        self._part_index += 1
        self._taken += frames
        self._video_packets = []

    def _video_dts(self, packet: Packet[Stream]) -> int:
        assert self._video is not None and packet.dts is not None and packet.time_base is not None
        scale = self._video.timescale
        if self._video_shift is None:
            assert packet.pts is not None
            self._video_shift = _ticks(packet.pts - packet.dts, packet.time_base, scale)
        return _ticks(packet.dts, packet.time_base, scale) + self._video_shift

    def _video_samples(self, packets: list[Packet[Stream]]) -> list[FragmentSample]:
        assert self._video is not None
        scale = self._video.timescale
        samples = []
        for i, p in enumerate(packets):
            assert p.pts is not None and p.dts is not None and p.time_base is not None
            dts = _ticks(p.dts, p.time_base, scale)
            # the next frame's decode time; past the part's end, one frame on (constant rate)
            nxt = packets[i + 1].dts if i + 1 < len(packets) else None
            next_dts = (
                _ticks(nxt, p.time_base, scale)
                if nxt is not None
                else round((p.dts * p.time_base + 1 / self._fps) * scale)
            )
            samples.append(
                FragmentSample(
                    annexb_to_avcc(bytes(p)),
                    next_dts - dts,
                    p.is_keyframe,
                    _ticks(p.pts, p.time_base, scale) - dts,
                )
            )
        return samples

    @staticmethod
    def _audio_run(track: InitTrack, packets: list[Packet[Stream]]) -> TrackRun:
        first = packets[0]
        assert first.dts is not None and first.time_base is not None
        samples = []
        for p in packets:
            assert p.time_base is not None
            duration = _ticks(p.duration or 1024, p.time_base, track.timescale)
            samples.append(FragmentSample(bytes(p), duration, True))
        return TrackRun(
            track.track_id, _ticks(first.dts, first.time_base, track.timescale), samples
        )
