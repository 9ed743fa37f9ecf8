"""Video features on generated video with known cuts and periodic motion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from interpreter.analysis import AnalysisError, analyze_file
from interpreter.analysis.video import detect_cuts, motion_tempo
from tests.interpreter.analysis.analysis_media import click_track, shots_video, write_video


def test_metadata_motion_and_cuts(tmp_path: Path) -> None:
    cuts = [17, 40, 41 + 22, 90]
    frames = shots_video(cuts, 110)
    path = write_video(tmp_path / "shots.mp4", frames, fps=25)
    res = analyze_file(path, "metadata,motion,cuts")
    v = res.video
    assert v is not None and res.audio is None
    assert (v.width, v.height, v.codec) == (160, 96, "h264")
    assert v.fps == pytest.approx(25.0)
    assert v.frame_count == 110 and len(v.motion) == 110
    assert v.duration == pytest.approx(110 / 25, abs=0.05)
    assert len(v.cuts) == len(cuts)
    assert np.all(np.abs(v.cuts - np.asarray(cuts)) <= 1), v.cuts
    assert np.allclose(v.cut_times, v.cuts / 25.0)
    # texture drift is motion but not a cut: motion is non-zero between cuts
    assert float(np.median(v.motion[1:])) > 0.0


def test_fast_motion_is_not_a_cut() -> None:
    rng = np.random.default_rng(0)
    motion = np.clip(0.15 + 0.03 * rng.standard_normal(200), 0, 1).astype(np.float32)
    motion[120] = 0.6
    assert detect_cuts(motion).tolist() == [120]


def test_motion_tempo_of_a_flashing_video(tmp_path: Path) -> None:
    fps, period = 30, 15  # a flash every 15 frames = 120 BPM
    n = 150
    levels = np.where(np.arange(n) % period < 3, 200, 60).astype(np.uint8)
    frames = np.broadcast_to(levels[:, None, None], (n, 64, 96)).copy()
    path = write_video(tmp_path / "flash.mp4", frames, fps=fps)
    res = analyze_file(path, ["motion_tempo"])
    assert res.video is not None and res.video.motion_tempo is not None
    assert res.video.motion_tempo == pytest.approx(120.0, rel=0.02)
    assert motion_tempo(np.zeros(100, np.float32), 30.0) is None


def test_audio_track_of_a_video(tmp_path: Path) -> None:
    y, truth = click_track(120, 6.0, rate=44100)
    frames = shots_video([50], 150)
    path = write_video(tmp_path / "av.mp4", frames, fps=25, audio=y)
    res = analyze_file(path, None)
    assert res.audio is not None and res.video is not None
    assert res.tempo == pytest.approx(120.0, rel=0.01)
    # AAC priming is trimmed by the demuxer; allow the 30 ms budget
    found = res.beat_times
    assert np.all(np.min(np.abs(found[:, None] - truth[None, :]), axis=1) < 0.030)
    assert res.video.cuts.tolist() in ([49], [50], [51])


def test_missing_stream_is_a_clear_error(tmp_path: Path) -> None:
    path = write_video(tmp_path / "silent.mp4", shots_video([5], 20), fps=25)
    with pytest.raises(AnalysisError, match="no audio stream") as info:
        analyze_file(path, "beats")
    assert str(path) in str(info.value)
