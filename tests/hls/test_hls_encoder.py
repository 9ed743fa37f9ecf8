from __future__ import annotations

import io
import math
import struct
import subprocess
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from effects.frame import AudioFormat, VideoFormat, YUVFrame
from hls.encoder import EncodedSegment, SegmentEncoder, segment_start_frame
from hls.errors import EncoderError, HLSError
from hls.options import HLSOptions
from tests.hls.hls_media import make_frames, tone_for_frame


def _encode(
    video: VideoFormat, audio: AudioFormat | None, n: int, **opts: Any
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


def test_a_shorter_first_segment_adds_one_cut_and_keeps_the_others() -> None:
    fps = Fraction(30000, 1001)
    starts = [segment_start_frame(k, 2.0, fps, 1.0) for k in range(6)]
    assert starts == [0, 30, 60, 120, 180, 240]
    # not shorter than the segment (or under one frame): no extra cut
    assert [segment_start_frame(k, 2.0, fps, 2.0) for k in range(3)] == [0, 60, 120]
    assert [segment_start_frame(k, 1.0, fps, 1.5) for k in range(3)] == [0, 30, 60]


def test_segments_leave_the_encoder_soon_after_their_last_frame(
    small_video: VideoFormat, stereo: AudioFormat
) -> None:
    """A segment is closed once all its frames are encoded, not when the next
    keyframe comes out; fewer x264 threads keep the encoder delay short."""
    for opts, first, delay in (
        (HLSOptions(threads=1), 30, 12),
        (HLSOptions(), 30, 17),
        (HLSOptions(threads=0, first_segment_duration=None), 60, 20),
    ):
        enc = SegmentEncoder(small_video, stereo, opts)
        seen: list[tuple[int, int]] = []
        for i, f in enumerate(make_frames(small_video, first + 30)):
            seen += [(s.index, i) for s in enc.write(f, tone_for_frame(stereo, small_video, i))]
        enc.close()
        assert seen and seen[0][0] == 0, opts
        assert first <= seen[0][1] <= first - 1 + delay, (opts, seen)


def test_mpegts_segments_start_with_keyframe_and_sum_exactly(
    small_video: VideoFormat, stereo: AudioFormat
) -> None:
    n = 155
    _, segs = _encode(small_video, stereo, n)
    assert [s.index for s in segs] == [0, 1, 2, 3]
    assert [s.frames for s in segs] == [30, 30, 60, 35]  # 1 s first segment by default
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


def test_a_stream_ending_on_a_segment_boundary_keeps_its_audio(
    small_video: VideoFormat, stereo: AudioFormat
) -> None:
    _, segs = _encode(small_video, stereo, 60)  # 1 s + 1 s: the last closes on its count
    assert [s.frames for s in segs] == [30, 30]
    samples = 0
    with av.open(io.BytesIO(b"".join(s.data for s in segs)), "r") as c:
        for f in c.decode(audio=0):
            samples += f.samples
    assert samples >= 2 * 48000  # every pushed sample reached a segment


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
    assert [s.frames for s in segs] == [30, 30, 40]
    for s in segs:
        assert s.data[4:8] == b"moof" and s.extension == ".m4s"
        video, audio = _demux(enc.init_segment + s.data)
        assert video[0][0] and len(video) == s.frames and audio


def test_ntsc_rate_and_height_not_multiple_of_4() -> None:
    video = VideoFormat(128, 70, 30000, 1001)  # 70 % 4 != 0 -> from_ndarray path
    _, segs = _encode(video, None, 125, first_segment_duration=None)
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
    with pytest.raises(EncoderError, match="sample aspect ratio 0:1"):
        SegmentEncoder(VideoFormat(64, 48, 25, 1, 0, 1), None, HLSOptions())


def _boxes(data: bytes, pos: int, end: int) -> Iterator[tuple[str, int, int]]:
    while pos < end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        yield kind.decode(), pos, size
        if kind in (b"moov", b"trak", b"mdia", b"moof", b"traf"):
            yield from _boxes(data, pos + 8, pos + size)
        pos += size


def _timescales(init: bytes) -> list[int]:
    out = []
    for kind, pos, _ in _boxes(init, 0, len(init)):
        if kind == "mdhd":
            version = init[pos + 8]
            out.append(struct.unpack_from(">I", init, pos + 12 + (16 if version else 8))[0])
    return out


def _tfdts(fragment: bytes) -> list[int]:
    out = []
    for kind, pos, _ in _boxes(fragment, 0, len(fragment)):
        if kind == "tfdt":
            fmt = ">Q" if fragment[pos + 8] == 1 else ">I"
            out.append(struct.unpack_from(fmt, fragment, pos + 12)[0])
    return out


def test_fmp4_tfdt_is_absolute_and_in_sync(small_video: VideoFormat, stereo: AudioFormat) -> None:
    """What hls.js reads: video tfdt = segment start, audio tfdt + AAC priming = same instant."""
    enc, segs = _encode(small_video, stereo, 150, container="fmp4")
    assert enc.init_segment is not None
    v_scale, a_scale = _timescales(enc.init_segment)
    assert a_scale == 48000
    base_v = _tfdts(segs[0].data)[0] / v_scale
    for s in segs:
        v_tfdt, a_tfdt = _tfdts(s.data)
        assert math.isclose(v_tfdt / v_scale - base_v, s.start_time, abs_tol=1e-6)
        if s.index == 0:
            # first audio sample plays after the 1024-sample priming frame
            assert math.isclose((a_tfdt + 1024) / a_scale, base_v, abs_tol=1 / 48000)


def test_mpegts_flash_and_click_decode_at_the_same_time() -> None:
    """A white frame and a click pushed together come out of the decoder together."""
    video, audio = VideoFormat(192, 108, 30, 1), AudioFormat(48000, 2)
    enc = SegmentEncoder(video, audio, HLSOptions())
    data = b""
    for i in range(120):
        f = YUVFrame.alloc(192, 108)
        f.data[:108] = 235 if i == 75 else 16
        f.data[108:] = 128
        s = np.zeros((2, 1600), np.float32)
        if i == 75:
            s[:, :480] = 0.9
        data += b"".join(x.data for x in enc.write(f, s))
    data += b"".join(x.data for x in enc.flush())
    with av.open(io.BytesIO(data), "r") as c:
        flash = next(fr.time for fr in c.decode(video=0) if fr.to_ndarray()[:108].mean() > 128)
    with av.open(io.BytesIO(data), "r") as c:
        for fr in c.decode(audio=0):
            hits = np.nonzero(np.abs(fr.to_ndarray()[0]) > 0.3)[0]
            if len(hits):
                click = fr.time + hits[0] / 48000
                break
    assert flash is not None
    assert abs(click - flash) < 0.005, (flash, click)


@pytest.mark.parametrize(
    ("field", "value"),
    [("first_segment_duration", 0.0), ("first_segment_duration", 61.0), ("threads", -1)],
)
def test_bad_options_name_the_field(field: str, value: float) -> None:
    kwargs: dict[str, Any] = {field: value}
    with pytest.raises(HLSError, match=f"HLSOptions.{field}"):
        HLSOptions(**kwargs)


def _video_bits_per_second(video: VideoFormat, frames: list[YUVFrame], **opts: Any) -> float:
    enc = SegmentEncoder(video, None, HLSOptions(first_segment_duration=None, **opts))
    segs: list[EncodedSegment] = []
    for f in frames:
        segs += enc.write(f, None)
    segs += enc.flush()
    return 8 * sum(len(s.data) for s in segs) / sum(s.duration for s in segs)


def test_capped_crf_spends_what_the_picture_needs_up_to_the_cap() -> None:
    video = VideoFormat(320, 240, 25, 1)
    rng = np.random.default_rng(7)
    noise = []
    for _ in range(100):
        f = YUVFrame.alloc(320, 240)
        f.data[:] = rng.integers(0, 256, f.data.shape, dtype=np.uint8)
        noise.append(f)
    cap = 400_000
    free = _video_bits_per_second(video, noise, crf=23)
    capped = _video_bits_per_second(video, noise, crf=23, video_maxrate=cap)
    assert free > 4 * cap  # noise at CRF 23 needs far more than the cap...
    assert capped < 1.5 * cap  # ...and the VBV cap holds it near the cap (TS overhead on top)
    # a cheap picture stays under the cap: CRF decides, not the cap
    easy = make_frames(video, 100)
    assert _video_bits_per_second(video, easy, crf=23, video_maxrate=cap) < 0.5 * cap
