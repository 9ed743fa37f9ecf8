"""What BEAT_SYNC and the expressions get: beat frames and per-frame samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from interpreter.analysis import analyze_file
from tests.interpreter.analysis.analysis_media import click_track, write_audio


def test_beat_frames_within_one_frame_at_30_fps(tmp_path: Path) -> None:
    fps = 30
    y, truth = click_track(120, 12.0, noise=0.05, seed=5)
    res = analyze_file(write_audio(tmp_path / "t120.wav", y), "beats,tempo,downbeats,energy")
    cut_frames = np.round(res.beat_times * fps).astype(int)
    true_frames = np.round(truth * fps).astype(int)
    assert len(cut_frames) == len(true_frames)
    assert np.max(np.abs(cut_frames - true_frames)) <= 1
    # per-frame sampling: the beat index steps exactly on the cut frames
    times = np.arange(int(12.0 * fps)) / fps
    s = res.sample_many(times)
    steps = np.flatnonzero(np.diff(s["beat"]) > 0) + 1
    assert np.max(np.abs(steps - cut_frames[cut_frames < len(times)])) <= 1
    assert np.all(s["since_beat"][steps] < 1.0 / fps + 1e-9)


def test_runtime_analysis_track_accepts_a_result(tmp_path: Path) -> None:
    from interpreter.runtime.analysis import AnalysisTrack

    y, _ = click_track(128, 6.0)
    res = analyze_file(write_audio(tmp_path / "t128.wav", y), "beats,energy,bands")
    track = AnalysisTrack(res)
    for t in (0.1, 1.37, 4.2):
        mine = res.sample(t)
        got = track.sample(t)
        for key in ("beat", "beat_phase", "since_beat", "energy", "bass", "mid", "high"):
            assert got[key] == mine[key], key
