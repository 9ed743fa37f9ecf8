"""StreamInterpreter into the real hls LocalHLSOutput, checked by ffprobe."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cache.cid import cid_of_bytes
from effects.frame import VideoFormat
from hls.options import HLSOptions
from hls.output import LocalHLSOutput
from interpreter.stream import StreamInterpreter
from tests.interpreter.stream.stream_recipes import generator, recipe, step

pytestmark = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe not installed")


def _ffprobe(playlist: Path, stream: str, entries: str) -> dict[str, Any]:
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            stream,
            "-count_frames",
            "-show_entries",
            entries,
            "-of",
            "json",
            str(playlist),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    report: dict[str, Any] = json.loads(out.stdout)
    return report


async def test_effects_and_crossfade_to_hls_exact_frames(clip: Path, tmp_path: Path) -> None:
    r = recipe(
        step("src", "SOURCE", input="video"),
        step("a", "SEGMENT", ("src",), start=0.0, duration=1.6),
        generator("pattern", "testsrc", duration=2.0),
        step("seq", "SEQUENCE", ("a", "pattern"), transition="crossfade", duration=0.4),
        step("inv", "EFFECT", ("seq",), effect="invert", params={}),
        step("hue", "EFFECT", ("inv",), effect="hue", params={"degrees": 90.0}),
        output="hue",
        inputs=("video",),
    )
    out = tmp_path / "hls"
    sink = LocalHLSOutput(out, HLSOptions(segment_duration=1.0, preset="ultrafast"), cid_of_bytes)
    vf = VideoFormat(64, 48, 25, 1)
    result = await StreamInterpreter(r, {"video": clip}, sink, video_format=vf).run()
    frames = 40 + 50 - 10  # 1.6 s + 2 s - 0.4 s overlap at 25 fps
    playlist = Path(result.playlist_path)
    text = playlist.read_text()
    assert "#EXT-X-ENDLIST" in text
    v = _ffprobe(playlist, "v:0", "stream=nb_read_frames,width,height")["streams"][0]
    assert int(v["nb_read_frames"]) == frames
    assert (v["width"], v["height"]) == (64, 48)
    a = _ffprobe(playlist, "a:0", "stream=sample_rate,channels")["streams"][0]
    assert int(a["sample_rate"]) == 48000 and int(a["channels"]) == 2
    assert result.duration == pytest.approx(frames / 25, abs=1e-6)
    # every segment is named by the CID of its bytes
    for seg in out.glob("*.ts"):
        assert seg.stem == cid_of_bytes(seg.read_bytes())
