"""A recording FrameSink for the StreamInterpreter tests.

A named module, not conftest: a ``conftest`` import finds whichever conftest
pytest imported last when several test folders are collected together.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from effects.frame import AudioFormat, VideoFormat, YUVFrame

__all__ = ["RecordingSink"]


class RecordingSink:
    """A FrameSink that keeps luma means and audio, and can stall on demand."""

    def __init__(self, delay: float = 0.0) -> None:
        self.video: VideoFormat | None = None
        self.audio: AudioFormat | None = None
        self.callback: Any = None
        self.lumas: list[float] = []
        self.frames: list[YUVFrame] = []
        self.samples: list[np.ndarray] = []
        self.finished = False
        self.aborted = False
        self.delay = delay
        self.threads: set[str] = set()
        self.first_write = threading.Event()

    async def start(
        self, video: VideoFormat, audio: AudioFormat | None, on_playlist_update: Any
    ) -> None:
        self.video, self.audio, self.callback = video, audio, on_playlist_update

    def write(self, frame: YUVFrame, audio: np.ndarray | None) -> None:
        self.threads.add(threading.current_thread().name)
        self.lumas.append(float(frame.y.mean()))
        self.frames.append(frame)
        if audio is not None:
            self.samples.append(audio)
        self.first_write.set()
        if self.delay:
            threading.Event().wait(self.delay)

    async def finish(self) -> Any:
        self.finished = True
        return {"frames": len(self.lumas)}

    async def abort(self) -> None:
        self.aborted = True
