"""``artdag render --size/--fps``: exact rates, the missing half from the input, clear errors."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from effects.frame import VideoFormat
from streamer.entry.commands.render import _frame_rate, _video_format
from tests.interpreter.stream.stream_media import make_clip

pytestmark = pytest.mark.timeout(60)


def _args(size: str | None = None, fps: float | None = None) -> argparse.Namespace:
    return argparse.Namespace(size=size, fps=fps)


@pytest.mark.parametrize(
    ("fps", "rate"),
    [
        (25, (25, 1)),
        (29.97, (30000, 1001)),
        (23.976, (24000, 1001)),
        (59.94, (60000, 1001)),
        (12.5, (25, 2)),
    ],
)
def test_rates_are_exact(fps: float, rate: tuple[int, int]) -> None:
    assert _frame_rate(fps) == rate


@pytest.mark.parametrize("fps", [0, -5, 1000])
def test_bad_rate_names_the_flag(fps: float) -> None:
    with pytest.raises(ValueError, match="--fps"):
        _frame_rate(fps)


@pytest.mark.parametrize("size", ["720", "axb", "0x10", "99999x2"])
def test_bad_size_names_the_flag(size: str) -> None:
    with pytest.raises(ValueError, match="--size"):
        _video_format(_args(size=size), None)


def test_fps_alone_keeps_the_clip_size(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", width=320, height=240, fps=30, seconds=0.5)
    vf = _video_format(_args(fps=25), None, clip)
    assert vf is not None
    assert (vf.width, vf.height, vf.fps_num, vf.fps_den) == (320, 240, 25, 1)


def test_size_alone_keeps_the_default_rate() -> None:
    vf = _video_format(_args(size="641x361"), VideoFormat(1280, 720, 30000, 1001))
    assert vf is not None
    assert (vf.width, vf.height, vf.fps_num, vf.fps_den) == (640, 360, 30000, 1001)


def test_fps_without_any_video_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="--size"):
        _video_format(_args(fps=25), None, None)
