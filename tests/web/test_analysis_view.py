"""The analysis tab's view model (web/analysis_view.py, web/analysis_model.py) and the plan
tab's step states (web/plan_view.py): every analysis shape a run can carry, no I/O."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from interpreter.analysis.result import AnalysisResult, AudioAnalysis, VideoAnalysis
from interpreter.runtime.analysis import windowed
from streamer.entry.demo import demo_analysis
from web.analysis_model import MAX_POINTS, Curve, downsample
from web.analysis_view import analysis_context, analysis_views, parse_document
from web.plan_view import plan_states

AUDIO_CID = "Qm" + "a" * 44
VIDEO_CID = "Qm" + "v" * 44


def _result(seconds: float = 8.0, *, video: bool = False) -> dict[str, Any]:
    """An AnalysisResult JSON: 120 BPM beats, bars of 4, 100 Hz envelopes; motion and cuts."""
    beats = np.arange(0.25, seconds, 0.5)
    env = (np.arange(int(seconds * 100)) % 50 == 0).astype(np.float32)  # a spike per beat
    audio = AudioAnalysis(
        duration=seconds,
        sample_rate=44100,
        channels=1,
        tempo=120.0,
        beats=beats,
        downbeats=beats[::4],
        onsets=beats,
        energy=env,
        bass=env * 0.5,
        mid=env * 0.25,
        high=env * 0.1,
    )
    vid = VideoAnalysis(
        duration=seconds,
        fps=25.0,
        width=320,
        height=240,
        codec="h264",
        frame_count=int(seconds * 25),
        motion=np.linspace(0, 1, int(seconds * 25), dtype=np.float32),
        cuts=np.array([50, 125]),
        motion_tempo=60.0,
    )
    if video:
        return AnalysisResult("id", VIDEO_CID, ("cuts", "motion"), None, vid).to_dict()
    return AnalysisResult("id", AUDIO_CID, ("bands", "beats", "energy"), audio).to_dict()


def _plan(*analyze: str) -> dict[str, Any]:
    steps = [{"step_id": "src", "name": "src", "node_type": "SOURCE", "config": {}}]
    steps += [{"step_id": s, "name": f"{s} step", "node_type": "ANALYZE"} for s in analyze]
    return {"steps": steps, "analysis": [{"step_id": s, "features": ["beats"]} for s in analyze]}


def test_worker_analysis_keyed_by_step_draws_the_file_waveform() -> None:
    doc = _result()
    run = {
        "id": "r",
        "analysis": {"beats": doc},
        "plan": _plan("beats"),
        "inputs": {"audio": AUDIO_CID},
    }
    context = analysis_context(run)
    (view,) = context["analysis_views"]
    assert view.step_ids == ("beats",) and view.label == "beats step"
    assert view.duration == 8.0 and view.tempo == 120.0
    assert len(view.beats) == 16 and view.downbeats == view.beats[::4]
    assert not view.downbeats_inferred and not view.has_video
    assert view.waveform_url() == f"/cache/{AUDIO_CID}/waveform?points=1600"
    (chart,) = context["analysis_charts"]
    assert chart["beats"] == doc["audio"]["beats"] and chart["waveform"]["offset"] == 0.0
    assert set(chart["curves"]) == {"energy", "bass", "mid", "high"}
    energy = chart["curves"]["energy"]
    assert energy["step"] == 0.01 and len(energy["values"]) == 800 and max(energy["values"]) == 1.0
    assert chart["video"] is None
    summary = dict(view.summary())
    assert summary["Tempo"] == "120.0 BPM" and summary["Beats"] == "16"
    assert summary["Downbeats"] == "4" and "Tempo confidence" not in summary
    assert "tempo 120.0 BPM" in view.caption() and "16 beats (4 downbeats)" in view.caption()


def test_tempo_confidence_and_alternatives_are_shown_when_present() -> None:
    doc = _result()
    doc["audio"]["tempo_confidence"] = 0.82
    doc["audio"]["tempo_alternatives"] = [120.0, 60.0, {"bpm": 240.0}, [90.0, 0.1]]
    (view,) = analysis_views({"beats": doc}, _plan("beats"))
    summary = dict(view.summary())
    assert summary["Tempo confidence"] == "82 %"
    assert summary["Other tempi"] == "60.0, 240.0, 90.0 BPM"  # the tempo itself is not repeated


def test_a_file_not_among_the_run_inputs_gets_no_waveform() -> None:
    (view,) = analysis_views({"beats": _result()}, _plan("beats"), {"audio": "Qm" + "x" * 44})
    assert view.input_cid is None and view.chart()["waveform"] is None


def test_video_motion_and_cuts() -> None:
    (view,) = analysis_views({"motion": _result(video=True)}, _plan("motion"), {})
    assert view.has_video and not view.has_audio
    assert view.cuts == (2.0, 5.0) and view.motion_tempo == 60.0
    assert view.motion is not None and view.motion.step == pytest.approx(0.04)
    chart = view.chart()
    assert chart["video"]["cuts"] == [2.0, 5.0] and len(chart["video"]["motion"]["values"]) == 200
    summary = dict(view.summary())
    assert summary["Cuts"] == "2" and summary["Motion tempo"] == "60.0 BPM"
    assert "Beats" not in summary and "2 cuts" in view.caption()


def test_the_demo_analysis_serves_every_analyze_step() -> None:
    doc = demo_analysis(6.0)
    (view,) = analysis_views(doc, _plan("features"), {})
    assert view.step_ids == ("features",) and view.label == "features step"
    assert view.duration == 6.0 and view.tempo == 120.0 and len(view.beats) == 12
    # no downbeats given: every fourth beat, as the renderer takes them
    assert view.downbeats == (0.0, 2.0, 4.0) and view.downbeats_inferred
    assert dict(view.summary())["Downbeats"] == "3 (every 4th beat)"
    assert view.curves["energy"].step == pytest.approx(1 / 30) and view.input_cid is None
    assert view.chart()["waveform"] is None  # no file: the energy envelope stands in


def test_an_analysis_without_plan_or_schema() -> None:
    (view,) = analysis_views({"audio": {"tempo": 123.456, "beats": [0.5, 1.0, 1.5]}}, None)
    assert view.label == "the run" and view.tempo == 123.456 and view.duration == 1.5
    assert dict(view.summary())["Tempo"] == "123.5 BPM"
    # keyed documents without a plan are recognised by their shape
    views = analysis_views({"a": _result(), "b": _result(video=True)}, None)
    assert [v.step_ids for v in views] == [("a",), ("b",)]
    assert analysis_views(None, None) == [] and analysis_views("junk", None) == []


def test_a_segment_of_a_file_sees_its_window() -> None:
    doc = windowed(_result(), 2.0, 3.0)
    (view,) = analysis_views({"beats": doc}, _plan("beats"), {"audio": AUDIO_CID})
    assert view.duration == 3.0 and view.window_start == 2.0
    assert view.beats == (0.25, 0.75, 1.25, 1.75, 2.25, 2.75)
    assert view.downbeats == (0.25, 2.25)
    energy = view.curves["energy"]
    assert energy.start == pytest.approx(0.0) and len(energy.values) == 300
    # the whole file's waveform, at a resolution that still fills the window
    assert view.waveform_url() == f"/cache/{AUDIO_CID}/waveform?points=4267"
    assert view.chart()["waveform"]["offset"] == 2.0


def test_series_shapes_and_downsampling() -> None:
    view = parse_document(
        {"beats": [1, 0.5], "energy": {"times": [0, 0.5, 2.0], "values": [0, 1, 0]}}, ["x"], "x"
    )
    assert view.beats == (0.5, 1.0)  # sorted
    energy = view.curves["energy"]
    assert energy.step == 0.5 and energy.values == pytest.approx((0, 1, 2 / 3, 1 / 3, 0))
    values = tuple(float(i % 7 == 3) for i in range(10_000))
    small = downsample(Curve(0.0, 0.01, values))
    assert len(small.values) <= MAX_POINTS and max(small.values) == 1.0
    assert small.step == pytest.approx(0.05)
    assert Curve(0.0, 0.5, (1, 2, 3, 4)).window(0.6, 1.6) == Curve(0.4, 0.5, (3, 4))


def _run(status: str, **fields: Any) -> dict[str, Any]:
    steps = [
        {"step_id": "in", "node_type": "SOURCE", "config": {"input": "audio", "cid": AUDIO_CID}},
        {"step_id": "beats", "node_type": "ANALYZE", "cache_id": "c-beats", "inputs": ["in"]},
        {"step_id": "gen", "node_type": "SOURCE", "cache_id": "c-gen", "config": {}},
        {"step_id": "fx", "node_type": "EFFECT", "cache_id": "c-fx", "inputs": ["gen", "beats"]},
        {"step_id": "out", "node_type": "MUX", "cache_id": "c-out", "inputs": ["fx", "in"]},
    ]
    return {"status": status, "plan": {"steps": steps}, **fields}


def test_plan_step_states() -> None:
    assert set(plan_states(_run("completed")).values()) == {"done"}
    assert set(plan_states(_run("pending")).values()) == {"pending"}
    # the batch path: outputs in the step cache and recipe inputs are done
    assert plan_states(_run("running"), {"c-beats"}) == {
        "in": "done",
        "beats": "done",
        "gen": "pending",
        "fx": "pending",
        "out": "pending",
    }
    # ...and what a finished step was made from (an inline generator)
    assert plan_states(_run("running"), {"c-fx"})["gen"] == "done"
    # the live render, rendering: every step but the given analyses is running
    live = plan_states(_run("running", segment_count=3, analysis={"beats": {}}))
    assert live == {
        "in": "running",
        "beats": "done",
        "gen": "running",
        "fx": "running",
        "out": "running",
    }
    assert plan_states(_run("failed", analysis={"beats": {}})) == {
        "in": "done",
        "beats": "done",
        "gen": "stopped",
        "fx": "stopped",
        "out": "stopped",
    }
    assert plan_states({"status": "running"}) == {}
