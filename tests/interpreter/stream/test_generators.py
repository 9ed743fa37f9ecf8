"""Generators: determinism, sizes and sample-exact audio."""

from __future__ import annotations

import numpy as np
import pytest

from effects.frame import AudioFormat, VideoFormat, YUVFrame
from interpreter.runtime.base import Stream, Timing
from interpreter.runtime.generators import (
    ClicksAudio,
    ColorVideo,
    GradientVideo,
    NoiseVideo,
    SineAudio,
    TestsrcVideo,
    rgb_to_yuv,
)

T = Timing(VideoFormat(64, 48, 30, 1), AudioFormat(48000, 2))


def _video(stream: Stream) -> YUVFrame:
    """The next frame of a video generator."""
    frame, _ = stream.read(0)
    assert frame is not None
    return frame


def test_noise_is_deterministic_per_seed_and_frame() -> None:
    a, b, c = NoiseVideo(T, 1.0, seed=7), NoiseVideo(T, 1.0, seed=7), NoiseVideo(T, 1.0, seed=8)
    fa = [_video(a) for _ in range(3)]
    fb = [_video(b) for _ in range(3)]
    fc = _video(c)
    assert all(np.array_equal(x.data, y.data) for x, y in zip(fa, fb, strict=True))
    assert not np.array_equal(fa[0].data, fa[1].data)
    assert not np.array_equal(fa[0].data, fc.data)


def test_testsrc_moves_and_repeats() -> None:
    a, b = TestsrcVideo(T, 2.0), TestsrcVideo(T, 2.0)
    assert a.frames == 60
    f0, f1 = a.read(0)[0], a.read(0)[0]
    g0 = b.read(0)[0]
    assert f0 is not None and f1 is not None and g0 is not None
    assert (f0.width, f0.height) == (64, 48)
    assert not np.array_equal(f0.data, f1.data)
    assert np.array_equal(f0.data, g0.data)


def test_color_and_gradient_values() -> None:
    assert rgb_to_yuv((0, 0, 0)) == (16, 128, 128)
    assert rgb_to_yuv((255, 255, 255)) == (235, 128, 128)
    f = ColorVideo(T, 1.0, (255, 0, 0)).read(0)[0]
    assert f is not None and int(f.y[0, 0]) == 81 and int(f.v[0, 0]) == 240
    g = GradientVideo(T, 1.0, (0, 0, 0), (255, 255, 255), 0.0).read(0)[0]
    assert g is not None and int(g.y[0, 0]) == 16 and int(g.y[0, -1]) == 235
    assert not g.data.flags.writeable  # shared frames are read-only


def test_sine_is_continuous_across_reads() -> None:
    s = SineAudio(T, 1.0, frequency=1000.0, amplitude=0.5)
    parts = [s.read(T.samples_for(n))[1] for n in range(30)]
    whole: np.ndarray = np.concatenate([p for p in parts if p is not None], axis=1)
    assert whole.shape == (2, 48000)
    expected = 0.5 * np.sin(2 * np.pi * 1000.0 * np.arange(48000) / 48000)
    np.testing.assert_allclose(whole[0], expected, atol=1e-6)


def test_clicks_land_on_the_beat() -> None:
    s = ClicksAudio(T, 2.0, bpm=120.0)
    _, a = s.read(96000)
    assert a is not None
    loud = np.abs(a[0]) > 0.05
    onsets = [i for i in range(1, len(loud)) if loud[i] and not loud[i - 1]] + (
        [0] if loud[0] else []
    )
    beats = sorted({round(i / 24000) for i in onsets})
    assert beats == [0, 1, 2, 3]  # every 0.5 s
    assert not loud[int(0.1 * 48000) : int(0.45 * 48000)].any()


@pytest.mark.parametrize("fps", [(30, 1), (30000, 1001), (24, 1), (25, 1)])
def test_samples_per_frame_never_drift(fps: tuple[int, int]) -> None:
    t = Timing(VideoFormat(64, 48, *fps), AudioFormat(44100, 2))
    n = 10 * 60 * fps[0] // fps[1]
    assert sum(t.samples_for(k) for k in range(n)) == t.sample_at(n)
    assert t.sample_at(n) == n * 44100 * fps[1] // fps[0]
