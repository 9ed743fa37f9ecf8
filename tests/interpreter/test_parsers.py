"""Parsers: both syntaxes into one graph model with positions; canonical round trips."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from effects.registry import Registry
from interpreter.canonical import canonical, format_sexp, format_yaml, recipe_id
from interpreter.errors import InterpreterError, RecipeSyntaxError, UnknownParamError
from interpreter.loader import detect_syntax
from interpreter.nodes import Expr, NodeType, Pos, Recipe
from interpreter.validate import validate

Load = Callable[..., Recipe]

YAML = """\
name: demo
version: "2.1"
description: "a demo"
inputs:
  video: {type: video, description: "clip"}
params:
  speed: {default: 90, min: 0, max: 360, description: "degrees per second"}
  mix: 0.5
steps:
  - id: spin
    type: EFFECT
    inputs: [video]
    config: {effect: hue, degrees: "speed * t"}
  - id: soft
    type: EFFECT
    inputs: [spin]
    config:
      effect: blur
      radius: 2
  - id: gen
    type: SOURCE
    config: {generator: color, color: [10, 20, 30], duration: 5}
  - id: mixed
    type: EFFECT
    inputs: [soft, gen]
    config: {effect: blend, mode: add, opacity: "(* mix 2)"}
output: mixed
"""

SEXP = """\
; the same recipe
(recipe "demo" :version "2.1" :description "a demo"
  (input video :type video :description "clip")
  (param speed 90 :min 0 :max 360 :description "degrees per second")
  (param mix 0.5)
  (def spin (effect hue video :degrees (* speed t)))
  (def soft (effect blur spin :radius 2))
  (def gen (source :generator color :color [10 20 30] :duration 5))
  (def mixed (effect blend soft gen :mode add :opacity (* mix 2)))
  mixed)
"""


def test_yaml_keeps_positions_and_normalises(load: Load) -> None:
    r = load(YAML)
    assert (r.name, r.version, r.description, r.syntax) == ("demo", "2.1", "a demo", "yaml")
    spin = r.step("spin")
    assert spin.pos == Pos(10, 9)
    assert spin.type is NodeType.EFFECT
    assert spin.config == {
        "effect": "hue",
        "params": {"degrees": Expr("*", (Expr("var", ("speed",)), Expr("var", ("t",))))},
    }
    assert spin.where("params.degrees").line == 13
    assert r.step("soft").where("params.radius") == Pos(19, 15)
    # the bare input reference became an implicit SOURCE
    assert r.step("video").type is NodeType.SOURCE and dict(r.step("video").config) == {
        "input": "video"
    }
    assert r.step("mixed").config["params"]["mode"] == "add"
    assert [p.name for p in r.params] == ["speed", "mix"] and r.params[0].max == 360
    validate(r)  # the real catalog accepts it too


def test_sexp_twin_has_the_same_canonical_form_and_id(load: Load, registry: Registry) -> None:
    a, b = load(YAML), load(SEXP, "t.sexp")
    assert b.syntax == "sexp"
    validate(b, registry)
    assert canonical(a) == canonical(b)
    assert recipe_id(a) == recipe_id(b)


def test_threading_inserts_inputs_and_generates_ids(load: Load) -> None:
    r = load(
        '(recipe "th" (input video :type video)\n'
        "  (def soft (-> video (effect hue :degrees 9) (effect blur :radius 2) (resize :width 64 :height 64)))\n"
        "  soft)",
        "t.sexp",
    )
    assert r.step("effect_1").inputs == ("video",)
    assert r.step("effect_2").inputs == ("effect_1",)
    assert r.step("effect_2").config == {"effect": "blur", "params": {"radius": 2}}
    assert r.step("soft").inputs == ("effect_2",) and r.step("soft").type is NodeType.RESIZE
    assert r.step("effect_1").pos == Pos(2, 23)
    assert r.step("soft").pos == Pos(2, 8)


@pytest.mark.parametrize("syntax", ["yaml", "sexp"])
def test_fmt_round_trip_preserves_the_id(load: Load, syntax: str) -> None:
    for text, name in ((YAML, "t.yaml"), (SEXP, "t.sexp")):
        r = load(text, name)
        out = format_yaml(r) if syntax == "yaml" else format_sexp(r)
        again = load(out, "again")
        assert again.syntax == syntax
        assert recipe_id(again) == recipe_id(r)
        assert (format_yaml(again) if syntax == "yaml" else format_sexp(again)) == out


def test_reordered_keys_and_whitespace_do_not_change_the_id(load: Load) -> None:
    shuffled = """\
output: mixed
steps:
  - config: {opacity: "mix*2", mode: add, effect: blend}
    inputs: [soft, gen]
    type: EFFECT
    id: mixed
  - {id: gen, type: SOURCE, config: {duration: 5.0, color: [10, 20, 30], generator: color}}
  - id: soft
    inputs: [spin]
    type: EFFECT
    config: {radius: 2.0, effect: blur}
  - id: spin
    type: EFFECT
    inputs: [video]
    config: {degrees: "speed*t", effect: hue}
params:
  mix: 0.5
  speed: {max: 360, default: 90, description: "degrees per second", min: 0}
inputs:
  video: {description: "clip", type: video}
description: "a demo"
version: "2.1"
name: demo
"""
    assert recipe_id(load(shuffled)) == recipe_id(load(YAML))


def test_sexp_comments_strings_keywords_and_booleans(load: Load) -> None:
    r = load(
        '(recipe "s" ; name\n'
        "  (input a :type audio) (input v :type video)\n"
        "  (def m (mux v a :shortest false)) ; trailing\n"
        "  m)",
        "s.sexp",
    )
    assert r.step("m").config == {"shortest": False}
    assert r.step("m").type is NodeType.MUX


def test_detect_syntax() -> None:
    assert detect_syntax("; c\n\n  (recipe)") == "sexp"
    assert detect_syntax("name: x") == "yaml"
    assert detect_syntax("") == "yaml"


@pytest.mark.parametrize(
    ("text", "cls", "pos"),
    [
        ("name: x\nsteps: []\noutput: a\nfoo: 1\n", UnknownParamError, (4, 1)),
        ("name: x\nsteps: [1]\noutput: a\n", RecipeSyntaxError, (2, 9)),
        (
            "name: x\nsteps:\n  - id: a\n    id: b\n    type: SOURCE\noutput: a\n",
            RecipeSyntaxError,
            (4, 5),
        ),
        ("- a\n- b\n", RecipeSyntaxError, (1, 1)),
        ("name: x\noutput: a\n", RecipeSyntaxError, (1, 1)),
        ("!!python/object:os.system x\n", RecipeSyntaxError, (1, 1)),
        ('(recipe "x" (def a (effect invert b)) a) (extra)', RecipeSyntaxError, (1, 42)),
        ('(recipe "x" (wibble a))', UnknownParamError, (1, 14)),
        ('(recipe "x" :versoin "1")', UnknownParamError, (1, 13)),
        ('(recipe "x" (def a (source :generator "testsrc" :width)) a)', RecipeSyntaxError, (1, 49)),
        ('(recipe "x" (def a (source :n "\\q")) a)', RecipeSyntaxError, (1, 33)),
        ("(recipe x)", RecipeSyntaxError, (1, 9)),
    ],
)
def test_shape_errors_are_positioned(
    load: Load, text: str, cls: type[InterpreterError], pos: tuple[int, int]
) -> None:
    with pytest.raises(cls) as ei:
        load(text)
    assert (ei.value.line, ei.value.column) == pos, str(ei.value)
