"""One step read by several consumers: built once, its frames handed to each."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from effects.frame import YUVFrame
from interpreter.runtime.base import Chunk, Stream, Timing, silence

__all__ = ["SharedStream"]


class SharedStream:
    """One step read by several consumers: built once, its frames handed to each.

    Every consumer gets a :meth:`tap` with its own position. Frames (and audio
    samples) are kept from the slowest attached tap to the fastest; a tap more
    than ``max_lag`` frames behind is detached and, when it reads next, gets
    its own copy from ``fresh()`` fast-forwarded to where it was (audio is a
    continuous sample stream, so one read can carry all its samples).

    Args:
        inner: The step's stream, read once for all taps.
        timing: Output grid (frame -> samples, audio channels).
        fresh: Builds a private copy of the step for a detached tap.
        max_lag: Frames kept for a lagging tap before it is detached.
    """

    def __init__(
        self, inner: Stream, timing: Timing, fresh: Callable[[], Stream], max_lag: int
    ) -> None:
        self.inner = inner
        self.timing = timing
        self.fresh = fresh
        self.max_lag = max(1, max_lag)
        self.taps: list[_Tap] = []
        self._frames: list[YUVFrame | None] = []
        self._f0 = 0  # index of _frames[0]
        self._chunks: list[np.ndarray] = []
        self._audio = np.zeros((timing.audio.channels if timing.audio else 0, 0), np.float32)
        self._a0 = 0  # sample index of _audio[:, 0]
        self._made = 0  # frames read from inner
        self._samples = 0  # samples read from inner

    def tap(self) -> Stream:
        """A new consumer, starting at frame 0."""
        t = _Tap(self)
        self.taps.append(t)
        return t

    def _pull(self) -> None:
        ns = self.timing.samples_for(self._made) if self.inner.has_audio else 0
        frame, audio = self.inner.read(ns)
        self._frames.append(frame)
        self._made += 1
        if self.inner.has_audio:
            if audio is None or audio.shape[1] != ns:
                audio = silence(self._audio.shape[0], ns)
            self._chunks.append(audio)
            self._samples += ns
        for t in self.taps:
            if t.attached and t.k < self._made - self.max_lag:
                t.attached = False

    def frame_at(self, k: int) -> YUVFrame | None:
        """Frame ``k`` of the step, reading ahead as far as needed."""
        while self._made <= k:
            self._pull()
        return self._frames[k - self._f0]

    def samples_at(self, p: int, n: int) -> np.ndarray:
        """``n`` audio samples from sample ``p``, reading ahead as far as needed."""
        while self._samples < p + n:
            self._pull()
        if self._chunks:
            self._audio = np.concatenate([self._audio, *self._chunks], axis=1)
            self._chunks.clear()
        i = p - self._a0
        if i >= 0:
            return self._audio[:, i : i + n]
        # the samples were dropped before this tap first asked for audio: silence there
        out = silence(self._audio.shape[0], n)
        got = self._audio[:, : max(0, n + i)]
        out[:, n - got.shape[1] :] = got
        return out

    def trim(self) -> None:
        """Drop what every attached tap has read."""
        live = [t for t in self.taps if t.attached]
        if not live:
            return
        kmin = min(t.k for t in live)
        if kmin > self._f0:
            del self._frames[: kmin - self._f0]
            self._f0 = kmin
        # a tap that has not started may still ask for audio; one that reads frames
        # without audio (a second input of a blend, BEAT_SYNC's video) is deaf
        heard = [t.p for t in live if t.heard or t.k == 0]
        if heard and min(heard) > self._a0 and not self._chunks:
            cut = min(heard) - self._a0
            self._audio = self._audio[:, cut:]
            self._a0 += cut


class _Tap(Stream):
    """One consumer's view of a :class:`SharedStream`."""

    def __init__(self, shared: SharedStream) -> None:
        self.shared = shared
        self.frames = shared.inner.frames
        self.has_video = shared.inner.has_video
        self.has_audio = shared.inner.has_audio
        self.k = 0  # next frame
        self.p = 0  # next audio sample
        self.heard = False  # asked for audio at least once
        self.attached = True
        self.own: Stream | None = None

    def read(self, nsamples: int) -> Chunk:
        if not self.attached:
            return self._read_own(nsamples)
        sh = self.shared
        frame = sh.frame_at(self.k)
        if not self.attached:  # the pull above left this tap behind
            return self._read_own(nsamples)
        self.k += 1
        audio = None
        if self.has_audio:
            audio = sh.samples_at(self.p, nsamples)
            self.p += nsamples
            self.heard = self.heard or nsamples > 0
        sh.trim()
        return frame, audio

    def _read_own(self, nsamples: int) -> Chunk:
        if self.own is None:
            self.own = self.shared.fresh()
            for j in range(self.k):  # catch up: frames k, audio p
                self.own.read(self.p if j == self.k - 1 else 0)
        return self.own.read(nsamples)
