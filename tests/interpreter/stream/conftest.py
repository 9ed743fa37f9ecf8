"""Fixtures for the StreamInterpreter tests: synthetic clips and a recording sink."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

# the repository root before tests/ so ``interpreter`` is the package, not the
# tests/interpreter folder (a namespace package on the path pytest adds)
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
_ns = sys.modules.get("interpreter")
if _ns is not None and getattr(_ns, "__file__", None) is None:  # imported as tests/interpreter
    for _name in [m for m in sys.modules if m == "interpreter" or m.startswith("interpreter.")]:
        del sys.modules[_name]

from stream_media import make_clip  # noqa: E402

from effects.frame import AudioFormat, VideoFormat, YUVFrame  # noqa: E402


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


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 s, 64x48, 25 fps, luma = 16 + 4 * frame, stereo 48 kHz tone."""
    return make_clip(tmp_path_factory.mktemp("media") / "clip.mp4")


@pytest.fixture(scope="session")
def silent_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1 s, 64x48, 30 fps, no audio."""
    return make_clip(
        tmp_path_factory.mktemp("media") / "silent.mp4", fps=30, seconds=1.0, audio=False
    )
