"""timecode: the stamped band reads back exactly, through x264 and scaling, and only when there."""

from __future__ import annotations

import io
import time
from fractions import Fraction

import av
import numpy as np
import pytest

from effects.catalog import default_registry
from effects.frame import YUVFrame
from effects.kernels.timecode import (
    MODULUS,
    Band,
    crc8,
    encode_bits,
    read_timecode,
    unwrap,
)
from hls.options import HLSOptions
from interpreter import errors as E
from interpreter.loader import load_recipe
from interpreter.validate import validate
from tests.effects.fx_pattern import pattern

pytestmark = pytest.mark.timeout(60)

VALUES = [0, 1, 40, 123_456, MODULUS - 1, 0x0AAAAAAA, 0x05555555]


def _stamp(frame: YUVFrame, **params: object) -> YUVFrame:
    fx = default_registry().get("timecode").factory(frame.width, frame.height)
    out = YUVFrame.alloc(frame.width, frame.height)
    fx.apply([frame], out, dict(params), 0)  # type: ignore[arg-type]
    return out


def _encode_decode(frames: list[YUVFrame], fps: int = 25) -> list[np.ndarray]:
    """Encode with libx264 at the HLS defaults (preset, CRF) into MPEG-TS, decode; the lumas."""
    opts = HLSOptions()
    data = io.BytesIO()
    with av.open(data, "w", format="mpegts") as out:
        st = out.add_stream(
            "libx264", rate=fps, options={"preset": opts.preset, "crf": str(opts.crf)}
        )
        st.width, st.height, st.pix_fmt = frames[0].width, frames[0].height, "yuv420p"
        for i, f in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(f.data, format="yuv420p")
            vf.pts = i
            vf.time_base = Fraction(1, fps)
            out.mux(st.encode(vf))
        out.mux(st.encode(None))
    data.seek(0)
    with av.open(data, "r", format="mpegts") as inp:
        return [f.to_ndarray(format="gray") for f in inp.decode(video=0)]


