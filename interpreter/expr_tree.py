"""Expression trees: built from S-expression data, bounded, and inspected."""

from __future__ import annotations

import difflib

from interpreter.errors import ExpressionError
from interpreter.expr_functions import FOLDED, FUNCTIONS, IMPLICIT_VARS
from interpreter.nodes import Expr, Pos
from interpreter.sexp import Atom, Datum, Keyword, SList, Symbol, Vector

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "check_bounds",
    "expr_error",
    "expr_from_datum",
    "expr_vars",
    "find_var",
    "make_call",
]

MAX_DEPTH = 32
MAX_NODES = 256


def expr_error(
    message: str, pos: Pos, file: str, text: str = "", hint: str = ""
) -> ExpressionError:
    """An ExpressionError positioned at ``pos`` of ``file``."""
    return ExpressionError(
        message, file=file, line=pos.line, column=pos.column, text=text, hint=hint
    )


def check_bounds(e: Expr, file: str) -> None:
    """Raise ExpressionError when a tree is deeper than MAX_DEPTH or larger than MAX_NODES."""
    count = 0

    def walk(node: Expr, depth: int) -> None:
        nonlocal count
        count += 1
        if depth > MAX_DEPTH:
            raise expr_error(
                "expression nested too deeply", node.pos, file, hint=f"at most {MAX_DEPTH} levels"
            )
        if count > MAX_NODES:
            raise expr_error(
                "expression too large", node.pos, file, hint=f"at most {MAX_NODES} terms"
            )
        if node.op not in ("num", "var"):
            for a in node.args:
                walk(a, depth + 1)

    walk(e, 1)


def make_call(op: str, args: list[Expr], pos: Pos, file: str) -> Expr:
    """The node of a call: checked name and arity, unary minus as ``neg``, n-ary ops folded left."""
    if op not in FUNCTIONS:
        close = difflib.get_close_matches(op, list(FUNCTIONS), n=1)
        raise expr_error(
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
    if op in FOLDED and len(args) > 2:
        acc = args[0]
        for a in args[1:]:
            acc = Expr(op, (acc, a), pos)
        return acc
    if not lo <= len(args) <= hi:
        want = str(lo) if lo == hi else f"{lo} to {hi}"
        raise expr_error(f"{op} takes {want} arguments, got {len(args)}", pos, file)
    return Expr(op, tuple(args), pos)


def expr_from_datum(d: Datum, file: str = "<recipe>", depth: int = 0) -> Expr:
    """Convert an S-expression datum to an expression tree.

    Raises:
        ExpressionError: Unknown function, wrong arity, non-numeric literal.
    """
    if depth > MAX_DEPTH:
        raise expr_error(
            "expression nested too deeply", d.pos, file, hint=f"at most {MAX_DEPTH} levels"
        )
    if isinstance(d, Atom):
        if isinstance(d.value, bool):
            return Expr("num", (1 if d.value else 0,), d.pos)
        if isinstance(d.value, int | float):
            return Expr("num", (d.value,), d.pos)
        raise expr_error(f"expected a number, got {d.value!r}", d.pos, file)
    if isinstance(d, Symbol):
        return Expr("var", (d.name,), d.pos)
    if isinstance(d, SList) and d.items and isinstance(d.items[0], Symbol):
        args = [expr_from_datum(a, file, depth + 1) for a in d.items[1:]]
        return make_call(d.items[0].name, args, d.pos, file)
    what = (
        "keyword" if isinstance(d, Keyword) else "vector" if isinstance(d, Vector) else "empty list"
    )
    raise expr_error(
        f"a {what} is not an expression", d.pos, file, hint="write (op arg ...), a number or a name"
    )


def expr_vars(e: Expr) -> set[str]:
    """Every variable name the expression reads (``decay`` reads ``since_beat``, ``lfo`` reads ``t``)."""
    if e.op == "var":
        return {e.args[0]}
    if e.op == "num":
        return set()
    out: set[str] = set(IMPLICIT_VARS.get(e.op, ()))
    for a in e.args:
        out |= expr_vars(a)
    return out


def find_var(e: Expr, name: str) -> Pos | None:
    """Where the tree first reads ``name`` (None when it does not, or has no position)."""
    if e.op == "var":
        return e.pos if e.args[0] == name and e.pos.line else None
    if e.op == "num":
        return None
    for a in e.args:
        p = find_var(a, name)
        if p is not None:
            return p
    return None
