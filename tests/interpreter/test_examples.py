"""Acceptance: every example recipe checks and plans; twins share recipe id and plan id."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from interpreter.canonical import format_sexp, format_yaml, recipe_id
from interpreter.loader import load_file
from interpreter.planner import plan_recipe
from interpreter.validate import validate
from streamer.entry.commands import plan as plan_cmd
from streamer.entry.commands import recipe as recipe_cmd

RECIPES = Path(__file__).resolve().parents[2] / "recipes"
FILES = sorted(p for p in RECIPES.iterdir() if p.suffix in (".yaml", ".sexp"))
STEMS = sorted({p.stem for p in FILES})


def _cids(path: Path) -> dict[str, str]:
    return {i.name: f"Qm{i.name}" for i in load_file(path).inputs}


def test_there_are_examples_in_both_syntaxes() -> None:
    assert {"beat-sync", "audio-reactive-live"} <= set(STEMS)
    for stem in STEMS:
        assert (RECIPES / f"{stem}.yaml").exists() and (RECIPES / f"{stem}.sexp").exists()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_example_checks_and_plans(path: Path) -> None:
    recipe = load_file(path)
    kinds = validate(recipe)
    assert kinds[recipe.output] in ("video", "av")
    plan = plan_recipe(recipe, _cids(path))
    assert plan.step(plan.output).step_id == recipe.output
    assert len({s.cache_id for s in plan.steps}) == len(plan.steps)


@pytest.mark.parametrize("stem", STEMS)
def test_twins_have_the_same_recipe_and_plan_id(stem: str) -> None:
    a, b = load_file(RECIPES / f"{stem}.yaml"), load_file(RECIPES / f"{stem}.sexp")
    assert recipe_id(a) == recipe_id(b)
    cids = _cids(RECIPES / f"{stem}.yaml")
    assert plan_recipe(a, cids).plan_id == plan_recipe(b, cids).plan_id


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("syntax", ["yaml", "sexp"])
def test_example_fmt_round_trip(path: Path, syntax: str, tmp_path: Path) -> None:
    recipe = load_file(path)
    out = tmp_path / f"fmt.{syntax}"
    out.write_text(format_sexp(recipe) if syntax == "sexp" else format_yaml(recipe))
    again = load_file(out)
    assert again.syntax == syntax
    assert recipe_id(again) == recipe_id(recipe)


def test_live_demo_needs_no_inputs_and_reacts_to_audio() -> None:
    recipe = load_file(RECIPES / "audio-reactive-live.sexp")
    assert recipe.inputs == ()
    plan = plan_recipe(recipe, {})
    generators = {s.config["generator"] for s in plan.steps if s.node_type == "SOURCE"}
    assert generators == {"testsrc", "clicks"}
    exprs = json.dumps([s.config for s in plan.steps if s.node_type == "EFFECT"])
    assert '"var": "bass"' in exprs and '"op": "decay"' in exprs


def test_cli_check_plan_fmt_id(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert recipe_cmd.run_check(argparse.Namespace(files=FILES)) == 0
    out = capsys.readouterr().out
    assert out.count(": ok: ") == len(FILES)

    path = RECIPES / "beat-sync.yaml"
    video = tmp_path / "v.bin"
    video.write_bytes(b"not really a video")
    args = argparse.Namespace(
        file=path, input=[f"video={video}", "audio=QmAudio"], param=[], json=True, cache_dir=None
    )
    assert plan_cmd.run(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["inputs"]["audio"] == "QmAudio" and doc["inputs"]["video"].startswith("Qm")
    assert [s["level"] for s in doc["steps"]] == [0, 0, 1, 2]

    (tmp_path / doc["steps"][2]["cache_id"]).write_text("")
    args = argparse.Namespace(
        file=path, input=["video=QmV", "audio=QmAudio"], param=[], json=False, cache_dir=tmp_path
    )
    assert plan_cmd.run(args) == 0
    text = capsys.readouterr().out
    assert "level 2:" in text and "cached" in text and "3 to run" in text

    assert (
        plan_cmd.run(
            argparse.Namespace(file=path, input=["video=QmV"], param=[], json=False, cache_dir=None)
        )
        == 1
    )
    assert "not bound" in capsys.readouterr().err
    assert (
        plan_cmd.run(
            argparse.Namespace(file=path, input=["video"], param=[], json=False, cache_dir=None)
        )
        == 2
    )

    assert recipe_cmd.run_id(argparse.Namespace(file=path)) == 0
    rid = capsys.readouterr().out.strip()
    assert rid == recipe_id(load_file(RECIPES / "beat-sync.sexp"))
    assert (
        recipe_cmd.run_fmt(argparse.Namespace(file=RECIPES / "beat-sync.sexp", syntax="yaml")) == 0
    )
    formatted = tmp_path / "f.yaml"
    formatted.write_text(capsys.readouterr().out)
    assert recipe_id(load_file(formatted)) == rid
