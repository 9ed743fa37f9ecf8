"""Synthetic sources: video test patterns and audio tones, deterministic per frame.

Every generator is a pure function of the frame (or sample) index, so a run
renders the same bytes each time and a SEGMENT of a generator is exact.
Constant frames are shared read-only between reads.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from effects.frame import YUVFrame
from interpreter.runtime.base import Chunk, Stream, Timing
from interpreter.runtime.clock import Clock

__all__ = [
    "AudioGenerator",
    "ClicksAudio",
    "ColorVideo",
    "GradientVideo",
    "NoiseVideo",
    "SineAudio",
    "TestsrcVideo",
    "rgb_to_yuv",
]


def rgb_to_yuv(rgb: Sequence[float]) -> tuple[int, int, int]:
    """BT.601 limited-range Y, Cb, Cr of an 8-bit RGB colour."""
    r, g, b = (float(c) / 255.0 for c in rgb)
    y = 16 + 65.481 * r + 128.553 * g + 24.966 * b
    cb = 128 - 37.797 * r - 74.203 * g + 112.0 * b
    cr = 128 + 112.0 * r - 93.786 * g - 18.214 * b
    y8, cb8, cr8 = (int(min(255, max(0, round(v)))) for v in (y, cb, cr))
    return y8, cb8, cr8


def _solid(width: int, height: int, yuv: tuple[int, int, int]) -> YUVFrame:
    f = YUVFrame.alloc(width, height)
    f.y[:] = yuv[0]
    f.u[:] = yuv[1]
    f.v[:] = yuv[2]
    f.data.flags.writeable = False
    return f


class _VideoGen(Stream):
    has_video = True
    has_audio = False

    def __init__(self, timing: Timing, duration: float | None) -> None:
        self.timing = timing
        self.frames = None if duration is None else timing.frames_for(duration)
        self.n = 0

    def read(self, nsamples: int) -> Chunk:
        f = self.frame(self.n)
        self.n += 1
        return f, None

    def skip(self, clock: Clock, first: int, sizes: Sequence[int]) -> None:
        """Frames are computed from their index: jump."""
        self.n += len(sizes)

    def frame(self, n: int) -> YUVFrame:  # pragma: no cover - abstract
        raise NotImplementedError


class ColorVideo(_VideoGen):
    """A solid colour."""

    def __init__(
        self, timing: Timing, duration: float | None, color: Sequence[float] = (0, 0, 0)
    ) -> None:
        super().__init__(timing, duration)
        self._frame = _solid(timing.video.width, timing.video.height, rgb_to_yuv(color))

    def frame(self, n: int) -> YUVFrame:
        return self._frame


class GradientVideo(_VideoGen):
    """A static two-colour linear gradient at ``angle`` degrees."""

    def __init__(
        self,
        timing: Timing,
        duration: float | None,
        from_color: Sequence[float] = (0, 0, 0),
        to_color: Sequence[float] = (255, 255, 255),
        angle: float = 0.0,
    ) -> None:
        super().__init__(timing, duration)
        w, h = timing.video.width, timing.video.height
        a = math.radians(angle)
        xs, ys = np.meshgrid(np.linspace(-0.5, 0.5, w), np.linspace(-0.5, 0.5, h))
        ramp = xs * math.cos(a) + ys * math.sin(a)
        span = abs(math.cos(a)) * 0.5 + abs(math.sin(a)) * 0.5
        ramp = np.clip((ramp + span) / (2 * span), 0.0, 1.0)
        c0 = np.array(rgb_to_yuv(from_color), dtype=np.float32)
        c1 = np.array(rgb_to_yuv(to_color), dtype=np.float32)
        f = YUVFrame.alloc(w, h)
        f.y[:] = np.round(c0[0] + (c1[0] - c0[0]) * ramp)
        small = ramp[::2, ::2]
        f.u[:] = np.round(c0[1] + (c1[1] - c0[1]) * small)
        f.v[:] = np.round(c0[2] + (c1[2] - c0[2]) * small)
        f.data.flags.writeable = False
        self._frame = f

    def frame(self, n: int) -> YUVFrame:
        return self._frame


class NoiseVideo(_VideoGen):
    """Uniform noise; frame ``n`` depends only on ``(seed, n)``."""

    def __init__(self, timing: Timing, duration: float | None, seed: int = 0) -> None:
        super().__init__(timing, duration)
        self.seed = int(seed)

    def frame(self, n: int) -> YUVFrame:
        rng = np.random.default_rng((self.seed, n))
        w, h = self.timing.video.width, self.timing.video.height
        return YUVFrame.wrap(rng.integers(0, 256, size=(h * 3 // 2, w), dtype=np.uint8))


_BARS = (
    (235, 235, 235),
    (235, 235, 16),
    (16, 235, 235),
    (16, 235, 16),
    (235, 16, 235),
    (235, 16, 16),
    (16, 16, 235),
)


class TestsrcVideo(_VideoGen):
    """Colour bars scrolling one bar width every two seconds, with a moving white box.

    Cheap (one roll of a precomputed pattern) and different on every frame,
    so encoders and players see real motion.
    """

    __test__ = False  # not a pytest class

    def __init__(self, timing: Timing, duration: float | None) -> None:
        super().__init__(timing, duration)
        w, h = timing.video.width, timing.video.height
        bars = YUVFrame.alloc(w, h)
        for i, rgb in enumerate(_BARS):
            x0, x1 = (i * w // len(_BARS)) & ~1, ((i + 1) * w // len(_BARS)) & ~1
            yy, cb, cr = rgb_to_yuv(rgb)
            bars.y[:, x0:x1] = yy
            bars.u[:, x0 // 2 : x1 // 2] = cb
            bars.v[:, x0 // 2 : x1 // 2] = cr
        bars.y[h * 3 // 4 :, :] = np.linspace(16, 235, w, dtype=np.float32).astype(np.uint8)
        self._bars = bars
        self._box = max(2, (min(w, h) // 8) & ~1)

    def frame(self, n: int) -> YUVFrame:
        w, h = self.timing.video.width, self.timing.video.height
        shift = (round(n * (w / len(_BARS)) / (2 * self.timing.fps)) * 2) % w
        f = YUVFrame.alloc(w, h)
        np.copyto(f.y, np.roll(self._bars.y, shift, axis=1))
        np.copyto(f.u, np.roll(self._bars.u, shift // 2, axis=1))
        np.copyto(f.v, np.roll(self._bars.v, shift // 2, axis=1))
        b = self._box
        span_x, span_y = max(1, w - b), max(1, h // 2 - b)
        x = (n * 8) % (2 * span_x)
        x = (x if x < span_x else 2 * span_x - x) & ~1
        y = ((n * 4) % span_y) & ~1
        f.y[y : y + b, x : x + b] = 235
        f.u[y // 2 : (y + b) // 2, x // 2 : (x + b) // 2] = 128
        f.v[y // 2 : (y + b) // 2, x // 2 : (x + b) // 2] = 128
        return f


class AudioGenerator(Stream):
    """Audio computed from the absolute sample index (no drift, exact segments)."""

    has_video = False
    has_audio = True

    def __init__(self, timing: Timing, duration: float | None) -> None:
        if timing.audio is None:
            raise ValueError("audio generator without an audio format")
        self.timing = timing
        self.rate = timing.audio.sample_rate
        self.channels = timing.audio.channels
        self.frames = None if duration is None else timing.frames_for(duration)
        self.pos = 0

    def read(self, nsamples: int) -> Chunk:
        idx = np.arange(self.pos, self.pos + nsamples, dtype=np.int64)
        self.pos += nsamples
        mono = self.samples(idx).astype(np.float32)
        return None, np.ascontiguousarray(np.broadcast_to(mono, (self.channels, nsamples)))

    def skip(self, clock: Clock, first: int, sizes: Sequence[int]) -> None:
        """Samples are computed from their index: jump."""
        self.pos += sum(sizes)

    def samples(self, idx: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


class SineAudio(AudioGenerator):
    """A sine tone."""

    def __init__(
        self,
        timing: Timing,
        duration: float | None,
        frequency: float = 440.0,
        amplitude: float = 0.5,
    ) -> None:
        super().__init__(timing, duration)
        self.frequency = float(frequency)
        self.amplitude = float(amplitude)

    def samples(self, idx: np.ndarray) -> np.ndarray:
        # phase from the integer index modulo the period keeps float error bounded
        return self.amplitude * np.sin(2 * np.pi * self.frequency * (idx / self.rate))


class ClicksAudio(AudioGenerator):
    """A click (20 ms decaying 1 kHz burst) on every beat at ``bpm``."""

    def __init__(
        self, timing: Timing, duration: float | None, bpm: float = 120.0, amplitude: float = 0.8
    ) -> None:
        super().__init__(timing, duration)
        self.period = self.rate * 60.0 / float(bpm)
        self.amplitude = float(amplitude)

    def samples(self, idx: np.ndarray) -> np.ndarray:
        beat = np.floor(idx / self.period)
        since = (idx - np.ceil(beat * self.period)) / self.rate
        since = np.where(since < 0, since + self.period / self.rate, since)
        env = np.where(since < 0.02, np.exp(-since * 200.0), 0.0)
        return self.amplitude * env * np.sin(2 * np.pi * 1000.0 * since)
