"""Colours as recipes write them: hex, CSS names and [r, g, b], in both syntaxes."""

from __future__ import annotations

import pytest

from effects.catalog import default_registry
from effects.colors import CSS_COLORS, ColorError, canonical_color, parse_color
from effects.registry import EffectParamError
from interpreter import errors as E
from interpreter.canonical import format_sexp, format_yaml, recipe_id
from interpreter.loader import load_recipe
from interpreter.nodes import Recipe
from interpreter.validate import validate


def _load(text: str, filename: str) -> Recipe:
    recipe = load_recipe(text, filename, default_registry())
    validate(recipe, default_registry())
    return recipe


def _yaml(color: str, tint: str) -> str:
    return f"""\
name: c
steps:
  - id: bg
    type: SOURCE
    config: {{generator: color, color: {color}, duration: 1}}
  - id: fx
    type: EFFECT
    inputs: [bg]
    config: {{effect: tint, color: {tint}, amount: 0.5}}
output: fx
"""


def _sexp(color: str, tint: str) -> str:
    return f"""\
(recipe "c" :version "1.0"
  (def bg (source :generator color :color {color} :duration 1))
  (def fx (effect tint bg :color {tint} :amount 0.5))
  fx)
"""


@pytest.mark.parametrize(
    ("text", "rgb"),
    [
        ("#00ff80", (0, 255, 128)),
        ("#00FF80", (0, 255, 128)),
        ("#0f8", (0, 255, 136)),
        ("#0f8f", (0, 255, 136)),
        ("#00ff80ff", (0, 255, 128)),
        ("crimson", (220, 20, 60)),
        ("Crimson", (220, 20, 60)),
        ("rebeccapurple", (102, 51, 153)),
        ("grey", (128, 128, 128)),
        ("gray", (128, 128, 128)),
        ([0, 255.0, 128], (0, 255, 128)),
    ],
)
def test_parse_color_spellings(text: object, rgb: tuple[int, int, int]) -> None:
    assert parse_color(text) == tuple(float(c) for c in rgb)
    assert canonical_color(text) == list(rgb)
    assert all(isinstance(c, int) for c in canonical_color(text))


def test_css_table_is_level_4() -> None:
    assert len(CSS_COLORS) == 148
    assert CSS_COLORS["green"] == (0, 128, 0) and CSS_COLORS["lime"] == (0, 255, 0)
    assert all(name == name.lower() for name in CSS_COLORS)


@pytest.mark.parametrize(
    ("value", "message", "hint"),
    [
        ("crimsn", "unknown colour 'crimsn'", "did you mean 'crimson'?"),
        ("#12345", "not a hex colour", "hex digits"),
        ("#00ff8080", "alpha 128/255", "drop the alpha (#00ff80)"),
        ("#0f88", "alpha 136/255", "drop the alpha (#0f8)"),
        ([0, 0, 300], "channel 300", ""),
        ([1, 2, 3, 4], "expected [r, g, b]", "alpha"),
        ("rgb(1, 2, 3)", "colour functions", "#rrggbb"),
        (None, "expected a colour", "CSS colour name"),
    ],
)
def test_parse_color_errors(value: object, message: str, hint: str) -> None:
    with pytest.raises(ColorError) as ei:
        parse_color(value)
    assert message in ei.value.message
    assert hint in ei.value.hint


def test_effect_params_take_colour_spellings() -> None:
    tint = default_registry().get("tint")
    assert tint.resolve({"color": "#ff0000"})["color"] == (255.0, 0.0, 0.0)
    assert tint.resolve({"color": "navy"})["color"] == (0.0, 0.0, 128.0)
    with pytest.raises(EffectParamError, match="did you mean 'navy'"):
        tint.resolve({"color": "navyy"})


SPELLINGS = [
    ('"#00ff80"', '"#dc143c"'),
    ("'#00FF80'", "crimson"),
    ("[0, 255, 128]", "[220, 20, 60]"),
    ("[0.0, 255, 128.0]", "Crimson"),
]
SEXP_SPELLINGS = [
    ('"#00ff80"', "crimson"),
    ("#00ff80", '"Crimson"'),
    ("[0 255 128]", "#dc143c"),
]


def test_equivalent_spellings_have_one_recipe_id() -> None:
    ids = {recipe_id(_load(_yaml(c, t), "c.yaml")) for c, t in SPELLINGS}
    ids |= {recipe_id(_load(_sexp(c, t), "c.sexp")) for c, t in SEXP_SPELLINGS}
    assert len(ids) == 1
    recipe = _load(_yaml('"#00ff80"', "crimson"), "c.yaml")
    assert recipe.step("bg").config["params"]["color"] == [0, 255, 128]
    assert recipe.step("fx").config["params"]["color"] == [220, 20, 60]
    # the canonical form is written back as [r, g, b] and reads back the same
    for text, name in ((format_yaml(recipe), "f.yaml"), (format_sexp(recipe), "f.sexp")):
        assert "[0, 255, 128]" in text or "[0 255 128]" in text
        assert recipe_id(_load(text, name)) == recipe_id(recipe)


def test_a_different_colour_is_a_different_recipe() -> None:
    a = _load(_yaml('"#00ff80"', "crimson"), "c.yaml")
    b = _load(_yaml('"#00ff81"', "crimson"), "c.yaml")
    assert recipe_id(a) != recipe_id(b)


@pytest.mark.parametrize(
    ("text", "filename", "line", "column", "fragment", "hint"),
    [
        (_sexp('"#00ff80"', "crimsn"), "e.sexp", 3, 34, "tint.color: unknown colour", "crimson"),
        (_yaml('"#00ff80"', '"#ff000080"'), "e.yaml", 9, 35, "alpha 128/255", "#ff0000"),
        (_yaml('"#0g0"', "red"), "e.yaml", 5, 39, "not a hex colour", "hex digits"),
        (_yaml("[0, 255, 999]", "red"), "e.yaml", 5, 39, "channel 999", ""),
    ],
)
def test_bad_colours_are_positioned_errors(
    text: str, filename: str, line: int, column: int, fragment: str, hint: str
) -> None:
    with pytest.raises(E.ParamRangeError) as ei:
        _load(text, filename)
    err = ei.value
    assert (err.line, err.column) == (line, column), str(err)
    assert fragment in err.message
    assert hint in err.hint
    assert str(err).startswith(f"{filename}:{line}:{column}: ")
