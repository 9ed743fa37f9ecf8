"""Expressions: both spellings, precedence, compilation, vector path, bounds and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from interpreter.errors import ExpressionError, InterpreterError
from interpreter.expr import FrameContext, compile_expr, parse_expr_text
from interpreter.nodes import Pos


@pytest.mark.parametrize(
    ("infix", "sexp"),
    [
        ("90 * t + sin(t)", "(+ (* 90 t) (sin t))"),
        ("1 + 2 + 3", "(+ 1 2 3)"),
        ("-t", "(- t)"),
        ("if(bass > 0.5, 1, 0)", "(if (> bass 0.5) 1 0)"),
        ("clamp(energy * 2, 0, 1)", "(clamp (* energy 2) 0 1)"),
        ("a - b - c", "(- a b c)"),
    ],
)
def test_infix_and_sexp_spellings_give_the_same_tree(infix: str, sexp: str) -> None:
    assert parse_expr_text(infix) == parse_expr_text(sexp)
    assert parse_expr_text(infix).to_json() == parse_expr_text(sexp).to_json()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("2 ** 3 ** 2", 512.0),
        ("-2 ** 2", -4.0),
        ("10 - 4 - 3", 3.0),
        ("1 < 2 and 3 < 2", 0.0),
        ("not 0 or 0", 1.0),
        ("7 % 4", 3.0),
        ("1 / 0", 0.0),
        ("lerp(10, 20, 0.25)", 12.5),
        ("clamp(5, 0, 1)", 1.0),
        ("min(3, 4) + max(3, 4)", 7.0),
    ],
)
def test_precedence_and_values(text: str, value: float) -> None:
    p = compile_expr(parse_expr_text(text))
    assert p.constant
    assert p(FrameContext()) == pytest.approx(value)


def test_frame_variables_decay_and_lfo() -> None:
    p = compile_expr(parse_expr_text("decay(4) + lfo(0.5)"))
    assert not p.constant
    ctx = FrameContext(t=0.5, since_beat=0.25)
    assert p(ctx) == pytest.approx(math.exp(-1.0) + 0.5 + 0.5 * math.sin(2 * math.pi * 0.25))


def test_params_fold_to_constants() -> None:
    p = compile_expr(parse_expr_text("intensity * 3"), params={"intensity": 2})
    assert p.constant and p.value == 6.0


def test_vector_path_matches_scalar_path() -> None:
    e = parse_expr_text(
        "if(bass > 0.5, 90 * t + decay(3), lerp(0, 1, beat_phase)) / (1 + frame % 3)"
    )
    p = compile_expr(e)
    rng = np.random.default_rng(1)
    n = 50
    arrays = {
        "t": np.arange(n) / 30,
        "frame": np.arange(n, dtype=float),
        "bass": rng.random(n),
        "since_beat": rng.random(n),
        "beat_phase": rng.random(n),
    }
    got = p.evaluate_array(arrays)
    want = [
        p(
            FrameContext(
                t=arrays["t"][i],
                frame=i,
                bass=arrays["bass"][i],
                since_beat=arrays["since_beat"][i],
                beat_phase=arrays["beat_phase"][i],
            )
        )
        for i in range(n)
    ]
    assert got.shape == (n,)
    np.testing.assert_allclose(got, want)
    assert compile_expr(3.5).evaluate_array({}, 4).tolist() == [3.5] * 4


def test_unknown_variable_points_at_it_with_suggestion() -> None:
    with pytest.raises(ExpressionError) as ei:
        compile_expr(parse_expr_text("2 * bas", Pos(3, 10), "r.yaml"))
    assert (ei.value.line, ei.value.column) == (3, 14)
    assert "'bass'" in ei.value.hint


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("3 * * 2", 5),
        ("sinn(t)", 1),
        ("(1 + 2", 7),
        ("1 $ 2", 3),
        ("lerp(1, 2)", 1),
        ("", 1),
        ("(+ 1", 1),
    ],
)
def test_malformed_expressions_raise_positioned_errors(text: str, column: int) -> None:
    with pytest.raises(ExpressionError) as ei:
        parse_expr_text(text, Pos(2, 1), "r.yaml")
    assert ei.value.line == 2
    assert ei.value.column == column


def test_depth_and_size_are_bounded() -> None:
    with pytest.raises(ExpressionError, match="deep"):
        parse_expr_text("(" * 40 + "t" + ")" * 40)
    wide = "t"
    for _ in range(8):  # a balanced tree: 256 leaves, shallow but too many terms
        wide = f"({wide} + {wide})"
    with pytest.raises(ExpressionError, match="large"):
        parse_expr_text(wide)
    assert parse_expr_text(" + ".join(["t"] * 20)).op == "+"
    with pytest.raises(InterpreterError):
        parse_expr_text("-" * 5000 + "1")
