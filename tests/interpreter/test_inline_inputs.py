"""Inputs declared by use: ``(source :input NAME)`` in a recipe that declares none."""

from __future__ import annotations

import pytest

from effects.catalog import default_registry
from interpreter import errors as E
from interpreter.canonical import format_sexp, format_yaml, recipe_id
from interpreter.loader import load_recipe
from interpreter.nodes import Recipe
from interpreter.planner import plan_recipe
from interpreter.validate import validate

#: The specification's own S-expression example.
SPEC = '(recipe "test" :version "1.0" (-> (source :input "video") (effect invert)))'
DECLARED = '(recipe "test" :version "1.0" (input video :type video) (-> video (effect invert)))'
DECLARED_SOURCE = """\
(recipe "test" :version "1.0"
  (input video :type video)
  (-> (source :input video) (effect invert)))
"""
YAML_INLINE = """\
name: test
version: "1.0"
steps:
  - {id: video, type: SOURCE, config: {input: video}}
  - {id: effect_1, type: EFFECT, inputs: [video], config: {effect: invert}}
output: effect_1
"""
YAML_DECLARED = """\
name: test
version: "1.0"
inputs: {video: {type: video}}
steps:
  - {id: effect_1, type: EFFECT, inputs: [video], config: {effect: invert}}
output: effect_1
"""


def _load(text: str, filename: str = "t.sexp") -> Recipe:
    recipe = load_recipe(text, filename, default_registry())
    validate(recipe, default_registry())
    return recipe


def test_the_specification_example_declares_its_input() -> None:
    recipe = _load(SPEC)
    assert [(i.name, i.type) for i in recipe.inputs] == [("video", "video")]
    assert recipe.step("video").config == {"input": "video"}
    assert recipe.inputs[0].pos.line == 1 and recipe.inputs[0].pos.column == 50
    plan = plan_recipe(recipe, {"video": "QmVideo"})
    assert plan.inputs == {"video": "QmVideo"}
    assert plan.step("video").cache_id == "QmVideo"


@pytest.mark.parametrize(
    ("text", "filename"),
    [
        (DECLARED, "d.sexp"),
        (DECLARED_SOURCE, "s.sexp"),
        (YAML_INLINE, "i.yaml"),
        (YAML_DECLARED, "d.yaml"),
    ],
)
def test_same_recipe_id_as_the_declared_form(text: str, filename: str) -> None:
    assert recipe_id(_load(text, filename)) == recipe_id(_load(SPEC))
    cids = {"video": "QmVideo"}
    assert (
        plan_recipe(_load(text, filename), cids).plan_id == plan_recipe(_load(SPEC), cids).plan_id
    )


def test_formatted_inline_recipe_declares_the_input() -> None:
    recipe = _load(SPEC)
    for text, name in ((format_sexp(recipe), "f.sexp"), (format_yaml(recipe), "f.yaml")):
        again = _load(text, name)
        assert again.inputs[0].name == "video" and recipe_id(again) == recipe_id(recipe)


def test_one_step_per_input_however_often_it_is_named() -> None:
    recipe = _load(
        """(recipe "t"
             (def out (blend (source :input "clip") (-> (source :input "clip") (effect invert))))
             out)"""
    )
    assert [i.name for i in recipe.inputs] == ["clip"]
    assert sum(1 for s in recipe.steps if s.type.value == "SOURCE") == 1


@pytest.mark.parametrize(
    ("body", "types"),
    [
        # video port, audio port
        (
            '(def m (mux (source :input "v") (source :input "a"))) m',
            {"v": "video", "a": "audio"},
        ),
        # SEGMENT and SEQUENCE pass the question on to their consumers
        (
            '(def s (sequence (segment (source :input "v") :duration 1) (source :input "w")))'
            ' (def m (mux s (source :input "a"))) m',
            {"v": "video", "w": "video", "a": "audio"},
        ),
        # used as video and analysed for beats: both
        (
            '(def b (analyze (source :input "clip") :features [beats]))'
            ' (def o (beat-sync (source :input "clip") b)) o',
            {"clip": "av"},
        ),
        # analysed only: the features decide
        (
            '(def b (analyze (source :input "music") :features [beats energy]))'
            " (def o (effect hue (source :generator testsrc :duration 1) b :degrees (* 90 energy))) o",
            {"music": "audio"},
        ),
    ],
)
def test_type_inferred_from_use(body: str, types: dict[str, str]) -> None:
    recipe = _load(f'(recipe "t" {body})')
    assert {i.name: i.type for i in recipe.inputs} == types


def test_a_recipe_that_declares_inputs_must_declare_all() -> None:
    with pytest.raises(E.DanglingInputError) as ei:
        _load(
            '(recipe "t" (input music :type audio) (def m (mux (source :input "vidoe") music)) m)'
        )
    assert "no recipe input named 'vidoe'" in ei.value.message
    assert "declare it with (input vidoe :type video)" in ei.value.hint
    with pytest.raises(E.DanglingInputError) as ei:
        _load(
            '(recipe "t" (input video :type video) (input music :type audio)'
            ' (def m (mux (source :input "vidoe") music)) m)'
        )
    assert ei.value.hint == "did you mean 'video'?"


def test_a_def_cannot_reuse_an_inline_input_name() -> None:
    with pytest.raises(E.RecipeSyntaxError, match="already the step of"):
        _load(
            '(recipe "t" (def a (-> (source :input "video") (effect invert)))'
            " (def video (effect blur a)) video)"
        )
