"""S-expression recipe forms below the graph: keywords, literal values, declarations.

:class:`FormReader` is the part of the S-expression parser that reads one form
at a time (``:keyword value`` pairs, literals, config values, ``(input ...)``
and ``(param ...)`` declarations) with positioned errors; the graph builder in
:mod:`interpreter.parser_sexp` extends it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from interpreter.errors import InterpreterError, RecipeSyntaxError, UnknownParamError
from interpreter.expr import FUNCTIONS, expr_from_datum
from interpreter.nodes import InputDecl, NodeType, ParamDecl, Pos
from interpreter.sexp import Atom, Datum, Keyword, SList, Symbol, Vector

__all__ = ["FORMS", "FormReader"]

#: Node form names (lower case, ``-`` or ``_``) -> node type.
FORMS: dict[str, NodeType] = {t.value.lower().replace("_", "-"): t for t in NodeType}
FORMS.update({t.value.lower(): t for t in NodeType})
FORMS["slice-on-beats"] = NodeType.MAP


class FormReader:
    """Reads the forms of one recipe text, raising errors positioned in it.

    Args:
        text: The recipe text.
        filename: Used in error messages.
    """

    def __init__(self, text: str, filename: str) -> None:
        self.text = text
        self.filename = filename
        self.lines = text.splitlines()
        #: Positions of the keywords of the form read last (by :meth:`keywords`).
        self.key_pos: dict[str, Pos] = {}

    def err(
        self, cls: Callable[..., InterpreterError], message: str, pos: Pos, hint: str = ""
    ) -> InterpreterError:
        """An error of type ``cls`` at ``pos``, quoting the recipe line there."""
        text = self.lines[pos.line - 1] if 0 < pos.line <= len(self.lines) else ""
        return cls(
            message, file=self.filename, line=pos.line, column=pos.column, text=text, hint=hint
        )

    def syntax(self, message: str, pos: Pos, hint: str = "") -> InterpreterError:
        """A RecipeSyntaxError at ``pos``."""
        return self.err(RecipeSyntaxError, message, pos, hint)

    def keywords(
        self, items: list[Datum], where: str
    ) -> tuple[list[Datum], dict[str, tuple[Datum, Pos]]]:
        """Split ``items`` into positional data and ``:keyword value`` pairs (with positions).

        The position of each keyword itself goes to :attr:`key_pos`.
        """
        positional: list[Datum] = []
        kws: dict[str, tuple[Datum, Pos]] = {}
        self.key_pos = {}
        i = 0
        while i < len(items):
            d = items[i]
            if isinstance(d, Keyword):
                if i + 1 >= len(items) or isinstance(items[i + 1], Keyword):
                    raise self.syntax(f":{d.name} needs a value", d.pos, f"write :{d.name} VALUE")
                if d.name in kws:
                    raise self.syntax(f"duplicate :{d.name} in {where}", d.pos)
                kws[d.name] = (items[i + 1], items[i + 1].pos)
                self.key_pos[d.name] = d.pos
                i += 2
            else:
                if kws:
                    raise self.syntax("inputs must come before :keywords", d.pos)
                positional.append(d)
                i += 1
        return positional, kws

    def literal(self, d: Datum, depth: int = 0) -> Any:
        """A literal value: atom, symbol name or vector of literals."""
        if isinstance(d, Atom):
            return d.value
        if isinstance(d, Symbol):
            return d.name
        if isinstance(d, Vector):
            return [self.literal(x, depth + 1) for x in d.items]
        raise self.syntax("expected a literal value", d.pos)

    def config_value(self, d: Datum) -> Any:
        """A keyword's value in a node form: literal, vector, or expression (never a node)."""
        if isinstance(d, Atom):
            return d.value
        if isinstance(d, Vector):
            return [self.literal(x) for x in d.items]
        if isinstance(d, Symbol | SList):
            if (
                isinstance(d, SList)
                and d.items
                and isinstance(d.items[0], Symbol)
                and d.items[0].name in FORMS
                and d.items[0].name not in FUNCTIONS
            ):
                raise self.syntax(
                    "a node cannot be a parameter value", d.pos, "pass it as an input instead"
                )
            return expr_from_datum(d, self.filename)
        raise self.syntax("a keyword is not a value", d.pos)

    def input_decl(self, d: SList) -> InputDecl:
        """An ``(input NAME :type TYPE [:description TEXT])`` form."""
        pos_args, kws = self.keywords(list(d.items[1:]), "input")
        if len(pos_args) != 1 or not isinstance(pos_args[0], Symbol | Atom):
            raise self.syntax("(input NAME :type TYPE) takes one name", d.pos)
        name = pos_args[0].name if isinstance(pos_args[0], Symbol) else str(pos_args[0].value)
        for k, (_, p) in kws.items():
            if k not in ("type", "description"):
                raise self.err(
                    UnknownParamError,
                    f"unknown input option :{k}",
                    p,
                    "accepted: :type, :description",
                )
        if "type" not in kws:
            raise self.syntax(
                f"input {name!r} has no :type", d.pos, "add :type video or :type audio"
            )
        return InputDecl(
            name,
            str(self.literal(kws["type"][0])),
            str(self.literal(kws["description"][0])) if "description" in kws else "",
            pos_args[0].pos,
        )

    def param_decl(self, d: SList) -> ParamDecl:
        """A ``(param NAME DEFAULT [:min N] [:max N] [:description TEXT])`` form."""
        pos_args, kws = self.keywords(list(d.items[1:]), "param")
        if len(pos_args) != 2 or not isinstance(pos_args[0], Symbol):
            raise self.syntax("(param NAME DEFAULT ...) takes a name and a default", d.pos)
        for k, (_, p) in kws.items():
            if k not in ("min", "max", "description"):
                raise self.err(
                    UnknownParamError,
                    f"unknown param option :{k}",
                    p,
                    "accepted: :min, :max, :description",
                )
        bounds: dict[str, float | None] = {}
        for key in ("min", "max"):
            v = self.literal(kws[key][0]) if key in kws else None
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
                raise self.syntax(f":{key} must be a number", kws[key][1])
            bounds[key] = v
        return ParamDecl(
            pos_args[0].name,
            self.literal(pos_args[1]),
            str(self.literal(kws["description"][0])) if "description" in kws else "",
            bounds["min"],
            bounds["max"],
            pos_args[0].pos,
        )
