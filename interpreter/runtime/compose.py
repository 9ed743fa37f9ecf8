"""Streams that combine several inputs: SEQUENCE, BLEND / LAYER and MUX."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from effects.frame import YUVFrame
from interpreter.runtime.base import Chunk, Stream, Timing, shortest_frames, silence
from interpreter.runtime.clock import Clock, Value
from interpreter.runtime.errors import StreamError

__all__ = ["BlendStream", "MuxStream", "SequenceStream"]

Region = tuple[slice, slice]


class SequenceStream(Stream):
    """Parts one after another, cut or crossfaded over ``fade`` frames (audio crossfades too).

    Args:
        parts: The streams to play, each with an end.
        timing: Output grid.
        fade: Crossfade length in frames (0: cut); capped at the shortest part.
    """

    def __init__(self, parts: list[Stream], timing: Timing, fade: int) -> None:
        self.parts = parts
        self.timing = timing
        lens = [p.frames or 0 for p in parts]
        self.fade = min([fade, *(n for n in lens)]) if fade else 0
        self.has_video = any(p.has_video for p in parts)
        self.has_audio = any(p.has_audio for p in parts)
        # start frame of each part on the sequence timeline
        self.starts: list[int] = []
        pos = 0
        for n in lens:
            self.starts.append(pos)
            pos += n - self.fade
        self.frames = pos + self.fade
        self.lens = lens
        self.k = 0
        self.channels = timing.audio.channels if timing.audio else 0

    def _read(self, part: int, nsamples: int) -> Chunk:
        f, a = self.parts[part].read(nsamples)
        if a is None and self.has_audio:
            a = silence(self.channels, nsamples)
        return f, a

    def read(self, nsamples: int) -> Chunk:
        """The next frame of the part playing now (a mix of two while they fade)."""
        k = self.k
        self.k += 1
        active = self._active(k)
        if len(active) == 1:
            return self._read(active[0], nsamples)
        i, j = active[0], active[-1]
        fa, aa = self._read(i, nsamples)
        fb, ab = self._read(j, nsamples)
        w = (k - self.starts[j] + 1) / (self.fade + 1)
        frame = _mix(fa, fb, w)
        audio = None if aa is None or ab is None else (aa * (1 - w) + ab * w).astype(np.float32)
        return frame, audio

    def _active(self, k: int) -> list[int]:
        """The parts playing at frame ``k`` (past the end: the last one, holding its last frame)."""
        active = [i for i, s in enumerate(self.starts) if s <= k < s + self.lens[i]]
        return active or [len(self.parts) - 1]

    def skip(self, clock: Clock, first: int, sizes: Sequence[int]) -> None:
        """Each part skips the frames it would have played (its active span)."""
        spans: dict[int, tuple[int, list[int]]] = {}
        for i, n in enumerate(sizes):
            for part in self._active(self.k + i):
                spans.setdefault(part, (first + i, []))[1].append(n)
        for part in sorted(spans):
            start, part_sizes = spans[part]
            self.parts[part].skip(clock, start, part_sizes)
        self.k += len(sizes)


def _mix(a: YUVFrame | None, b: YUVFrame | None, w: float) -> YUVFrame | None:
    """``a`` faded into ``b`` by ``w`` (0..1) in 8-bit fixed point."""
    if a is None or b is None:
        return a if b is None else b
    out = YUVFrame.alloc(a.width, a.height)
    wi = round(w * 256)
    tmp = a.data.astype(np.uint16) * (256 - wi) + b.data.astype(np.uint16) * wi + 128
    np.right_shift(tmp, 8, out=tmp)
    out.data[:] = tmp
    return out


class BlendStream(Stream):
    """BLEND / LAYER: composite inputs over the first with a mode and opacity.

    ``offset`` (LAYER's x/y, pixels, per frame) moves the upper layers; where
    a moved layer does not cover the base, the base shows unchanged.

    Args:
        srcs: The base, then the layers over it; audio comes from the base.
        mode: Luma blend mode (``normal``, ``add``, ``multiply``, ...).
        opacity: Per-frame opacity of the layers (clamped to 0..1).
        offset: Per-frame (x, y) of the layers (None: not moved).
    """

    def __init__(
        self,
        srcs: list[Stream],
        mode: str,
        opacity: Value,
        offset: tuple[Value, Value] | None = None,
    ) -> None:
        self.srcs = srcs
        self.mode = mode
        self.opacity = opacity
        self.offset = offset
        self.has_video = True
        self.has_audio = srcs[0].has_audio
        self.frames = shortest_frames(srcs)

    def read(self, nsamples: int) -> Chunk:
        """The next base frame with this frame's layers over it."""
        chunks = [s.read(nsamples if i == 0 else 0) for i, s in enumerate(self.srcs)]
        base = chunks[0][0]
        if base is None:
            raise StreamError("blend: the base input has no video")
        op = min(1.0, max(0.0, self.opacity()))
        # chroma is subsampled 2x: keep offsets even so the planes stay aligned
        dx, dy = (
            (0, 0)
            if self.offset is None
            else (round(self.offset[0]()) & ~1, round(self.offset[1]()) & ~1)
        )
        out = base.copy()
        for f, _ in chunks[1:]:
            if f is None:
                continue
            for plane, sub in ((0, 1), (1, 2), (2, 2)):
                dst = (out.y, out.u, out.v)[plane]
                top = (f.y, f.u, f.v)[plane]
                regions = _overlap(dst.shape, top.shape, dx // sub, dy // sub)
                if regions is None:
                    break
                b_reg, t_reg = regions
                lo = dst[b_reg].astype(np.float32)
                hi = top[t_reg].astype(np.float32)
                mixed = _blend_luma(self.mode, lo, hi) if plane == 0 else hi
                dst[b_reg] = np.clip(lo * (1.0 - op) + mixed * op + 0.5, 0, 255)
        return out, chunks[0][1]

    def skip(self, clock: Clock, first: int, sizes: Sequence[int]) -> None:
        """Stateless: the base skips with the audio, the layers without."""
        for i, s in enumerate(self.srcs):
            s.skip(clock, first, sizes if i == 0 else [0] * len(sizes))


def _overlap(
    base: tuple[int, ...], top: tuple[int, ...], dx: int, dy: int
) -> tuple[Region, Region] | None:
    """Slices of ``base`` and ``top`` that overlap with ``top`` moved by (dx, dy)."""
    x0, y0 = max(0, dx), max(0, dy)
    x1, y1 = min(base[1], dx + top[1]), min(base[0], dy + top[0])
    if x1 <= x0 or y1 <= y0:
        return None
    return (slice(y0, y1), slice(x0, x1)), (slice(y0 - dy, y1 - dy), slice(x0 - dx, x1 - dx))


def _blend_luma(m: str, y0: np.ndarray, y1: np.ndarray) -> np.ndarray:
    """Luma ``y1`` blended onto ``y0`` with mode ``m`` (video range, float32)."""
    out: np.ndarray
    if m == "add":
        out = np.minimum(235.0, y0 + y1 - 16.0)
    elif m == "multiply":
        out = 16.0 + (y0 - 16.0) * (y1 - 16.0) / 219.0
    elif m == "screen":
        out = 235.0 - (235.0 - y0) * (235.0 - y1) / 219.0
    elif m == "difference":
        out = 16.0 + np.abs(y0 - y1)
    elif m == "lighten":
        out = np.maximum(y0, y1)
    elif m == "darken":
        out = np.minimum(y0, y1)
    elif m == "overlay":
        n0, n1 = (y0 - 16.0) / 219.0, (y1 - 16.0) / 219.0
        out = 16.0 + 219.0 * np.where(n0 < 0.5, 2 * n0 * n1, 1 - 2 * (1 - n0) * (1 - n1))
    else:
        out = y1
    return out


class MuxStream(Stream):
    """Video of the first input, audio of the second.

    Args:
        video: Stream the frames come from.
        audio: Stream the audio comes from.
        shortest: End with the shorter input (else with the video, or the
            longer input when the video has no end).
    """

    def __init__(self, video: Stream, audio: Stream, shortest: bool) -> None:
        self.video = video
        self.audio = audio
        self.has_video = True
        self.has_audio = audio.has_audio
        counts = [s.frames for s in (video, audio) if s.frames is not None]
        if shortest:
            self.frames = shortest_frames((video, audio))
        else:
            self.frames = (
                video.frames if video.frames is not None else (max(counts) if counts else None)
            )

    def read(self, nsamples: int) -> Chunk:
        """The video's next frame with the audio's next samples."""
        frame, _ = self.video.read(0)
        _, audio = self.audio.read(nsamples)
        return frame, audio

    def skip(self, clock: Clock, first: int, sizes: Sequence[int]) -> None:
        """The video skips without audio, the audio with it."""
        self.video.skip(clock, first, [0] * len(sizes))
        self.audio.skip(clock, first, sizes)
