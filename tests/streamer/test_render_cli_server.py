"""``artdag render --server URL`` against a live app + worker (tests/api fixtures):
uploads, POST /runs with the quick-render recipe, ``--sync`` waits and prints the
CIDs; a recipe with ANALYZE gets its analysis from the node's cache (a repeated run
decodes nothing and the renderer never analyses by itself)."""

from __future__ import annotations

import argparse
import asyncio
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from interpreter import analysis as analysis_pkg
from interpreter.analysis import analyze as analyze_mod
from interpreter.analysis.decode import decode_audio
from interpreter.loader import load_recipe
from interpreter.validate import validate
from streamer.entry.commands import render
from tests.api.conftest import LiveServer, live_factory, live_server  # noqa: F401 - fixtures
from tests.media import click_track, write_wav

pytestmark = pytest.mark.timeout(240)

ROOT = Path(__file__).resolve().parents[2]


def _clip(path: Path, seconds: float, shade: int) -> Path:
    """64x48 25 fps H.264 with a 440 Hz AAC tone; luma ``shade``."""
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=25)
        vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        vs.options = {"preset": "ultrafast"}
        a = c.add_stream("aac", rate=48000)
        for n in range(round(seconds * 25)):
            data = np.full((72, 64), 128, np.uint8)
            data[:48] = shade
            f = av.VideoFrame.from_ndarray(data, format="yuv420p")
            f.pts, f.time_base = n, Fraction(1, 25)
            for p in vs.encode(f):
                c.mux(p)
        for p in vs.encode(None):
            c.mux(p)
        total = round(seconds * 48000)
        tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(total) / 48000)).astype(np.float32)
        for i in range(0, total, 1024):
            af = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(np.stack([tone[i : i + 1024]] * 2)),
                format="fltp",
                layout="stereo",
            )
            af.sample_rate, af.pts, af.time_base = 48000, i, Fraction(1, 48000)
            for p in a.encode(af):
                c.mux(p)
        for p in a.encode(None):
            c.mux(p)
    return path


def _clicks(path: Path, seconds: float = 2.0) -> Path:
    """Mono WAV, a click every 0.5 s from 0.25 s."""
    return write_wav(path, click_track(np.arange(0.25, seconds - 0.1, 0.5), seconds), 48000)


def _args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    render.register(parser.add_subparsers())
    return parser.parse_args(["render", *argv])


async def _cli(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, str], str]:
    """Run the command in a thread (it has its own event loop); parsed ``key: value`` lines."""
    args = _args(argv)
    code = await asyncio.to_thread(args.func, args)
    out, err = capsys.readouterr()
    lines = dict(
        line.split(": ", 1)
        for line in out.splitlines()
        if ": " in line and not line.startswith("uploaded")
    )
    return code, lines, err


def test_recipe_yaml_round_trips_the_quick_recipe(tmp_path: Path) -> None:
    recipe, _ = render.quick_recipe(
        [tmp_path / "a.mp4", tmp_path / "b.mp4"], [("hue", {"degrees": 90}), ("invert", {})]
    )
    back = load_recipe(render.recipe_yaml(recipe), filename="quick.yaml")
    validate(back)
    assert back.output == recipe.output == "fx1_invert"
    assert [(s.id, s.type, s.inputs, s.config) for s in back.steps] == [
        (s.id, s.type, s.inputs, s.config) for s in recipe.steps
    ]


