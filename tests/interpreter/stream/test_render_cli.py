"""``artdag render`` (streamer/commands/render.py) in local mode."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from streamer.entry.commands import render


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    render.register(parser.add_subparsers())
    return parser.parse_args(["render", *argv])


def test_parse_effect() -> None:
    assert render.parse_effect("hue:degrees=90,flag=true,mode=x") == (
        "hue",
        {"degrees": 90, "flag": True, "mode": "x"},
    )
    assert render.parse_effect("invert") == ("invert", {})
    with pytest.raises(ValueError, match="expected k=v"):
        render.parse_effect("hue:90")


def test_demo_renders_locally(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    args = _parse(
        [
            "--out",
            str(out),
            "--duration",
            "2",
            "--size",
            "96x64",
            "--segment",
            "1",
            "--preset",
            "ultrafast",
            "--effect",
            "invert",
            "--sync",
        ]
    )
    assert args.func(args) == 0
    text = (out / "playlist.m3u8").read_text()
    assert text.count("#EXTINF") == 2 and "#EXT-X-ENDLIST" in text
    printed = capsys.readouterr().out
    assert "playlist_cid: Qm" in printed and printed.count("segment: ") == 2


def test_file_inputs_and_bad_effect(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _parse(
        [
            str(clip),
            str(clip),
            "--out",
            str(tmp_path / "o"),
            "--preset",
            "ultrafast",
            "--effect",
            "hue:degrees=45",
        ]
    )
    assert args.func(args) == 0
    assert "duration: 4.000 s" in capsys.readouterr().out
    bad = _parse([str(clip), "--out", str(tmp_path / "b"), "--effect", "invrt"])
    assert bad.func(bad) == 1
    assert "invert" in capsys.readouterr().err  # the suggestion


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = _parse([str(tmp_path / "nope.mp4"), "--out", str(tmp_path / "o")])
    assert args.func(args) == 1
    assert "no such file" in capsys.readouterr().err


async def test_render_demo_core(tmp_path: Path) -> None:
    from effects.frame import VideoFormat
    from streamer.entry.demo import render_demo

    updates: list[object] = []

    async def on_update(u: object) -> None:
        updates.append(u)

    result = await render_demo(
        tmp_path / "d",
        2.0,
        video_format=VideoFormat(96, 64, 25, 1),
        preset="ultrafast",
        segment_duration=1.0,
        on_playlist_update=on_update,
    )
    assert result.duration == pytest.approx(2.0)
    assert len(result.segments) == 2
    assert updates and getattr(updates[-1], "ended", False)


YAML = """\
name: t
version: "1.0"
inputs:
  video: {type: video}
steps:
  - id: a
    type: SEGMENT
    inputs: [video]
    config: {start: 0.4, duration: 0.8}
  - id: fx
    type: EFFECT
    inputs: [a]
    config: {effect: invert}
  - id: pat
    type: SOURCE
    config: {generator: testsrc, duration: 1.0}
  - id: seq
    type: SEQUENCE
    inputs: [fx, pat]
    config: {transition: crossfade, duration: 0.2}
output: seq
"""


@pytest.mark.parametrize(
    ("name", "text", "seconds"),
    [
        ("r.yaml", YAML, 1.6),  # 0.8 + 1.0 - 0.2
        (
            "r.sexp",
            '(recipe "test" :version "1.0" (input video :type video) (-> (source :input "video") (effect invert)))',
            2.0,
        ),
    ],
)
def test_recipe_files_render(
    clip: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    text: str,
    seconds: float,
) -> None:
    path = tmp_path / name
    path.write_text(text)
    args = _parse(
        ["--recipe", str(path), str(clip), "--out", str(tmp_path / "o"), "--preset", "ultrafast"]
    )
    assert args.func(args) == 0, capsys.readouterr().err
    assert f"duration: {seconds:.3f} s" in capsys.readouterr().out


def test_recipe_errors_have_positions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(YAML.replace("effect: invert", "effect: invrt"))
    args = _parse(["--recipe", str(path), "--out", str(tmp_path / "o")])
    assert args.func(args) == 1
    err = capsys.readouterr().err
    assert "bad.yaml:" in err and "invrt" in err
