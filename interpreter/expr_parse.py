"""Expressions written as strings: infix (``90 * t + sin(t)``) or ``(op arg ...)``."""

from __future__ import annotations

import re

from interpreter.errors import ExpressionError, RecipeSyntaxError
from interpreter.expr_functions import FUNCTIONS
from interpreter.expr_tree import MAX_DEPTH, check_bounds, expr_error, expr_from_datum, make_call
from interpreter.nodes import Expr, Pos
from interpreter.sexp import read_all

__all__ = ["parse_expr_text"]

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
        return expr_error(message, p, self.file, self.line_text, hint)

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
                first = self.peek()
                if first is not None and first[1] == ")":
                    self.k += 1
                else:
                    while True:
                        args.append(self.expr(0, depth + 1))
                        sep = self.take()
                        if sep[1] == ")":
                            break
                        if sep[1] != ",":
                            raise self.error(f"expected ',' or ')', got {sep[1]!r}", sep[2])
                return make_call(text, args, self.at(off), self.file)
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
            raise expr_error("expected exactly one expression", pos, file, line_text)
        e = expr_from_datum(data[0], file)
    else:
        e = _Infix(text, pos, file, line_text).parse()
    check_bounds(e, file)
    return e
