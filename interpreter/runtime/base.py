"""Building blocks shared by the runtime: the pull-stream interface and timing.

Every node of a compiled recipe becomes a :class:`Stream`. The graph thread
pulls output frames one at a time from the root; each ``read`` returns the
node's next video frame and exactly the number of audio samples the caller
asks for, so audio stays sample-exact however streams are cut and joined.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from effects.frame import AudioFormat, VideoFormat, YUVFrame

if TYPE_CHECKING:
    from interpreter.runtime.clock import Clock

__all__ = ["Chunk", "OneInput", "Stream", "Timing", "shortest_frames", "silence"]

Chunk = tuple[YUVFrame | None, np.ndarray | None]


class Timing:
    """Output frame grid and the audio samples that belong to each frame.

    Frame ``n`` covers ``[n / fps, (n + 1) / fps)``; its audio is the samples
    ``[floor(n * rate / fps), floor((n + 1) * rate / fps))`` computed in
    integers, so no fractional error accumulates over a long render.

    Attributes:
        video: Output video format.
        audio: Output audio format (None: no audio).
        cancel: Set when the run is cancelled; long loops poll it.
    """

    def __init__(
        self,
        video: VideoFormat,
        audio: AudioFormat | None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.video = video
        self.audio = audio
        self.cancel = cancel or threading.Event()

    @property
    def fps(self) -> float:
        """Output frames per second."""
        return self.video.fps

    def time_of(self, n: int) -> float:
        """Start time in seconds of output frame ``n``."""
        return n * self.video.fps_den / self.video.fps_num

    def frames_for(self, seconds: float) -> int:
        """Number of output frames in ``seconds`` (rounded to the nearest frame)."""
        return max(0, round(seconds * self.video.fps_num / self.video.fps_den))

    def sample_at(self, n: int) -> int:
        """Index of the first audio sample of output frame ``n``."""
        if self.audio is None:
            return 0
        return n * self.audio.sample_rate * self.video.fps_den // self.video.fps_num

    def samples_for(self, n: int) -> int:
        """Number of audio samples carried by output frame ``n``."""
        return self.sample_at(n + 1) - self.sample_at(n)


def silence(channels: int, n: int) -> np.ndarray:
    """``(channels, n)`` float32 zeros."""
    return np.zeros((channels, n), dtype=np.float32)


class Stream(ABC):
    """A node's output read frame by frame.

    Attributes:
        frames: Number of frames the stream yields (None: unbounded).
        has_video: Whether ``read`` returns frames.
        has_audio: Whether ``read`` returns audio (else None).
    """

    frames: int | None = None
    has_video: bool = True
    has_audio: bool = False

    @abstractmethod
    def read(self, nsamples: int) -> Chunk:
        """The next frame and ``nsamples`` audio samples (float32 ``(channels, n)``).

        Returned frames are never written to again by the stream (they may be
        shared read-only between consecutive reads).
        """

    def skip(self, clock: Clock, first: int, sizes: Sequence[int]) -> None:
        """Advance past ``len(sizes)`` frames as if they had been read and dropped.

        A render that starts mid-stream (a chunk) skips what precedes it. The
        default reads every frame (exact, but it costs what rendering costs);
        streams that can do better (a file seeks, a generator jumps, a
        stateless node passes the skip down, a temporal effect renders only
        its pre-roll) override it. What follows a skip is deterministic: the
        same skip gives the same frames, whoever renders them.

        Args:
            clock: The graph's clock; set to each frame read (restored by the caller).
            first: Output frame of the first skipped frame.
            sizes: Audio samples of each skipped frame, as ``read`` would be asked.
        """
        for i, n in enumerate(sizes):
            clock.n = first + i
            self.read(n)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release decoders and threads."""


class OneInput(Stream):
    """A stream over one child, with the child's length and what it carries.

    Attributes:
        child: The input stream.
    """

    def __init__(self, child: Stream) -> None:
        self.child = child
        self.frames = child.frames
        self.has_video = child.has_video
        self.has_audio = child.has_audio

    def skip(self, clock: Clock, first: int, sizes: Sequence[int]) -> None:
        """A stateless one-input node: the child skips the same frames."""
        self.child.skip(clock, first, sizes)


def shortest_frames(streams: Sequence[Stream]) -> int | None:
    """Frames of the shortest finite stream; None when all are endless."""
    counts = [s.frames for s in streams if s.frames is not None]
    return min(counts) if counts else None
