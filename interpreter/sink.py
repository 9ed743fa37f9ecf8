"""The output seam between the StreamInterpreter and whatever publishes frames.

The interpreter defines :class:`FrameSink`; ``hls/`` implements it
structurally (neither side imports the other). The lifecycle is
``await start(...)`` once, ``write(frame, audio)`` once per output frame from
a pipeline thread, then exactly one of ``await finish()`` (success) or
``await abort()`` (cancelled or failed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np

from effects.frame import AudioFormat, VideoFormat, YUVFrame

__all__ = ["FrameSink", "PlaylistCallback"]

PlaylistCallback = Callable[[Any], Awaitable[None]]


@runtime_checkable
class FrameSink(Protocol):
    """Where rendered frames go (an HLS output, a recorder in tests)."""

    async def start(
        self,
        video: VideoFormat,
        audio: AudioFormat | None,
        on_playlist_update: PlaylistCallback | None,
    ) -> None:
        """Open the output for this geometry, rate and audio layout."""
        ...

    def write(self, frame: YUVFrame, audio: np.ndarray | None) -> None:
        """Consume one output frame and the audio that belongs to it.

        Called from a pipeline thread, never from the event loop. ``audio``
        is float32 ``(channels, n)`` covering exactly this frame's interval
        (None when the run has no audio). The sink may keep ``frame``: the
        interpreter never reuses a buffer it has handed over. Blocks only on
        backpressure.
        """
        ...

    async def finish(self) -> Any:
        """Flush, write the last segment and ENDLIST, send the final update."""
        ...

    async def abort(self) -> None:
        """Close after a cancel or failure; the implementation documents whether ENDLIST is written."""
        ...
