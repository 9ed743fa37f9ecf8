"""S-expression reader: text to positioned data (lists, symbols, keywords, atoms).

Grammar: ``( ... )`` lists, ``[ ... ]`` vectors, ``"strings"`` with ``\\"``,
``\\\\``, ``\\n`` and ``\\t`` escapes, numbers (``12``, ``-3.5``, ``1e3``),
``true``/``false``/``nil``, ``:keywords``, symbols, ``;`` comments to the end
of the line. Nothing is evaluated; :mod:`interpreter.parser_sexp` gives the
data meaning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from interpreter.errors import RecipeSyntaxError
from interpreter.nodes import Pos

__all__ = ["Atom", "Datum", "Keyword", "SList", "Symbol", "Vector", "read_all"]

MAX_DEPTH = 64


@dataclass(frozen=True, slots=True)
class Symbol:
    """A bare name (``video``, ``->``, ``+``)."""

    name: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class Keyword:
    """A ``:name`` keyword (stored without the colon)."""

    name: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class Atom:
    """A string, number, boolean or nil literal."""

    value: Any
    pos: Pos


@dataclass(frozen=True, slots=True)
class SList:
    """A parenthesised list."""

    items: tuple[Datum, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class Vector:
    """A bracketed vector (a literal list)."""

    items: tuple[Datum, ...]
    pos: Pos


Datum = Symbol | Keyword | Atom | SList | Vector

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)\Z")
_DELIMS = set('()[]";')
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}


class _Reader:
    def __init__(self, text: str, filename: str, line: int = 1, column: int = 1) -> None:
        self.text = text
        self.filename = filename
        self.i = 0
        self.line = line
        self.col = column
        self.lines = text.splitlines()
        self.base_line = line

    def error(self, message: str, pos: Pos, hint: str = "") -> RecipeSyntaxError:
        idx = pos.line - self.base_line
        text = self.lines[idx] if 0 <= idx < len(self.lines) else ""
        return RecipeSyntaxError(
            message, file=self.filename, line=pos.line, column=pos.column, text=text, hint=hint
        )

    def pos(self) -> Pos:
        return Pos(self.line, self.col)

    def advance(self) -> str:
        c = self.text[self.i]
        self.i += 1
        if c == "\n":
            self.line += 1
            self.col = 1
        else:
            self.col += 1
        return c

    def skip_space(self) -> None:
        while self.i < len(self.text):
            c = self.text[self.i]
            if c == ";":
                while self.i < len(self.text) and self.text[self.i] != "\n":
                    self.advance()
            elif c.isspace() or c == ",":
                self.advance()
            else:
                return

    def read_all(self) -> list[Datum]:
        out: list[Datum] = []
        self.skip_space()
        while self.i < len(self.text):
            out.append(self.read(0))
            self.skip_space()
        return out

    def read(self, depth: int) -> Datum:
        start = self.pos()
        if depth > MAX_DEPTH:
            raise self.error("nesting too deep", start, f"at most {MAX_DEPTH} levels")
        c = self.text[self.i]
        if c in "([":
            close = ")" if c == "(" else "]"
            self.advance()
            items: list[Datum] = []
            while True:
                self.skip_space()
                if self.i >= len(self.text):
                    raise self.error(f"unclosed {c!r}", start, f"add {close!r} to close it")
                nxt = self.text[self.i]
                if nxt in ")]":
                    if nxt != close:
                        raise self.error(
                            f"{nxt!r} closes {c!r}",
                            self.pos(),
                            f"expected {close!r} (opened at {start})",
                        )
                    self.advance()
                    return SList(tuple(items), start) if c == "(" else Vector(tuple(items), start)
                items.append(self.read(depth + 1))
        if c in ")]":
            raise self.error(f"unexpected {c!r}", start, "no list is open here")
        if c == '"':
            return self.read_string(start)
        return self.read_token(start)

    def read_string(self, start: Pos) -> Atom:
        self.advance()
        buf: list[str] = []
        while True:
            if self.i >= len(self.text):
                raise self.error("unterminated string", start, 'add a closing "')
            c = self.advance()
            if c == '"':
                return Atom("".join(buf), start)
            if c == "\\":
                if self.i >= len(self.text):
                    raise self.error("unterminated string", start, 'add a closing "')
                esc_pos = self.pos()
                e = self.advance()
                if e not in _ESCAPES:
                    raise self.error(f"unknown escape \\{e}", esc_pos, 'use \\", \\\\, \\n or \\t')
                buf.append(_ESCAPES[e])
            else:
                buf.append(c)

    def read_token(self, start: Pos) -> Datum:
        j = self.i
        while (
            j < len(self.text)
            and not self.text[j].isspace()
            and self.text[j] not in _DELIMS
            and self.text[j] != ","
        ):
            j += 1
        tok = self.text[self.i : j]
        while self.i < j:
            self.advance()
        if _NUMBER.match(tok):
            f = float(tok)
            return Atom(int(tok) if re.fullmatch(r"[+-]?\d+", tok) else f, start)
        if tok in ("true", "false"):
            return Atom(tok == "true", start)
        if tok == "nil":
            return Atom(None, start)
        if tok.startswith(":"):
            if len(tok) == 1:
                raise self.error("empty keyword", start, "write :name")
            return Keyword(tok[1:], start)
        return Symbol(tok, start)


def read_all(text: str, filename: str = "<recipe>", line: int = 1, column: int = 1) -> list[Datum]:
    """Read every datum of ``text``.

    Args:
        text: Source text.
        filename: Used in error messages.
        line: Line number of the first character (for embedded text).
        column: Column of the first character.

    Raises:
        RecipeSyntaxError: Unbalanced brackets, bad strings, too deep nesting.
    """
    return _Reader(text, filename, line, column).read_all()
