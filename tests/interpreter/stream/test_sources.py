"""FileSource: seek accuracy, frame-rate conversion, scaling and audio length."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from effects.frame import AudioFormat, VideoFormat
from interpreter.runtime.base import Timing
from interpreter.runtime.errors import SourceError
from interpreter.runtime.sources import FileSource, Fit, probe
from tests.interpreter.stream.stream_media import frame_number


def _read_all(src: FileSource, timing: Timing) -> tuple[list[int], int]:
    nums, samples = [], 0
    assert src.frames is not None
    for k in range(src.frames):
        f, a = src.read(timing.samples_for(k))
        assert f is not None
        nums.append(frame_number(float(f.y.mean())))
        if a is not None:
            assert a.dtype == np.float32
            samples += a.shape[1]
    src.close()
    return nums, samples


def test_probe(clip: Path) -> None:
    info = probe(clip)
    assert (info.width, info.height, info.has_video, info.has_audio) == (64, 48, True, True)
    assert info.fps == pytest.approx(25.0)
    assert info.duration == pytest.approx(2.0, abs=0.05)


def test_same_rate_every_frame_in_order(clip: Path) -> None:
    t = Timing(VideoFormat(64, 48, 25, 1), AudioFormat(48000, 2))
    nums, samples = _read_all(FileSource(clip, t), t)
    assert nums == list(range(50))
    assert samples == 96000


def test_seek_lands_on_the_right_frame(clip: Path) -> None:
    t = Timing(VideoFormat(64, 48, 25, 1), AudioFormat(48000, 2))
    nums, samples = _read_all(FileSource(clip, t, start=1.2, duration=0.4), t)
    assert nums == list(range(30, 40))
    assert samples == round(0.4 * 48000)


def test_upsampling_duplicates_by_timestamp(clip: Path) -> None:
    t = Timing(VideoFormat(64, 48, 50, 1), None)
    nums, _ = _read_all(FileSource(clip, t, start=0.5, duration=1.0), t)
    assert len(nums) == 50
    assert nums == [12 + (k + 1) // 2 for k in range(50)]


def test_downsampling_drops(silent_clip: Path) -> None:
    # 30 fps source to 10 fps: every third frame
    t = Timing(VideoFormat(32, 24, 10, 1), None)
    nums, _ = _read_all(FileSource(silent_clip, t), t)
    assert nums == [0, 3, 6, 9, 12, 15, 18, 21, 24, 27]


@pytest.mark.parametrize("fit", ["fit", "fill", "stretch"])
def test_scaling_gives_the_output_size(clip: Path, fit: Fit) -> None:
    t = Timing(VideoFormat(128, 128, 25, 1), None)
    src = FileSource(clip, t, duration=0.2, fit=fit)
    f, _ = src.read(0)
    src.close()
    assert f is not None and (f.width, f.height) == (128, 128)
    rows = f.y.mean(axis=1)
    if fit == "fit":  # letterboxed: black bars above and below
        assert rows[0] == pytest.approx(16) and rows[-1] == pytest.approx(16)
    else:
        assert rows[0] == pytest.approx(16, abs=2)  # frame 0 luma is 16 everywhere


def test_loop_honours_duration(silent_clip: Path) -> None:
    t = Timing(VideoFormat(32, 24, 30, 1), None)
    src = FileSource(silent_clip, t, duration=2.5, loop=True)
    nums, _ = _read_all(src, t)
    assert len(nums) == 75
    assert nums[:30] == list(range(30)) and nums[30:60] == list(range(30)) and nums[60] == 0


def test_start_past_end_is_an_error(clip: Path) -> None:
    t = Timing(VideoFormat(64, 48, 25, 1), None)
    with pytest.raises(SourceError, match="past the end"):
        FileSource(clip, t, start=5.0)


def test_unreadable_file_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not media")
    with pytest.raises(SourceError, match=r"bad\.mp4"):
        probe(bad)
