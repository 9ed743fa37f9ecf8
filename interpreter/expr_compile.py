"""Compilation of expression trees into closures: one value per frame, or arrays of them."""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from interpreter.expr_context import FRAME_VARS, FrameContext
from interpreter.expr_functions import SCALAR_OPS, VECTOR_OPS
from interpreter.expr_tree import check_bounds, expr_error, expr_vars, find_var
from interpreter.nodes import Expr, Pos

__all__ = ["Param", "compile_expr"]

Fn = Callable[[Any], Any]


def _build(
    e: Expr, consts: Mapping[str, float], ops: Mapping[str, Callable[..., Any]], vector: bool
) -> Fn:
    """Compile a tree into a closure over a context (FrameContext or a dict of arrays)."""
    if e.op == "num":
        v = float(e.args[0])
        return lambda ctx: v
    if e.op == "var":
        name = e.args[0]
        if name in consts:
            k = consts[name]
            return lambda ctx: k
        if vector:
            return lambda ctx: ctx[name]
        return lambda ctx: getattr(ctx, name)
    if e.op == "if":
        c, a, b = (_build(x, consts, ops, vector) for x in e.args)
        if vector:
            return lambda ctx: np.where(np.asarray(c(ctx)) != 0, a(ctx), b(ctx))
        return lambda ctx: a(ctx) if c(ctx) else b(ctx)
    if e.op == "lfo":
        rate = _build(e.args[0], consts, ops, vector)
        phase = _build(e.args[1], consts, ops, vector) if len(e.args) > 1 else (lambda ctx: 0.0)
        t = _build(Expr("var", ("t",)), consts, ops, vector)
        sin = ops["sin"]
        return lambda ctx: 0.5 + 0.5 * sin(2 * math.pi * (rate(ctx) * t(ctx) + phase(ctx)))
    if e.op == "decay":
        rate = _build(e.args[0], consts, ops, vector)
        since = _build(Expr("var", ("since_beat",)), consts, ops, vector)
        exp = ops["exp"]
        return lambda ctx: exp(-rate(ctx) * since(ctx))
    fn = ops[e.op]
    parts = [_build(a, consts, ops, vector) for a in e.args]
    if len(parts) == 1:
        (p0,) = parts
        return lambda ctx: fn(p0(ctx))
    if len(parts) == 2:
        p0, p1 = parts
        return lambda ctx: fn(p0(ctx), p1(ctx))
    return lambda ctx: fn(*(p(ctx) for p in parts))


class Param:
    """A compiled parameter: a constant or a per-frame function.

    Attributes:
        constant: True when the value does not change from frame to frame.
        expr: The tree it was compiled from (None for a plain constant).
    """

    __slots__ = ("_consts", "_scalar", "_vector", "constant", "expr", "value")

    def __init__(self, value: float | None, expr: Expr | None, consts: Mapping[str, float]) -> None:
        self.expr = expr
        self._consts = consts
        if expr is None:
            self.constant = True
            self.value = float(value or 0.0)
            self._scalar: Fn = lambda ctx: self.value
            self._vector: Fn | None = None
            return
        self._scalar = _build(expr, consts, SCALAR_OPS, vector=False)
        self._vector = None
        self.constant = not (expr_vars(expr) - set(consts)) - {"pi"}
        self.value = float(self._scalar(FrameContext())) if self.constant else math.nan

    def __call__(self, ctx: FrameContext) -> float:
        """The value for one frame."""
        return float(self._scalar(ctx))

    def evaluate_array(self, arrays: Mapping[str, np.ndarray], n: int | None = None) -> np.ndarray:
        """Values for many frames at once.

        Args:
            arrays: Frame variables as equal-length arrays (missing ones are 0).
            n: Number of frames (defaults to the length of the arrays).

        Returns:
            float64 array of length ``n``.
        """
        if n is None:
            n = len(next(iter(arrays.values()))) if arrays else 1
        if self.constant:
            return np.full(n, self.value)
        if self._vector is None:
            assert self.expr is not None
            self._vector = _build(self.expr, self._consts, VECTOR_OPS, vector=True)
        ctx = {name: np.asarray(arrays.get(name, np.zeros(n)), dtype=float) for name in FRAME_VARS}
        out = np.asarray(self._vector(ctx), dtype=float)
        return np.broadcast_to(out, (n,)).copy()


def compile_expr(
    value: Expr | float | int | bool,
    pos: Pos = Pos(0, 0),
    params: Mapping[str, float] | None = None,
    file: str = "<recipe>",
    line_text: str = "",
) -> Param:
    """Compile a constant or an expression tree into a :class:`Param`.

    Args:
        value: A number or an :class:`Expr`.
        pos: Where the value is written (for errors).
        params: Recipe param values by name (folded in as constants).
        file: File name for errors.
        line_text: Source line for errors.

    Raises:
        ExpressionError: Unknown variable, or a value that is not numeric.
    """
    if isinstance(value, bool):
        return Param(float(value), None, {})
    if isinstance(value, int | float):
        return Param(float(value), None, {})
    if not isinstance(value, Expr):
        raise expr_error(f"expected a number or an expression, got {value!r}", pos, file, line_text)
    consts = {"pi": math.pi, **{k: float(v) for k, v in (params or {}).items()}}
    check_bounds(value, file)
    for name in sorted(expr_vars(value)):
        if name not in FRAME_VARS and name not in consts:
            known = [*FRAME_VARS, *consts]
            close = difflib.get_close_matches(name, known, n=1)
            p = find_var(value, name) or pos
            raise expr_error(
                f"unknown variable {name!r}",
                p,
                file,
                line_text,
                f"did you mean {close[0]!r}?" if close else "variables: " + ", ".join(known),
            )
    return Param(None, value, consts)
