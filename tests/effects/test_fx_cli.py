"""``artdag effects list/show`` (the subcommand module, driven through argparse)."""

from __future__ import annotations

import argparse
import json

import pytest

from effects.catalog import default_registry
from streamer.entry.commands import effects as cmd


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="artdag")
    cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_list_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert _main(["effects", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(default_registry())
    assert any(line.startswith("transform ") and "geometric" in line for line in out)


def test_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert _main(["effects", "list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    names = {d["name"] for d in data}
    assert {"invert", "blur", "gaussian_blur", "hue", "saturation", "transform"} <= names
    blur = next(d for d in data if d["name"] == "blur")
    assert blur["params"][0] == {
        "name": "radius",
        "type": "float",
        "default": 2.0,
        "min": 0.0,
        "max": 200.0,
        "unit": "px",
        "doc": "blur radius, rounded to whole pixels",
        "animatable": True,
    }
    assert next(d for d in data if d["name"] == "echo")["temporal"] is True


def test_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert _main(["effects", "show", "transform"]) == 0
    out = capsys.readouterr().out
    assert "rotate" in out and "rad" in out and "one of black, clamp, wrap, mirror" in out
    assert _main(["effects", "show", "hue", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["params"][0]["name"] == "degrees"


def test_show_unknown_suggests(capsys: pytest.CaptureFixture[str]) -> None:
    assert _main(["effects", "show", "blurr"]) == 2
    assert "did you mean 'blur'" in capsys.readouterr().err
