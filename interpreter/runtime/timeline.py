"""Streams that reshape one input in time or space: SEGMENT, RESIZE and TRANSFORM."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from effects.frame import YUVFrame
from interpreter.runtime.base import Chunk, OneInput, Stream, Timing
from interpreter.runtime.clock import Clock, Value
from interpreter.runtime.sources import Fit, scale_frame

__all__ = ["ResizeStream", "SegmentStream", "TransformStream"]


class SegmentStream(OneInput):
    """``duration`` seconds of a stream from ``start`` (frames before are read and dropped).

    Args:
        child: The stream to cut.
        timing: Output grid (seconds -> frames, frames -> samples).
        start: Seconds of ``child`` to skip.
        duration: Seconds to keep (None: up to the end of ``child``).
    """

    def __init__(self, child: Stream, timing: Timing, start: float, duration: float | None) -> None:
        super().__init__(child)
        self.timing = timing
        self.lead = timing.frames_for(start)  # frames to drop first
        if child.frames is not None:
            avail = max(0, child.frames - self.lead)
            self.frames = avail if duration is None else min(avail, timing.frames_for(duration))
        else:
            self.frames = None if duration is None else timing.frames_for(duration)

    def read(self, nsamples: int) -> Chunk:
        """The next frame of the segment; the first read drops what precedes it."""
        while self.lead:
            self.child.read(self.timing.samples_for(self.lead))
            self.lead -= 1
        return self.child.read(nsamples)

    def skip(self, clock: Clock, first: int, sizes: Sequence[int]) -> None:
        """Skip the frames before the segment and then ``sizes`` more, in one child skip."""
        lead = [self.timing.samples_for(k) for k in range(self.lead, 0, -1)]
        self.lead = 0
        self.child.skip(clock, first - len(lead), [*lead, *sizes])


class ResizeStream(OneInput):
    """Scale (fit / fill / stretch) back onto the output frame size.

    Args:
        child: The stream to scale.
        timing: Output grid; its video format is the target size.
        mode: How the aspect ratio is kept.
    """

    def __init__(self, child: Stream, timing: Timing, mode: Fit) -> None:
        super().__init__(child)
        self.timing = timing
        self.mode: Fit = mode

    def read(self, nsamples: int) -> Chunk:
        """The next frame at the output size (passed through when it already is)."""
        import av

        frame, audio = self.child.read(nsamples)
        if frame is None:
            return frame, audio
        vf = self.timing.video
        if (frame.width, frame.height) == (vf.width, vf.height):
            return frame, audio
        src = av.VideoFrame.from_ndarray(frame.data, format="yuv420p")
        return scale_frame(src, vf.width, vf.height, self.mode), audio


class TransformStream(OneInput):
    """Brightness, contrast, saturation, hue and gamma on YUV planes.

    Args:
        child: The stream to adjust.
        values: Per-frame ``brightness``, ``contrast``, ``saturation``, ``hue``
            (degrees) and ``gamma``.
    """

    def __init__(self, child: Stream, values: Mapping[str, Value]) -> None:
        super().__init__(child)
        self.values = values

    def read(self, nsamples: int) -> Chunk:
        """The next frame adjusted with this frame's values."""
        frame, audio = self.child.read(nsamples)
        if frame is None:
            return frame, audio
        v = {k: f() for k, f in self.values.items()}
        out = YUVFrame.alloc(frame.width, frame.height)
        y = (frame.y.astype(np.float32) - 16.0) / 219.0
        if v["gamma"] != 1.0:
            y = np.clip(y, 0.0, 1.0) ** (1.0 / v["gamma"])
        y = (y - 0.5) * v["contrast"] + 0.5 + v["brightness"]
        out.y[:] = np.clip(y * 219.0 + 16.0, 0, 255)
        u = frame.u.astype(np.float32) - 128.0
        w = frame.v.astype(np.float32) - 128.0
        a = np.deg2rad(v["hue"])
        c, s = np.cos(a) * v["saturation"], np.sin(a) * v["saturation"]
        out.u[:] = np.clip(u * c - w * s + 128.0, 0, 255)
        out.v[:] = np.clip(u * s + w * c + 128.0, 0, 255)
        return out, audio
