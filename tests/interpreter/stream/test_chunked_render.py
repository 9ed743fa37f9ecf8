"""Chunked rendering: a frame range of a recipe, encoded per chunk, concatenates seamlessly.

The recipe has a SEGMENT of a file input (seeked), a temporal effect (echo:
pre-roll), a beat-driven parameter (absolute time) and the file's audio.
Frames are 128x96: x264 is not deterministic on tiny frames (64x48 gives
different bytes from run to run).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import itertools
import os
import struct
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from effects.frame import AudioFormat, VideoFormat, YUVFrame
from hls.chunk_encoder import ChunkResult, ChunkSink
from hls.chunk_plan import ChunkSpan, chunk_count, chunk_span
from hls.errors import EncoderError, HLSError
from hls.options import HLSOptions
from interpreter.loader import load_recipe
from interpreter.sink import FrameSink
from interpreter.stream import OutputShape, StreamInterpreter
from tests.interpreter.stream.stream_media import make_clip
from tests.interpreter.stream.stream_sink import RecordingSink

RECIPE = """
name: chunked
version: '1.0'
steps:
- {id: video, type: SOURCE, config: {input: video}}
- {id: cut, type: SEGMENT, inputs: [video], config: {start: 0.5, duration: 4}}
- {id: beat, type: SOURCE, config: {generator: clicks, duration: 4, bpm: 120}}
- {id: features, type: ANALYZE, inputs: [beat], config: {features: [beats, energy]}}
- {id: trail, type: EFFECT, inputs: [cut], config: {effect: echo, frames: 6}}
- id: pulse
  type: EFFECT
  inputs: [trail, features]
  config: {effect: vignette, amount: 'clamp(0.2 + decay(6), 0, 1)'}
