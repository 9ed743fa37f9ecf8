"""Time-varying parameter expressions: one AST, two spellings, compiled once.

Any numeric parameter may be an expression over the frame variables
``t`` (seconds), ``frame``, ``beat`` (beat index), ``beat_phase`` (0..1 within
the beat), ``since_beat`` (seconds since the last beat), ``energy``, ``bass``,
``mid``, ``high`` (0..1), the constant ``pi``, and recipe params by name.

Spellings:

- S-expression recipes write them natively: ``(* 90 t)``, ``(if (> bass 0.5) 1 0)``.
- YAML: a string value. Infix ``"90 * t + sin(t)"`` (``+ - * / % **``,
  comparisons, ``and or not``, calls ``f(a, b)``), or an S-expression string
  when it starts with ``(`` + a known operator + a space (``"(* 90 t)"``).

Operators and functions: ``+ - * / % ** < <= > >= == != and or not neg``,
``if(cond, then, else)``, ``clamp(x, lo, hi)``, ``lerp(a, b, u)``,
``min max abs floor sqrt exp sin cos``, ``lfo(freq)`` / ``lfo(freq, phase)``
(``0.5 + 0.5 sin(2 pi (freq t + phase))``), ``decay(rate)``
(``exp(-rate * since_beat)``, an envelope restarting at each beat).

Both spellings give the same :class:`~interpreter.nodes.Expr` tree (n-ary
``+``/``*`` fold left like infix), so canonical JSON and ids match. Trees are
bounded (depth 32, 256 nodes) and compiled into plain closures (never
``eval``); :meth:`Param.evaluate_array` evaluates over numpy arrays to
precompute per-frame parameter arrays. Division by zero yields 0.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from interpreter.errors import ExpressionError
from interpreter.nodes import Expr, Pos
from interpreter.sexp import Atom, Datum, Keyword, SList, Symbol, Vector, read_all

__all__ = [
    "FRAME_VARS",
    "FUNCTIONS",
    "FrameContext",
    "Param",
    "compile_expr",
    "expr_from_datum",
    "expr_vars",
    "parse_expr_text",
]

MAX_DEPTH = 32
MAX_NODES = 256

FRAME_VARS: tuple[str, ...] = (
    "t",
    "frame",
    "beat",
    "beat_phase",
    "since_beat",
    "energy",
    "bass",
    "mid",
    "high",
)

#: name -> (min arity, max arity)
FUNCTIONS: Mapping[str, tuple[int, int]] = {
    "+": (2, 2),
    "-": (2, 2),
    "*": (2, 2),
    "/": (2, 2),
    "%": (2, 2),
    "**": (2, 2),
    "<": (2, 2),
    "<=": (2, 2),
    ">": (2, 2),
    ">=": (2, 2),
    "==": (2, 2),
    "!=": (2, 2),
    "and": (2, 2),
    "or": (2, 2),
    "not": (1, 1),
    "neg": (1, 1),
    "if": (3, 3),
    "clamp": (3, 3),
    "lerp": (3, 3),
    "min": (2, 2),
    "max": (2, 2),
    "abs": (1, 1),
    "floor": (1, 1),
    "sqrt": (1, 1),
    "exp": (1, 1),
    "sin": (1, 1),
    "cos": (1, 1),
    "lfo": (1, 2),
    "decay": (1, 1),
}

_IMPLICIT = {"decay": ("since_beat",), "lfo": ("t",)}
_FOLD = {"+", "*", "-", "/", "and", "or", "min", "max"}


@dataclass(frozen=True, slots=True)
class FrameContext:
    """Per-frame values the expressions read (audio values from the analysis)."""

    t: float = 0.0
    frame: int = 0
    beat: int = 0
    beat_phase: float = 0.0
    since_beat: float = 0.0
    energy: float = 0.0
    bass: float = 0.0
    mid: float = 0.0
    high: float = 0.0


def _err(message: str, pos: Pos, file: str, text: str = "", hint: str = "") -> ExpressionError:
    return ExpressionError(
        message, file=file, line=pos.line, column=pos.column, text=text, hint=hint
    )


def _check_bounds(e: Expr, file: str) -> None:
    count = 0

    def walk(node: Expr, depth: int) -> None:
        nonlocal count
        count += 1
        if depth > MAX_DEPTH:
            raise _err(
                "expression nested too deeply", node.pos, file, hint=f"at most {MAX_DEPTH} levels"
            )
        if count > MAX_NODES:
            raise _err("expression too large", node.pos, file, hint=f"at most {MAX_NODES} terms")
        if node.op not in ("num", "var"):
            for a in node.args:
                walk(a, depth + 1)

    walk(e, 1)


def _call(op: str, args: list[Expr], pos: Pos, file: str) -> Expr:
    if op not in FUNCTIONS:
        import difflib

        close = difflib.get_close_matches(op, list(FUNCTIONS), n=1)
        raise _err(
            f"unknown function {op!r}",
            pos,
            file,
            hint=f"did you mean {close[0]!r}?"
            if close
            else "functions: " + ", ".join(sorted(FUNCTIONS)),
        )
    lo, hi = FUNCTIONS[op]
    if op == "-" and len(args) == 1:
        return Expr("neg", (args[0],), pos)
    if op in _FOLD and len(args) > 2:
        acc = args[0]
        for a in args[1:]:
            acc = Expr(op, (acc, a), pos)
        return acc
    if not lo <= len(args) <= hi:
        want = str(lo) if lo == hi else f"{lo} to {hi}"
        raise _err(f"{op} takes {want} arguments, got {len(args)}", pos, file)
    return Expr(op, tuple(args), pos)


def expr_from_datum(d: Datum, file: str = "<recipe>", depth: int = 0) -> Expr:
    """Convert an S-expression datum to an expression tree.

    Raises:
        ExpressionError: Unknown function, wrong arity, non-numeric literal.
    """
    if depth > MAX_DEPTH:
        raise _err("expression nested too deeply", d.pos, file, hint=f"at most {MAX_DEPTH} levels")
    if isinstance(d, Atom):
        if isinstance(d.value, bool):
            return Expr("num", (1 if d.value else 0,), d.pos)
        if isinstance(d.value, int | float):
            return Expr("num", (d.value,), d.pos)
        raise _err(f"expected a number, got {d.value!r}", d.pos, file)
    if isinstance(d, Symbol):
        return Expr("var", (d.name,), d.pos)
    if isinstance(d, SList) and d.items and isinstance(d.items[0], Symbol):
        args = [expr_from_datum(a, file, depth + 1) for a in d.items[1:]]
        return _call(d.items[0].name, args, d.pos, file)
    what = (
        "keyword" if isinstance(d, Keyword) else "vector" if isinstance(d, Vector) else "empty list"
    )
    raise _err(
        f"a {what} is not an expression", d.pos, file, hint="write (op arg ...), a number or a name"
    )


# --- infix -----------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<num>(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<op>\*\*|<=|>=|==|!=|[-+*/%<>(),]))"
)
_BINARY = {
    "or": 1,
    "and": 2,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "==": 4,
    "!=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "%": 6,
    "**": 8,
}


class _Infix:
    def __init__(self, text: str, pos: Pos, file: str, line_text: str) -> None:
        self.file = file
        self.base = pos
        self.line_text = line_text
        self.toks: list[tuple[str, str, int]] = []  # (kind, text, offset)
        i = 0
        while i < len(text):
            if text[i:].strip() == "":
                break
            m = _TOKEN.match(text, i)
            if not m:
                j = i + len(text[i:]) - len(text[i:].lstrip())
                raise self.error(f"unexpected character {text[j]!r}", j)
            kind = m.lastgroup or "op"
            if kind not in ("num", "name", "op"):
                kind = "num"
            self.toks.append((kind, m.group(kind), m.start(kind)))
            i = m.end()
        self.k = 0
        self.end = len(text)

    def error(self, message: str, offset: int, hint: str = "") -> ExpressionError:
        p = self.at(offset)
        return _err(message, p, self.file, self.line_text, hint)

    def at(self, offset: int) -> Pos:
        return Pos(self.base.line, self.base.column + offset) if self.base.line else self.base

    def peek(self) -> tuple[str, str, int] | None:
        return self.toks[self.k] if self.k < len(self.toks) else None

    def take(self) -> tuple[str, str, int]:
        tok = self.peek()
        if tok is None:
            raise self.error("expression ends too early", self.end, "an operand is missing")
        self.k += 1
        return tok

    def parse(self) -> Expr:
        if not self.toks:
            raise self.error("empty expression", 0)
        e = self.expr(0, 0)
        tok = self.peek()
        if tok is not None:
            raise self.error(f"unexpected {tok[1]!r}", tok[2], "an operator is missing?")
        return e

    def expr(self, min_prec: int, depth: int) -> Expr:
        if depth > MAX_DEPTH:
            raise self.error("expression nested too deeply", 0, f"at most {MAX_DEPTH} levels")
        left = self.unary(depth)
        while True:
            tok = self.peek()
            if (
                tok is None
                or tok[1] not in _BINARY
                or (tok[0] == "name" and tok[1] not in ("and", "or"))
            ):
                return left
            prec = _BINARY[tok[1]]
            if prec < min_prec:
                return left
            self.k += 1
            # ** is right-associative, everything else left
            right = self.expr(prec if tok[1] == "**" else prec + 1, depth + 1)
            left = Expr(tok[1], (left, right), self.at(tok[2]))

    def unary(self, depth: int) -> Expr:
        kind, text, off = self.take()
        if text == "-" and kind == "op":
            return Expr("neg", (self.expr(7, depth + 1),), self.at(off))
        if text == "+" and kind == "op":
            return self.expr(7, depth + 1)
        if text == "not" and kind == "name":
            return Expr("not", (self.expr(3, depth + 1),), self.at(off))
        if text == "(":
            e = self.expr(0, depth + 1)
            close = self.take()
            if close[1] != ")":
                raise self.error(f"expected ')', got {close[1]!r}", close[2])
            return e
        if kind == "num":
            v = float(text)
            return Expr("num", (int(v) if re.fullmatch(r"\d+", text) else v,), self.at(off))
        if kind == "name":
            nxt = self.peek()
            if nxt is not None and nxt[1] == "(":
                self.k += 1
                args: list[Expr] = []
                if self.peek() is not None and self.peek()[1] == ")":  # type: ignore[index]
                    self.k += 1
                else:
                    while True:
                        args.append(self.expr(0, depth + 1))
                        sep = self.take()
                        if sep[1] == ")":
                            break
                        if sep[1] != ",":
                            raise self.error(f"expected ',' or ')', got {sep[1]!r}", sep[2])
                return _call(text, args, self.at(off), self.file)
            if text in ("and", "or"):
                raise self.error(f"{text!r} needs a left operand", off)
            return Expr("var", (text,), self.at(off))
        raise self.error(f"unexpected {text!r}", off, "an operand is missing?")


# "(op arg ..." with a known operator is an S-expression; "(1 + 2) * 3" is infix
_SEXP_HEAD = re.compile(r"\(\s*([^\s()\[\]]+)\s")


def parse_expr_text(
    text: str, pos: Pos = Pos(0, 0), file: str = "<recipe>", line_text: str = ""
) -> Expr:
    """Parse an expression written as a string (infix, or an S-expression ``(op arg ...)``).

    Args:
        text: The expression.
        pos: Position of its first character in the recipe.
        file: File name for errors.
        line_text: The recipe line holding it (shown in errors).

    Raises:
        ExpressionError: On any malformed input.
    """
    from interpreter.errors import RecipeSyntaxError

    stripped = text.lstrip()
    head = _SEXP_HEAD.match(stripped)
    if head and head.group(1) in FUNCTIONS:
        lead = len(text) - len(stripped)
        try:
            data = read_all(text[lead:], file, pos.line or 1, (pos.column or 1) + lead)
        except RecipeSyntaxError as exc:
            raise ExpressionError(
                exc.message,
                file=file,
                line=exc.line,
                column=exc.column,
                text=line_text,
                hint=exc.hint,
            ) from None
        if len(data) != 1:
            raise _err("expected exactly one expression", pos, file, line_text)
        e = expr_from_datum(data[0], file)
    else:
        e = _Infix(text, pos, file, line_text).parse()
    _check_bounds(e, file)
    return e


def expr_vars(e: Expr) -> set[str]:
    """Every variable name the expression reads (``decay`` reads ``since_beat``, ``lfo`` reads ``t``)."""
    if e.op == "var":
        return {e.args[0]}
    if e.op == "num":
        return set()
    out: set[str] = set(_IMPLICIT.get(e.op, ()))
    for a in e.args:
        out |= expr_vars(a)
    return out


# --- compilation -----------------------------------------------------------


def _safe_div(a: float, b: float) -> float:
    return a / b if b else 0.0


def _safe_mod(a: float, b: float) -> float:
    return math.fmod(a, b) if b else 0.0


def _safe_pow(a: float, b: float) -> float:
    try:
        r = math.pow(a, b)
    except (ValueError, OverflowError, ZeroDivisionError):
        return 0.0
    return r if isinstance(r, float) else 0.0


_SCALAR: Mapping[str, Callable[..., float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _safe_div,
    "%": _safe_mod,
    "**": _safe_pow,
    "<": lambda a, b: float(a < b),
    "<=": lambda a, b: float(a <= b),
    ">": lambda a, b: float(a > b),
    ">=": lambda a, b: float(a >= b),
    "==": lambda a, b: float(a == b),
    "!=": lambda a, b: float(a != b),
    "and": lambda a, b: float(bool(a) and bool(b)),
    "or": lambda a, b: float(bool(a) or bool(b)),
    "not": lambda a: float(not a),
    "neg": lambda a: -a,
    "clamp": lambda x, lo, hi: min(max(x, lo), hi),
    "lerp": lambda a, b, u: a + (b - a) * u,
    "min": min,
    "max": max,
    "abs": abs,
    "floor": lambda a: float(math.floor(a)),
    "sqrt": lambda a: math.sqrt(a) if a > 0 else 0.0,
    "exp": lambda a: math.exp(min(a, 700.0)),
    "sin": math.sin,
    "cos": math.cos,
}


def _np_div(a: Any, b: Any) -> Any:
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    return np.divide(a, b, out=np.zeros_like(a), where=b != 0)


def _np_mod(a: Any, b: Any) -> Any:
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    return np.fmod(a, b, out=np.zeros_like(a), where=b != 0)


def _np_pow(a: Any, b: Any) -> Any:
    with np.errstate(all="ignore"):
        r = np.power(np.asarray(a, float), np.asarray(b, float))
    return np.nan_to_num(r, nan=0.0, posinf=0.0, neginf=0.0)


_VECTOR: Mapping[str, Callable[..., Any]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": _np_div,
    "%": _np_mod,
    "**": _np_pow,
    "<": lambda a, b: np.less(a, b).astype(float),
    "<=": lambda a, b: np.less_equal(a, b).astype(float),
    ">": lambda a, b: np.greater(a, b).astype(float),
    ">=": lambda a, b: np.greater_equal(a, b).astype(float),
    "==": lambda a, b: np.equal(a, b).astype(float),
    "!=": lambda a, b: np.not_equal(a, b).astype(float),
    "and": lambda a, b: np.logical_and(a, b).astype(float),
    "or": lambda a, b: np.logical_or(a, b).astype(float),
    "not": lambda a: np.logical_not(a).astype(float),
    "neg": np.negative,
    "clamp": lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi),
    "lerp": lambda a, b, u: a + (np.subtract(b, a)) * u,
    "min": np.minimum,
    "max": np.maximum,
    "abs": np.abs,
    "floor": np.floor,
    "sqrt": lambda a: np.sqrt(np.maximum(a, 0.0)),
    "exp": lambda a: np.exp(np.minimum(a, 700.0)),
    "sin": np.sin,
    "cos": np.cos,
}

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
        self._scalar = _build(expr, consts, _SCALAR, vector=False)
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
            self._vector = _build(self.expr, self._consts, _VECTOR, vector=True)
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
        raise _err(f"expected a number or an expression, got {value!r}", pos, file, line_text)
    consts = {"pi": math.pi, **{k: float(v) for k, v in (params or {}).items()}}
    _check_bounds(value, file)
    for name in sorted(expr_vars(value)):
        if name not in FRAME_VARS and name not in consts:
            import difflib

            known = [*FRAME_VARS, *consts]
            close = difflib.get_close_matches(name, known, n=1)
            p = _find_var(value, name) or pos
            raise _err(
                f"unknown variable {name!r}",
                p,
                file,
                line_text,
                f"did you mean {close[0]!r}?" if close else "variables: " + ", ".join(known),
            )
    return Param(None, value, consts)


def _find_var(e: Expr, name: str) -> Pos | None:
    if e.op == "var":
        return e.pos if e.args[0] == name and e.pos.line else None
    if e.op == "num":
        return None
    for a in e.args:
        p = _find_var(a, name)
        if p is not None:
            return p
    return None