def test_band_layout_and_crc() -> None:
    bits = encode_bits(0x0ABCDEF)
    assert len(bits) == 40 and bits[:2] == [1, 0] and bits[-2:] == [0, 1]
    value = int("".join(map(str, bits[2:30])), 2)
    assert value == 0x0ABCDEF
    assert int("".join(map(str, bits[30:38])), 2) == crc8(0x0ABCDEF)
    # the CRC detects every single flipped data bit
    for i in range(28):
        assert crc8(0x0ABCDEF ^ (1 << i)) != crc8(0x0ABCDEF)


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("position", ["top", "bottom"])
def test_reads_back_exact_uncompressed(value: int, position: str) -> None:
    frame = pattern(640, 360, 1)
    out = _stamp(frame, clock="stream", time=value / 1000, position=position)
    assert read_timecode(out.y) == value
    assert read_timecode(out.y, position) == value
    # chroma is neutral under the band, the rest of the frame untouched
    band = Band(640, 360)
    r0, r1 = band.rows(position)
    assert (out.u[r0 // 2 : r1 // 2] == 128).all() and (out.v[r0 // 2 : r1 // 2] == 128).all()
    rest = slice(16, 344)
    assert np.array_equal(out.y[rest], frame.y[rest])


def test_stream_clock_rounds_to_milliseconds_and_wraps() -> None:
    frame = pattern(320, 240, 2)
    assert read_timecode(_stamp(frame, time=12.3456).y) == 12_346
    big = 300_000.0  # seconds: past 2**28 ms
    assert read_timecode(_stamp(frame, time=big).y) == round(big * 1000) % MODULUS
    assert unwrap(round(big * 1000) % MODULUS, round(big * 1000) + 5000) == round(big * 1000)


def test_wall_clock_stamps_the_render_time() -> None:
    frame = pattern(640, 360, 3)
    before = round(time.time() * 1000)
    out = _stamp(frame, clock="wall", time=5.0)  # time is ignored for the wall clock
    after = round(time.time() * 1000)
    got = read_timecode(out.y)
    assert got is not None
    assert before <= unwrap(got, before) <= after


@pytest.mark.parametrize(("width", "height"), [(640, 360), (1280, 720), (854, 480)])
def test_survives_x264_at_the_hls_settings(width: int, height: int) -> None:
    rng = np.random.default_rng(5)
    base = [pattern(width, height, s) for s in range(2)]
    values = [int(v) for v in rng.integers(0, MODULUS, 12)]
    frames = []
    for i, v in enumerate(values):
        bg = base[i % 2].copy()
        # noisy content around the band: x264 spends its bits there
        bg.y[:] = np.clip(bg.y.astype(np.int16) + rng.integers(-40, 40, bg.y.shape), 0, 255)
        frames.append(_stamp(bg, time=v / 1000, position="top" if i % 3 else "bottom"))
    decoded = _encode_decode(frames)
    assert [read_timecode(y) for y in decoded] == values


def test_survives_scaling() -> None:
    out = _stamp(pattern(1280, 720, 4), time=987.654)
    src = av.VideoFrame.from_ndarray(out.data, format="yuv420p")
    for w, h in [(640, 360), (960, 540), (427, 240)]:
        scaled = src.reformat(width=w, height=h, format="gray", interpolation="BILINEAR")
        assert read_timecode(scaled.to_ndarray()) == 987_654, (w, h)


def test_no_pattern_reads_none() -> None:
    rng = np.random.default_rng(9)
    planes = [
        pattern(640, 360, 0).y,
        np.full((360, 640), 16, np.uint8),
        np.full((360, 640), 235, np.uint8),
        rng.integers(0, 256, (360, 640), dtype=np.uint8),
        # stripes of the band's own width: guards may match, the CRC does not
        np.tile(np.repeat(np.array([235, 16] * 20, np.uint8), 16), (360, 1)),
        np.zeros((10, 30), np.uint8),  # too narrow for a band
        np.zeros(640, np.uint8),  # not a plane
    ]
    assert [read_timecode(p) for p in planes] == [None] * len(planes)
    # a stamped band with one block flipped is rejected by its CRC
    out = _stamp(pattern(640, 360, 0), time=1.234)
    out.y[:16, 16 * 10 : 16 * 11] = 255 - out.y[:16, 16 * 10 : 16 * 11]
    assert read_timecode(out.y) is None


def test_small_frames_take_the_band() -> None:
    frame = pattern(64, 48, 0)
    out = _stamp(frame, time=1.0)  # 1 px blocks: stamped, too small to read back
    assert out.y.shape == (48, 64) and read_timecode(out.y) is None
    assert read_timecode(_stamp(pattern(80, 48, 0), time=1.0).y) == 1000


def test_registered_with_metadata() -> None:
    spec = default_registry().get("timecode")
    assert spec.category == "utility" and spec.arity == 1 and not spec.fusable
    assert [p.name for p in spec.params] == ["clock", "time", "position"]
    assert spec.param("clock").choices == ("stream", "wall")
    assert spec.param("clock").default == "stream"


RECIPE = """\
name: tc
steps:
  - id: src
    type: SOURCE
    config: {{generator: testsrc, duration: 1, width: 320, height: 240}}
  - id: tc
    type: EFFECT
    inputs: [src]
    config: {{effect: timecode, {params}}}
output: tc
"""


@pytest.mark.parametrize(
    ("params", "at", "cls", "fragment", "hint"),
    [
        ("clock: wal", "wal", E.ParamRangeError, "'wal'", "did you mean 'wall'?"),
        ("time: -1", "-1", E.ParamRangeError, "out of range", "0..1e+09"),
        ("position: left", "left", E.ParamRangeError, "'left'", "top, bottom"),
        ("clok: wall", "clok", E.UnknownParamError, "'clok'", "did you mean 'clock'?"),
        ("clock: t", "t}", E.ParamRangeError, "'t'", "one of stream, wall"),
    ],
)
def test_param_errors_are_positioned(
    params: str, at: str, cls: type, fragment: str, hint: str
) -> None:
    reg = default_registry()
    text = RECIPE.format(params=params)
    with pytest.raises(E.InterpreterError) as ei:
        validate(load_recipe(text, "tc.yaml", reg), reg)
    err = ei.value
    assert type(err) is cls, str(err)
    # the error points at the offending key or value on its line
    assert (err.line, err.column) == (9, text.splitlines()[8].index(at) + 1), str(err)
    assert fragment in err.message and hint in str(err), str(err)


def test_valid_recipe_with_an_expression_for_time() -> None:
    reg = default_registry()
    validate(load_recipe(RECIPE.format(params="clock: wall, time: t + 10"), "tc.yaml", reg), reg)