async def test_sync_submits_inputs_and_effects_and_prints_the_cids(
    live_server: LiveServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    live = live_server
    a, b = _clip(tmp_path / "dog.mp4", 1.0, 60), _clip(tmp_path / "cat.mp4", 1.0, 200)
    code, out, err = await _cli(
        [
            str(a),
            str(b),
            "--effect",
            "invert",
            "--server",
            live.url,
            "--token",
            live.token,
            "--sync",
            "--poll",
            "0.1",
        ],
        capsys,
    )
    assert code == 0, err
    run_id = out["run_id"]
    assert out["status"] == "completed"
    assert out["playlist_url"] == f"{live.url}/runs/{run_id}/playlist.m3u8"
    run = (await live.client.get(f"/api/run/{run_id}")).json()
    assert run["status"] == "completed"
    assert out["output_cid"] == run["output_cid"] and out["output_cid"].startswith(("Qm", "baf"))
    assert out["playlist_cid"] == (run["playlist_cid"] or run["output_cid"])
    # the run rendered the quick recipe: both uploads in sequence through invert
    plan = (await live.client.get(f"/api/run/{run_id}/plan")).json()
    assert "invert" in str(plan)
    assert set(run["inputs"]) == {"input0", "input1"}
    playlist = (await live.client.get(f"/runs/{run_id}/playlist.m3u8")).text
    total = sum(
        float(x.split(":")[1].rstrip(",")) for x in playlist.split() if x.startswith("#EXTINF")
    )
    assert abs(total - 2.0) < 0.1 and "#EXT-X-ENDLIST" in playlist


async def test_async_mode_returns_at_once_with_the_run_id(
    live_server: LiveServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    live = live_server
    monkeypatch.setenv("ARTDAG_TOKEN", live.token)
    clip = _clip(tmp_path / "dog.mp4", 1.0, 100)
    code, out, err = await _cli([str(clip), "--server", live.url, "--pace", "1"], capsys)
    assert code == 0, err
    assert "status" not in out and "output_cid" not in out
    run = await live.wait_run(out["run_id"], lambda r: r["status"] in ("completed", "failed"))
    assert run["status"] == "completed", run


async def test_errors_are_reported_with_exit_status_1(
    live_server: LiveServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    live = live_server
    monkeypatch.delenv("ARTDAG_TOKEN", raising=False)
    clip = _clip(tmp_path / "dog.mp4", 0.4, 100)
    code, _, err = await _cli([str(clip), "--server", live.url], capsys)
    assert code == 1 and "token" in err
    code, _, err = await _cli(
        [str(clip), "--effect", "nosuch", "--server", live.url, "--token", live.token], capsys
    )
    assert code == 1 and "POST /runs: HTTP 4" in err and "nosuch" in err
    code, _, err = await _cli([str(clip), "--server", live.url, "--token", "bad"], capsys)
    assert code == 1 and "HTTP 401" in err


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths the analysis decodes audio from; the renderer analysing by itself fails."""
    seen: list[str] = []
    real = decode_audio  # what analyze_mod calls

    def counting(path: Any, *a: Any, **kw: Any) -> Any:
        seen.append(str(path))
        return real(path, *a, **kw)

    def forbidden(*a: Any, **kw: Any) -> Any:
        raise AssertionError("the renderer analysed by itself")

    monkeypatch.setattr(analyze_mod, "decode_audio", counting)
    monkeypatch.setattr(analysis_pkg, "analyze_file", forbidden)
    return seen


async def test_recipe_with_analysis_is_analysed_once_through_the_cache(
    live_server: LiveServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    decodes: list[str],
) -> None:
    live = live_server
    video, audio = _clip(tmp_path / "v.mp4", 2.0, 120), _clicks(tmp_path / "clicks.wav")
    argv = [
        "--recipe",
        str(ROOT / "recipes" / "beat-sync.yaml"),
        "--input",
        f"video={video}",
        "--input",
        f"audio={audio}",
        "--server",
        live.url,
        "--token",
        live.token,
        "--sync",
        "--poll",
        "0.1",
    ]
    outputs = []
    for _ in range(2):
        code, out, err = await _cli(argv, capsys)
        assert code == 0 and out["status"] == "completed", (out, err)
        outputs.append(out)
    assert len(decodes) == 1  # the second run's analysis came from the cache
    assert outputs[0]["run_id"] != outputs[1]["run_id"]
    for out in outputs:
        doc = (await live.client.get(f"/api/run/{out['run_id']}/analysis")).json()
        beats = doc["analyze_audio"]["audio"]["beats"]
        assert np.allclose(beats, [0.25, 0.75, 1.25, 1.75], atol=0.03), beats


async def test_demo_and_bad_recipe_in_server_mode(
    live_server: LiveServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    live = live_server
    code, out, err = await _cli(
        ["--server", live.url, "--token", live.token, "--duration", "1", "--sync"], capsys
    )
    assert code == 0 and out["status"] == "completed", err
    run = (await live.client.get(f"/api/run/{out['run_id']}")).json()
    assert run["output_cid"] == out["output_cid"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nsteps:\n  - id: x\n    type: NOPE\noutput: x\n")
    code, out, err = await _cli(
        ["--recipe", str(bad), "--server", live.url, "--token", live.token], capsys
    )
    # checked locally, with its position, before anything is sent
    assert code == 1 and f"{bad}:4:11: unknown node type 'NOPE'" in err, err
    assert "run_id" not in out


SEGMENT_RECIPE = """\
name: beat-sync-part
version: "1.0"
inputs:
  video: {type: video}
  audio: {type: audio}
steps:
  - id: part
    type: SEGMENT
    inputs: [audio]
    config: {start: 0.6, duration: 1.4}
  - id: beats
    type: ANALYZE
    inputs: [part]
    config: {features: [beats]}
  - id: sync
    type: BEAT_SYNC
    inputs: [video, beats]
    config: {mode: cut}
output: sync
"""


async def test_analysis_of_a_segment_comes_from_the_file_cache(
    live_server: LiveServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    decodes: list[str],
) -> None:
    live = live_server
    recipe = tmp_path / "part.yaml"
    recipe.write_text(SEGMENT_RECIPE)
    video, audio = _clip(tmp_path / "v.mp4", 2.0, 90), _clicks(tmp_path / "clicks2.wav", 2.2)
    argv = [
        "--recipe",
        str(recipe),
        "--input",
        f"video={video}",
        "--input",
        f"audio={audio}",
        "--server",
        live.url,
        "--token",
        live.token,
        "--sync",
        "--poll",
        "0.1",
    ]
    for _ in range(2):
        code, out, err = await _cli(argv, capsys)
        assert code == 0 and out["status"] == "completed", (out, err)
        doc = (await live.client.get(f"/api/run/{out['run_id']}/analysis")).json()
        assert doc["beats"]["window"] == {"start": 0.6, "duration": 1.4}
        file_beats = doc["beats"]["analysis"]["audio"]["beats"]
        assert np.allclose(file_beats, [0.25, 0.75, 1.25, 1.75], atol=0.03), file_beats
    assert len(decodes) == 1  # the file was analysed once, for both runs