output: pulse
"""
ANALYSIS = {"features": {"beats": [0.5 * i for i in range(8)], "duration": 4.0}}
OPTIONS = HLSOptions(
    segment_duration=0.4, first_segment_duration=None, bframes=0, audio_quality=1.0
)
CHUNK = 2  # segments per chunk: 5 chunks of 20 frames


@pytest.fixture(scope="module")
def wide_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """5 s, 128x96, 25 fps, a 440 Hz stereo tone."""
    return make_clip(
        tmp_path_factory.mktemp("chunks") / "clip.mp4", width=128, height=96, seconds=5
    )


def _interp(
    clip: Path, sink: FrameSink, frame_range: tuple[int, int] | None = None
) -> StreamInterpreter:
    recipe = load_recipe(RECIPE)
    return StreamInterpreter(
        recipe,
        {"video": clip},
        sink,
        analysis=ANALYSIS,
        frame_range=frame_range,
    )


async def _shape(clip: Path) -> OutputShape:
    return await _interp(clip, RecordingSink()).shape()


async def _chunk(clip: Path, shape: OutputShape, index: int, per: int = CHUNK) -> ChunkResult:
    span = chunk_span(OPTIONS, shape.video, shape.audio, shape.frames, per, index)
    result = await _interp(
        clip, ChunkSink(OPTIONS, span), (span.render_first, span.render_end)
    ).run()
    assert isinstance(result, ChunkResult)
    return result


def _packets(data: bytes) -> list[tuple[str, int, int, bool]]:
    with av.open(io.BytesIO(data), "r") as c:
        return [(p.stream.type, p.pts or 0, p.dts or 0, p.is_keyframe) for p in c.demux() if p.size]


def _decoded_audio(data: bytes) -> np.ndarray:
    with av.open(io.BytesIO(data), "r") as c:
        return np.concatenate([f.to_ndarray() for f in c.decode(audio=0)], axis=1)


async def test_a_frame_range_renders_the_frames_of_the_whole_run(wide_clip: Path) -> None:
    full = RecordingSink()
    await _interp(wide_clip, full).run()
    assert len(full.frames) == 100
    audio = np.concatenate(full.samples, axis=1)
    for first, end in ((17, 44), (37, 64), (90, 100)):
        part = RecordingSink()
        await _interp(wide_clip, part, (first, end)).run()
        assert len(part.frames) == end - first
        for i, frame in enumerate(part.frames):  # seek + echo pre-roll + beat at absolute time
            assert np.array_equal(frame.data, full.frames[first + i].data), first + i
        got = np.concatenate(part.samples, axis=1)
        s0 = sum(a.shape[1] for a in full.samples[:first])
        np.testing.assert_allclose(got, audio[:, s0 : s0 + got.shape[1]], atol=1e-5)


async def test_chunks_in_any_order_give_the_same_bytes_and_one_stream(
    wide_clip: Path, tmp_path: Path, ffprobe: str
) -> None:
    shape = await _shape(wide_clip)
    n = chunk_count(OPTIONS, shape.video, shape.frames, CHUNK)
    assert n == 5
    forward = [await _chunk(wide_clip, shape, i) for i in range(n)]
    backward = [await _chunk(wide_clip, shape, i) for i in reversed(range(n))][::-1]
    assert [c.segments for c in forward] == [c.segments for c in backward]
    segments = [s for c in forward for s in c.segments]
    assert [s.index for s in segments] == list(range(10))
    assert all(s.keyframe for s in segments)
    for s in segments:  # every segment starts with a keyframe, on its own
        first_video = next(p for p in _packets(s.data) if p[0] == "video")
        assert first_video[3], s.index
    path = tmp_path / "stream.ts"
    path.write_bytes(b"".join(s.data for s in segments))
    show = "packet=stream_index,pts,dts,flags"
    out = subprocess.run(
        [ffprobe, "-v", "error", "-show_entries", show, "-of", "csv=p=0", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [line.split(",") for line in out.splitlines()]
    video = [int(r[2]) for r in rows if r[0] == "0"]
    audio = sorted(int(r[1]) for r in rows if r[0] == "1")
    assert len(video) == 100  # the exact frame count
    assert set(np.diff(video)) == {3600}  # 90 kHz / 25 fps: no DTS jump or gap
    assert set(np.diff(audio)) == {1920}  # 1024 samples at 48 kHz: no audio gap
    keys = [i for i, r in enumerate(r for r in rows if r[0] == "0") if "K" in r[3]]
    assert keys == [s.first_frame for s in segments]


async def test_audio_across_chunk_seams_equals_the_single_pass(wide_clip: Path) -> None:
    shape = await _shape(wide_clip)
    chunks = [await _chunk(wide_clip, shape, i) for i in range(5)]
    single = await _chunk(wide_clip, shape, 0, per=1000)
    a = _decoded_audio(b"".join(s.data for c in chunks for s in c.segments))
    b = _decoded_audio(b"".join(s.data for s in single.segments))
    assert a.shape == b.shape
    for c in chunks[1:]:
        assert c.span.keep_from is not None
        at = c.span.keep_from + 1024  # the decoder's priming delay
        window = slice(at - 2048, at + 2048)
        err = np.sqrt(np.mean((a[:, window] - b[:, window]).astype(np.float64) ** 2))
        ref = np.sqrt(np.mean(b[:, window].astype(np.float64) ** 2))
        assert err <= ref * 10 ** (-60 / 20), (c.span.index, 20 * np.log10(max(err, 1e-12) / ref))


def test_chunk_spans_tile_the_stream() -> None:
    video, audio = VideoFormat(128, 96, 30000, 1001), AudioFormat(44100, 2)
    total = 1000
    spans = [
        chunk_span(OPTIONS, video, audio, total, 3, i)
        for i in range(40)
        if i < chunk_count(OPTIONS, video, total, 3)
    ]
    assert spans[0].first_frame == 0 and spans[-1].end_frame == total
    assert spans[0].keep_from is None and spans[-1].keep_until is None
    for prev, nxt in itertools.pairwise(spans):
        assert prev.end_frame == nxt.first_frame and prev.end_segment == nxt.first_segment
        assert prev.keep_until == nxt.keep_from
        _check_margins(nxt, video, audio)
    with pytest.raises(HLSError, match="outside"):
        chunk_span(OPTIONS, video, audio, total, 3, len(spans))


def _check_margins(span: ChunkSpan, video: VideoFormat, audio: AudioFormat) -> None:
    from hls.chunk_plan import AUDIO_PREROLL, sample_at

    assert span.render_first <= span.first_frame < span.end_frame <= span.render_end
    assert span.audio_origin % 1024 == 0
    assert span.keep_from is not None and span.keep_from - span.audio_origin >= AUDIO_PREROLL
    assert sample_at(span.render_first, video, audio) <= span.audio_origin


async def test_chunk_encoder_refuses_what_it_cannot_make_seamless() -> None:
    from hls.chunk_encoder import ChunkEncoder

    video, audio = VideoFormat(128, 96, 25, 1), AudioFormat(48000, 2)
    span = chunk_span(OPTIONS, video, audio, 100, 2, 1)
    with pytest.raises(EncoderError, match="audio_quality"):
        ChunkEncoder(video, audio, HLSOptions(bframes=0), span)
    with pytest.raises(EncoderError, match="bframes"):
        ChunkEncoder(video, audio, HLSOptions(audio_quality=1.0), span)
    with pytest.raises(HLSError, match="audio_quality"):
        HLSOptions(audio_quality=50)


_CHUNK_SCRIPT = """
import asyncio, hashlib, os, sys
from pathlib import Path
os.sched_setaffinity(0, set(range(int(sys.argv[2]))))
from tests.interpreter.stream import test_chunked_render as t
async def main():
    clip = Path(sys.argv[1])
    shape = await t._shape(clip)
    result = await t._chunk(clip, shape, 1)
    print(hashlib.sha256(b"".join(s.data for s in result.segments)).hexdigest())
