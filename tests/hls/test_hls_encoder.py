from __future__ import annotations

import io
import math
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import pytest
from hls_media import make_frames, tone_for_frame

from effects.frame import AudioFormat, VideoFormat, YUVFrame
from hls.encoder import EncodedSegment, SegmentEncoder, segment_start_frame
from hls.errors import EncoderError
from hls.options import HLSOptions


def _encode(
    video: VideoFormat, audio: AudioFormat | None, n: int, **opts
) -> tuple[SegmentEncoder, list[EncodedSegment]]:
    enc = SegmentEncoder(video, audio, HLSOptions(**opts))
    segs: list[EncodedSegment] = []
    for i, f in enumerate(make_frames(video, n)):
        segs += enc.write(f, tone_for_frame(audio, video, i) if audio else None)
    segs += enc.flush()
    return enc, segs


def _demux(data: bytes) -> tuple[list[tuple[bool, float]], list[float]]:
    """(keyframe, pts seconds) of video packets in decode order, and audio pts."""
    video, audio = [], []
    with av.open(io.BytesIO(data), "r") as c:
        for p in c.demux():
            if p.pts is None:
                continue
            t = float(p.pts * p.time_base)
            if p.stream.type == "video":
                video.append((p.is_keyframe, t))
            else:
                audio.append(t)
    return video, audio


def test_segment_start_frames_cover_ntsc_rates() -> None:
    fps = Fraction(30000, 1001)
    starts = [segment_start_frame(k, 2.0, fps) for k in range(6)]
    assert starts == [0, 60, 120, 180, 240, 300]  # ceil(k * 2 * 29.97)
    assert segment_start_frame(1, 2.0, Fraction(25)) == 50


def test_mpegts_segments_start_with_keyframe_and_sum_exactly(
    small_video: VideoFormat, stereo: AudioFormat
) -> None:
    n = 155
    _, segs = _encode(small_video, stereo, n)
    assert [s.index for s in segs] == [0, 1, 2]
    assert [s.frames for s in segs] == [60, 60, 35]
    assert math.isclose(sum(s.duration for s in segs), n / 30, abs_tol=1e-9)
    assert all(s.keyframe and s.extension == ".ts" for s in segs)
    prev_end = None
    for s in segs:
        video, audio = _demux(s.data)
        assert video[0][0], f"segment {s.index} does not start with a keyframe"
        assert sum(k for k, _ in video) == 1, "exactly one keyframe per segment"
        assert len(video) == s.frames
        # timestamps continue across segments
        first = min(t for _, t in video)
        if prev_end is not None:
            assert math.isclose(first, prev_end, abs_tol=1e-6)
        prev_end = first + s.duration
        # audio present and in sync: covers the segment's span within one AAC frame
        assert audio, f"segment {s.index} has no audio"
        assert abs(min(audio) - first) <= 1024 / 48000 + 1e-6
        assert abs((max(audio) + 1024 / 48000) - prev_end) <= 2 * 1024 / 48000 + 1e-6


def test_ffprobe_sees_i_frame_first(
    tmp_path: Path, ffprobe: str, small_video: VideoFormat, stereo: AudioFormat
) -> None:
    _, segs = _encode(small_video, stereo, 130)
    for s in segs:
        path = tmp_path / f"{s.index}.ts"
        path.write_bytes(s.data)
        out = subprocess.run(
            [
                ffprobe,
                "-v",
                "error",
                "-select_streams",
                "v",
                "-show_entries",
                "frame=pict_type",
                "-of",
                "csv=p=0",
                str(path),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.split()
        assert out[0].startswith("I"), out[:3]
        assert len(out) == s.frames
        streams = subprocess.run(
            [
                ffprobe,
                "-v",
                "error",
                "-show_entries",
                "stream=codec_name",
                "-of",
                "csv=p=0",
                str(path),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.split()
        assert set(streams) == {"aac", "h264"}


def test_fmp4_init_and_fragments(
    tmp_path: Path, small_video: VideoFormat, stereo: AudioFormat
) -> None:
    enc, segs = _encode(small_video, stereo, 100, container="fmp4")
    assert enc.init_segment is not None and enc.init_segment[4:8] == b"ftyp"
    assert b"moov" in enc.init_segment
    assert [s.frames for s in segs] == [60, 40]
    for s in segs:
        assert s.data[4:8] == b"moof" and s.extension == ".m4s"
        video, audio = _demux(enc.init_segment + s.data)
        assert video[0][0] and len(video) == s.frames and audio


def test_ntsc_rate_and_height_not_multiple_of_4() -> None:
    video = VideoFormat(128, 70, 30000, 1001)  # 70 % 4 != 0 -> from_ndarray path
    _, segs = _encode(video, None, 125)
    assert [s.frames for s in segs] == [60, 60, 5]
    assert math.isclose(sum(s.duration for s in segs), 125 * 1001 / 30000, abs_tol=1e-9)
    video_pkts, audio = _demux(segs[1].data)
    assert video_pkts[0][0] and not audio


def test_bad_input_is_rejected(small_video: VideoFormat, stereo: AudioFormat) -> None:
    enc = SegmentEncoder(small_video, stereo, HLSOptions())
    with pytest.raises(EncoderError, match="192x108"):
        enc.write(YUVFrame.alloc(64, 64))
    with pytest.raises(EncoderError, match="channels=2"):
        enc.push_audio(tone_for_frame(AudioFormat(48000, 1), small_video, 0))
    enc.close()
    with pytest.raises(EncoderError, match="closed"):
        enc.write(make_frames(small_video, 1)[0])
