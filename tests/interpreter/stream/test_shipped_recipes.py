"""Every recipe in recipes/ renders with ``artdag render`` as shipped (and the spec's example).

Each is rendered briefly through the CLI entry point in-process
(``streamer.entry.cli.main``), its declared inputs bound to media generated
here with PyAV (a clip with a tone for video inputs, a click track for audio
ones); ffprobe must read the HLS output back.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from interpreter.loader import load_file
from streamer.entry.cli import main
from tests.interpreter.stream.stream_media import make_clip
from tests.media import click_track, write_wav

RECIPES = Path(__file__).resolve().parents[3] / "recipes"
SHIPPED = sorted(p for p in RECIPES.iterdir() if p.suffix in (".yaml", ".sexp"))
SECONDS = 1.5
#: The specification's own S-expression example (its input declared by the source).
SPEC_EXAMPLE = '(recipe "test" :version "1.0" (-> (source :input "video") (effect invert)))\n'

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Generated inputs by recipe input type: a 4 s 160x120 clip with a tone, 6 s of clicks."""
    root = tmp_path_factory.mktemp("shipped-media")
    clip = make_clip(root / "clip.mp4", width=160, height=120, seconds=4.0)
    clicks = write_wav(root / "clicks.wav", click_track(np.arange(12) * 0.5, 6.0), 48000)
    return {"video": clip, "image": clip, "av": clip, "audio": clicks}


def _probe(ffprobe: str, playlist: Path) -> tuple[float, list[dict[str, Any]]]:
    """Duration and streams (codec_type, width, height) of an HLS playlist, as ffprobe reads it."""
    out = subprocess.run(
        [
            ffprobe,
            "-v",
            "error",
            "-show_entries",
            "format=duration:stream=codec_type,width,height",
            "-of",
            "json",
            str(playlist),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    doc = json.loads(out.stdout)
    return float(doc["format"]["duration"]), list(doc["streams"])


def _render(recipe: Path, out: Path, *extra: str) -> int:
    return main(
        [
            "render",
            "--recipe",
            str(recipe),
            *extra,
            "--out",
            str(out),
            "--duration",
            str(SECONDS),
            "--segment",
            "1",
            "--preset",
            "ultrafast",
        ]
    )


def _check_output(ffprobe: str, out: Path, audio: bool) -> None:
    playlist = out / "playlist.m3u8"
    text = playlist.read_text()
    assert "#EXT-X-ENDLIST" in text
    segments = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert len(segments) == 2 and all((out / s).stat().st_size > 0 for s in segments)
    duration, streams = _probe(ffprobe, playlist)
    assert duration == pytest.approx(SECONDS, abs=0.1)
    kinds = sorted(str(s["codec_type"]) for s in streams)
    assert kinds in ([["audio", "video"]] if audio else [["video"], ["audio", "video"]])


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_recipe_renders(
    path: Path, media: dict[str, Path], tmp_path: Path, ffprobe: str
) -> None:
    recipe = load_file(path)
    bind = [f"--input={d.name}={media[d.type]}" for d in recipe.inputs]
    out = tmp_path / "out"
    assert _render(path, out, *bind) == 0
    audio = recipe.step(recipe.output).type.value == "MUX"
    _check_output(ffprobe, out, audio)


def test_spec_example_renders_with_its_input_bound_by_position(
    media: dict[str, Path], tmp_path: Path, ffprobe: str
) -> None:
    recipe = tmp_path / "spec.sexp"
    recipe.write_text(SPEC_EXAMPLE)
    out = tmp_path / "out"
    assert _render(recipe, out, str(media["video"])) == 0
    _check_output(ffprobe, out, audio=False)
    _, streams = _probe(ffprobe, out / "playlist.m3u8")
    assert {"codec_type": "video", "width": 160, "height": 120} in streams