asyncio.run(main())
"""


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs 2 cores")
async def test_a_chunk_has_the_same_bytes_on_one_core_and_on_two(wide_clip: Path) -> None:
    root = Path(__file__).resolve().parents[3]
    shape = await _shape(wide_clip)
    here = await _chunk(wide_clip, shape, 1)
    expected = hashlib.sha256(b"".join(s.data for s in here.segments)).hexdigest()
    for cores in (1, 2):
        out = subprocess.run(
            [sys.executable, "-c", _CHUNK_SCRIPT, str(wide_clip), str(cores)],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        assert out.stdout.split()[-1] == expected, (cores, out.stderr[-2000:])


def _fmp4_fields(segment: bytes) -> list[tuple[str, int]]:
    """``("seq", mfhd sequence)`` and ``("tfdt", base decode time)`` of each fragment."""

    def boxes(data: bytes) -> list[tuple[bytes, bytes]]:
        out, pos = [], 0
        while pos + 8 <= len(data):
            size, kind = struct.unpack_from(">I4s", data, pos)
            out.append((kind, data[pos : pos + size]))
            pos += size
        return out

    fields: list[tuple[str, int]] = []
    for kind, moof in boxes(segment):
        if kind != b"moof":
            continue
        for k2, box in boxes(moof[8:]):
            if k2 == b"mfhd":
                fields.append(("seq", struct.unpack_from(">I", box, 12)[0]))
            for k3, sub in boxes(box[8:]) if k2 == b"traf" else []:
                if k3 == b"tfdt":
                    fmt = ">Q" if sub[8] else ">I"
                    fields.append(("tfdt", struct.unpack_from(fmt, sub, 12)[0]))
    return fields


def test_fmp4_chunks_share_the_init_segment_and_number_fragments_as_one_pass() -> None:
    from hls.chunk_encoder import ChunkEncoder
    from hls.encoder import SegmentEncoder

    video, audio = VideoFormat(128, 96, 25, 1), AudioFormat(48000, 2)
    options = dataclasses.replace(OPTIONS, container="fmp4")
    total = 100

    def frame(n: int) -> YUVFrame:
        return YUVFrame.wrap(np.full((144, 128), n * 7 % 256, np.uint8))

    def sound(n: int) -> np.ndarray:
        t = np.arange(round(n * 1920), round((n + 1) * 1920)) / 48000
        tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        return np.stack([tone, tone])

    single = SegmentEncoder(video, audio, options)
    whole = [s for n in range(total) for s in single.write(frame(n), sound(n))] + single.flush()
    chunked, inits = [], set()
    for i in range(chunk_count(options, video, total, CHUNK)):
        span = chunk_span(options, video, audio, total, CHUNK, i)
        enc = ChunkEncoder(video, audio, options, span)
        for n in range(span.render_first, span.render_end):
            chunked += enc.write(frame(n), sound(n))
        chunked += enc.flush()
        inits.add(enc.init_segment)
    assert inits == {single.init_segment}  # one init segment, the single pass's
    assert [s.index for s in chunked] == [s.index for s in whole]
    for a, b in zip(chunked, whole, strict=True):  # fragment numbers and decode times
        assert _fmp4_fields(a.data) == _fmp4_fields(b.data), a.index
        assert ("seq", a.index + 1) in _fmp4_fields(a.data)
