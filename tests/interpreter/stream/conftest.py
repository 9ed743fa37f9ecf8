"""Fixtures for the StreamInterpreter tests: synthetic clips (the sink: stream_sink)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# the repository root before tests/ so ``interpreter`` is the package, not the
# tests/interpreter folder (a namespace package on the path pytest adds)
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
_ns = sys.modules.get("interpreter")
if _ns is not None and getattr(_ns, "__file__", None) is None:  # imported as tests/interpreter
    for _name in [m for m in sys.modules if m == "interpreter" or m.startswith("interpreter.")]:
        del sys.modules[_name]

from tests.interpreter.stream.stream_media import make_clip  # noqa: E402


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
