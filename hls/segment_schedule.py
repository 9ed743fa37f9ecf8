"""Where segments are cut: the first frame of each segment, from the options alone.

Cuts depend only on frame counts, never on encoded bytes, so every segment
but the last has a predictable length and EXT-X-TARGETDURATION can be fixed
before the first frame.
"""

from __future__ import annotations

import math
from fractions import Fraction

from hls.options import HLSOptions

__all__ = ["SegmentSchedule", "segment_start_frame"]


def segment_start_frame(
    index: int, segment_duration: float, fps: Fraction, first_duration: float | None = None
) -> int:
    """First frame of segment ``index``: the first frame at or after ``index * duration``.

    With ``first_duration`` shorter than ``segment_duration`` (and at least one
    frame), the first segment ends at the first frame at or after
    ``first_duration`` and segment ``k >= 2`` starts where segment ``k - 1``
    would without the extra cut.
    """
    d = Fraction(str(segment_duration))
    if first_duration is not None and index > 0:
        cut = math.ceil(Fraction(str(first_duration)) * fps)
        if 0 < cut < math.ceil(d * fps):
            return cut if index == 1 else math.ceil((index - 1) * d * fps)
    return math.ceil(index * d * fps)


class SegmentSchedule:
    """The cut points of one stream, computed on demand and cached.

    Args:
        options: ``segment_duration`` and ``first_segment_duration``.
        fps: The stream's frame rate.
    """

    def __init__(self, options: HLSOptions, fps: Fraction) -> None:
        self._options = options
        self._fps = fps
        self._starts: list[int] = []
        self.max_frames = max(self.start(i + 1) - self.start(i) for i in range(64))
        """Frames in the longest possible segment."""

    def start(self, index: int) -> int:
        """First frame of segment ``index``."""
        # Cached: called per frame and per packet, and Fraction arithmetic is slow.
        starts = self._starts
        while len(starts) <= index:
            o = self._options
            starts.append(
                segment_start_frame(
                    len(starts), o.segment_duration, self._fps, o.first_segment_duration
                )
            )
        return starts[index]

    def segment_of(self, frame: int, near: int) -> int:
        """The segment holding ``frame``, searched from segment ``near`` (a likely answer)."""
        k = near
        while self.start(k + 1) <= frame:
            k += 1
        while k > 0 and self.start(k) > frame:
            k -= 1
        return k
