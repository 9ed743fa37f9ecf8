"""Low-latency HLS partial segments from the encoder (hls.parts, hls.fmp4_fragments)."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

from effects.frame import AudioFormat, VideoFormat
from hls.encoder import EncodedPart, EncodedSegment, SegmentEncoder
from hls.errors import HLSError
from hls.fmp4_fragments import annexb_to_avcc, init_tracks
from hls.options import HLSOptions
from hls.parts import frames_per_part
from tests.hls.hls_media import make_frames, tone_for_frame

VIDEO = VideoFormat(160, 96, 25, 1)


def _encode(
    audio: AudioFormat | None, frames: int, video: VideoFormat = VIDEO, **opts: float | str
) -> tuple[SegmentEncoder, list[EncodedSegment], list[EncodedPart]]:
    options = HLSOptions(container="fmp4", segment_duration=1.0, **opts)  # type: ignore[arg-type]
    enc = SegmentEncoder(video, audio, options)
    segs: list[EncodedSegment] = []
    parts: list[EncodedPart] = []
    for i, f in enumerate(make_frames(video, frames)):
        segs += enc.write(f, tone_for_frame(audio, video, i) if audio else None)
        parts += enc.take_parts()
    segs += enc.flush()
    parts += enc.take_parts()
    return enc, segs, parts


def _packets(path: Path) -> list[str]:
    """Every packet's stream, pts, dts, size and flags, and a hash of its bytes (ffprobe)."""
    out = subprocess.run(
        [
            "ffprobe", "-v", "error", "-show_entries",
            "packet=stream_index,pts,dts,size,flags", "-show_data_hash", "MD5",
            "-of", "csv=p=0", str(path),
        ],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return sorted(out.splitlines())


def test_frames_per_part_rounds_to_whole_frames() -> None:
    assert frames_per_part(0.32, Fraction(25)) == 8
    assert frames_per_part(0.33, Fraction(30000, 1001)) == 10
    assert frames_per_part(0.01, Fraction(25)) == 1


def test_part_duration_needs_fmp4_and_a_sane_length() -> None:
    with pytest.raises(HLSError, match="fmp4"):
        HLSOptions(part_duration=0.3)
    with pytest.raises(HLSError, match=r"0\.1\.\.2"):
        HLSOptions(container="fmp4", part_duration=5.0)


@pytest.mark.parametrize("with_audio", [True, False])
def test_segments_are_their_parts_and_the_first_part_is_independent(with_audio: bool) -> None:
    audio = AudioFormat(48000, 2) if with_audio else None
    enc, segs, parts = _encode(audio, 60, part_duration=0.32)
    assert enc.part_target == pytest.approx(0.32)
    assert [s.frames for s in segs] == [25, 25, 10]
    for seg in segs:
        own = [p for p in parts if p.segment == seg.index]
        assert b"".join(p.data for p in own) == seg.data
        assert [p.index for p in own] == list(range(len(own)))
        assert sum(p.frames for p in own) == seg.frames
        assert all(p.frames == 8 for p in own[:-1]) and 0 < own[-1].frames <= 8
        assert [p.independent for p in own] == [True] + [False] * (len(own) - 1)
        assert [p.last for p in own] == [False] * (len(own) - 1) + [True]
        assert seg.keyframe
        assert sum(p.duration for p in own) == pytest.approx(seg.duration)


@pytest.mark.parametrize(
    ("video", "rate"), [(VIDEO, 48000), (VideoFormat(160, 96, 30000, 1001), 44100)]
)
def test_parted_stream_holds_the_muxers_packets(
    tmp_path: Path, video: VideoFormat, rate: int
) -> None:
    """Same packets (timestamps, sizes, key flags, bytes) as FFmpeg's own fMP4 muxer writes."""
    audio = AudioFormat(rate, 2)
    plain_enc, plain, _ = _encode(audio, 70, video)
    parted_enc, _, parts = _encode(audio, 70, video, part_duration=0.32)
    assert plain_enc.init_segment == parted_enc.init_segment
    assert plain_enc.init_segment is not None
    a, b = tmp_path / "muxer.mp4", tmp_path / "parts.mp4"
    a.write_bytes(plain_enc.init_segment + b"".join(s.data for s in plain))
    b.write_bytes(plain_enc.init_segment + b"".join(p.data for p in parts))
    assert _packets(a) == _packets(b)
    # each part alone (after the init segment) is readable, the independent ones decode
    first = tmp_path / "part0.mp4"
    first.write_bytes(plain_enc.init_segment + parts[0].data)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(first), "-f", "null", "-"], check=True)


def test_init_tracks_and_annexb_conversion() -> None:
    enc, _, _ = _encode(AudioFormat(48000, 2), 5, part_duration=0.32)
    assert enc.init_segment is not None
    tracks = init_tracks(enc.init_segment)
    assert [(t.handler, t.timescale) for t in tracks] == [(b"vide", 12800), (b"soun", 48000)]
    nal = b"\x00\x00\x00\x01\x65\x88\x00\x00\x01\x06\x05"
    assert annexb_to_avcc(nal) == b"\x00\x00\x00\x02\x65\x88\x00\x00\x00\x02\x06\x05"
    assert annexb_to_avcc(b"\x00\x00\x00\x02\x65\x88") == b"\x00\x00\x00\x02\x65\x88"


def test_an_empty_parted_stream_flushes_to_nothing() -> None:
    enc = SegmentEncoder(
        VIDEO, AudioFormat(48000, 2), HLSOptions(container="fmp4", part_duration=0.32)
    )
    assert enc.flush() == [] and enc.take_parts() == []
