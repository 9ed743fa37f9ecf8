"""Streams driven by analysis events: BEAT_SYNC re-times video, MAP slices on beats."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from effects.frame import YUVFrame
from effects.registry import Effect, ParamValue
from interpreter.runtime.base import Chunk, Stream, Timing
from interpreter.runtime.effect_streams import DynParams, clamp_param
from interpreter.runtime.errors import StreamError

__all__ = ["BeatSyncStream", "MapEffect", "MapStream"]

MapEffect = tuple[Effect, Mapping[str, ParamValue], DynParams]
"""MAP's effect: the instance, its constant parameters and its per-frame ones."""


class BeatSyncStream(Stream):
    """Re-time video so that each source segment starts on a beat.

    The source is cut into segments of ``P`` seconds (the median interval of
    ``per`` beats). Segment ``i`` starts on beat ``i * per``. ``stretch``
    time-warps each segment to fill its beat interval exactly; ``cut`` plays
    it at normal speed and jumps to the next segment at the next beat
    (holding its last frame if the interval is longer). The mapping from
    output to source time only moves forward, so the source is read once.

    Args:
        child: The video to re-time.
        timing: Output grid.
        beats: Beat times in seconds (at least two).
        per: Beats per segment.
        mode: ``cut`` or ``stretch``.
        audio: Stream whose audio plays under the video (None: silent).
    """

    has_video = True

    def __init__(
        self,
        child: Stream,
        timing: Timing,
        beats: list[float],
        per: int,
        mode: str,
        audio: Stream | None = None,
    ) -> None:
        self.child = child
        self.audio = audio
        self.has_audio = audio is not None and audio.has_audio
        self.timing = timing
        marks = beats[::per]
        if marks[0] > 1e-6:
            marks = [0.0, *marks]
        self.marks = marks
        self.period = max(
            float(np.median(np.diff(marks))) if len(marks) > 1 else 0.5, 1.0 / timing.fps
        )
        self.mode = mode
        self.frames = None
        if child.frames is not None:
            k = 0
            # source time advances at least 1/64 speed (beat intervals are bounded)
            cap = child.frames * 64 + 1
            while k < cap and self.source_frame(timing.time_of(k)) < child.frames:
                k += 1
            self.frames = k
        self.k = 0
        self.pos = 0  # source frames read
        self.last: YUVFrame | None = None

    def _segment(self, t: float) -> tuple[int, float]:
        """Segment shown at output time ``t`` and the seconds into it (source time)."""
        import bisect

        i = bisect.bisect_right(self.marks, t) - 1
        if i + 1 < len(self.marks):
            start, end = self.marks[i], self.marks[i + 1]
        else:  # past the last beat: continue the grid at the median period
            extra = int((t - self.marks[-1]) // self.period)
            i += extra
            start = self.marks[-1] + extra * self.period
            end = start + self.period
        if self.mode == "stretch":
            return i, (t - start) / (end - start) * self.period
        return i, min(t - start, self.period - 1e-6)

    def source_frame(self, t: float) -> int:
        """Source frame shown at output time ``t``.

        Segment starts are snapped to whole source frames, so the frame shown on
        a beat is the first frame of its segment (a cut lands on the beat).
        """
        i, into = self._segment(t)
        fps = self.timing.fps
        return round(i * self.period * fps) + int(into * fps + 1e-6)

    def read(self, nsamples: int) -> Chunk:
        """The source frame for the next output frame, with the music's audio."""
        want = self.source_frame(self.timing.time_of(self.k))
        self.k += 1
        limit = self.child.frames
        while self.pos <= want and (limit is None or self.pos < limit):
            self.last, _ = self.child.read(0)
            self.pos += 1
        return self.last, _audio_of(self.audio, nsamples)


class MapStream(Stream):
    """Slice-on-beats: each interval between events shows the next source in turn.

    A source advances only while it is shown, so every slice continues where
    that source left off.

    Args:
        srcs: The video sources.
        timing: Output grid.
        events: Event times in seconds; a new slice starts at each.
        pick: ``cycle``, ``pingpong`` or ``random`` (source of each slice).
        seed: Seed of ``random``.
        fx: Effect applied to every frame (None: none).
        duration: Seconds of output (0: the sources' total length).
        audio: Stream whose audio plays under it, the track the events came
            from (None: silent).
    """

    has_video = True

    def __init__(
        self,
        srcs: list[Stream],
        timing: Timing,
        events: list[float],
        pick: str,
        seed: int,
        fx: MapEffect | None,
        duration: float,
        audio: Stream | None = None,
    ) -> None:
        self.srcs = srcs
        self.audio = audio
        self.has_audio = audio is not None and audio.has_audio
        self.timing = timing
        self.events = events
        self.fx = fx
        counts = [s.frames for s in srcs]
        if duration > 0:
            self.frames: int | None = timing.frames_for(duration)
        elif all(c is not None for c in counts):
            self.frames = sum(c for c in counts if c is not None)
        else:
            self.frames = None
        n = len(srcs)
        rng = np.random.default_rng(seed)
        self._pick = pick
        self._rng = rng
        self._order: list[int] = []
        self._n = n
        self.k = 0
        self.last: list[YUVFrame | None] = [None] * n
        self.read_count = [0] * n

    def source_for(self, slice_index: int) -> int:
        """Which source slice ``slice_index`` shows (deterministic)."""
        n = self._n
        if self._pick == "random":
            while len(self._order) <= slice_index:
                self._order.append(int(self._rng.integers(0, n)))
            return self._order[slice_index]
        if self._pick == "pingpong" and n > 1:
            p = slice_index % (2 * n - 2)
            return p if p < n else 2 * n - 2 - p
        return slice_index % n

    def read(self, nsamples: int) -> Chunk:
        """The next frame of the source shown now (its last one when it has ended)."""
        import bisect

        t = self.timing.time_of(self.k)
        slice_index = bisect.bisect_right(self.events, t + 1e-9)  # 0 before the first event
        i = self.source_for(slice_index)
        src = self.srcs[i]
        if src.frames is None or self.read_count[i] < src.frames:
            self.last[i], _ = src.read(0)
            self.read_count[i] += 1
        frame = self.last[i]
        if frame is None:
            raise StreamError("MAP: a source produced no video")
        if self.fx is not None:
            inst, base, dyn = self.fx
            params = dict(base)
            for k, (spec, fn) in dyn.items():
                params[k] = clamp_param(spec, fn())
            out = YUVFrame.alloc(frame.width, frame.height)
            inst.apply([frame], out, params, self.k)
            frame = out
        self.k += 1
        return frame, _audio_of(self.audio, nsamples)


def _audio_of(stream: Stream | None, nsamples: int) -> np.ndarray | None:
    """The next ``nsamples`` of ``stream``'s audio (its video advances too)."""
    if stream is None:
        return None
    return stream.read(nsamples)[1]
