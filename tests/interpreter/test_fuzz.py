"""Property tests: whatever the text, only InterpreterError escapes.

``ARTDAG_FUZZ_EXAMPLES`` raises the number of examples (300 by default).
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from effects.registry import Registry
from interpreter.errors import InterpreterError
from interpreter.expr import FrameContext, compile_expr, parse_expr_text
from interpreter.loader import load_recipe
from interpreter.planner import plan_recipe
from interpreter.validate import validate
from tests.interpreter.recipe_registry import small_registry

RECIPES = Path(__file__).resolve().parents[2] / "recipes"
EXAMPLES = [p.read_text() for p in sorted(RECIPES.iterdir()) if p.suffix in (".yaml", ".sexp")]
REGISTRY: Registry = small_registry()
SETTINGS = settings(
    max_examples=int(os.environ.get("ARTDAG_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _run(text: str) -> None:
    try:
        recipe = load_recipe(text, "fuzz", REGISTRY)
        validate(recipe, REGISTRY)
        plan_recipe(recipe, {i.name: "Qm" + i.name for i in recipe.inputs}, registry=REGISTRY)
    except InterpreterError as exc:
        assert str(exc).startswith("fuzz")  # every error names the file


@SETTINGS
@given(st.text(max_size=400))
def test_arbitrary_text(text: str) -> None:
    _run(text)


@SETTINGS
@given(st.text(alphabet='()[]:";\n abcdefxyz0123456789.-+*>t', max_size=300))
def test_sexp_like_text(text: str) -> None:
    _run('(recipe "f" ' + text)
    _run(text)


@SETTINGS
@given(st.text(alphabet="{}[]:-,\n #'\"!&*|>abcdefxyz0123 ", max_size=300))
def test_yaml_like_text(text: str) -> None:
    _run("name: f\n" + text)


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 1000),
    st.floats(allow_nan=True),
    st.text(max_size=12),
)
_keys = st.sampled_from(
    [
        "name",
        "version",
        "steps",
        "output",
        "inputs",
        "params",
        "id",
        "type",
        "config",
        "effect",
        "video",
        "SOURCE",
        "EFFECT",
        "SEQUENCE",
        "generator",
        "input",
        "radius",
        "features",
        "mode",
        "x",
    ]
)
_values = st.recursive(
    _scalars | _keys,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(_keys, c, max_size=5),
    max_leaves=25,
)


@SETTINGS
@given(st.dictionaries(_keys, _values, max_size=7))
def test_structured_yaml_documents(doc: dict[str, object]) -> None:
    _run(yaml.safe_dump(doc))


@SETTINGS
@given(st.sampled_from(EXAMPLES), st.integers(0, 10_000), st.integers(0, 20), st.text(max_size=5))
def test_mutated_examples(text: str, at: int, cut: int, insert: str) -> None:
    i = at % (len(text) + 1)
    _run(text[:i] + insert + text[i + cut :])


@SETTINGS
@given(st.text(alphabet="()+-*/%<>=!, .0123456789tbeasinclmpfrxdy_", max_size=80))
def test_expression_strings(text: str) -> None:
    try:
        p = compile_expr(parse_expr_text(text))
    except InterpreterError:
        return
    value = p(FrameContext(t=1.5, frame=3, beat=2, beat_phase=0.5, since_beat=0.1, energy=0.3))
    assert isinstance(value, float)
