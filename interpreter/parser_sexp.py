"""S-expression recipes.

::

    ; comments run to the end of the line
    (recipe "beat-sync" :version "1.0" :description "..."
      (input video :type video :description "Source video")
      (input audio :type audio)
      (param intensity 1.0 :min 0 :max 2 :description "...")
      (def beats (analyze audio :features [beats energy]))
      (def sync (beat-sync video beats :mode stretch))
      sync)                         ; the last form is the output (or (output NAME))

Node forms are ``(type inputs... :key value ...)`` with the type written in
lower case (``beat-sync`` / ``beat_sync``, ``map`` or ``slice-on-beats``);
``(effect NAME inputs... :param value)`` names the effect first;
``(source :input "video")`` / ``(source :generator testsrc :duration 5)``; an
unnamed ``(source :input NAME)`` gets the step id ``NAME`` (one step however
often it is written), so it is the same graph as the bare input name, and in a
recipe with no ``(input ...)`` forms it declares the input (see
:mod:`interpreter.normalise`).
Inputs are symbols (a ``def`` name or a recipe input) or nested node forms.
``(-> x (effect invert) (effect blur :radius 2))`` threads ``x`` through the
forms as their first input. Keyword values are literals, ``[vectors]``,
symbols, or expressions like ``(* 90 t)``. A nested node gets the id
``<type>_<n>`` (type in lower case, ``n`` counting from 1 per type in the
order the nodes are completed), or the ``def`` name for the outermost node of
a ``def``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from interpreter.errors import UnknownParamError
from interpreter.nodes import Expr, InputDecl, NodeType, ParamDecl, Pos, Recipe, Step
from interpreter.parser_sexp_forms import FORMS, FormReader
from interpreter.parser_yaml import nest_params
from interpreter.sexp import Atom, Datum, Keyword, SList, Symbol, read_all

__all__ = ["parse_sexp"]


@dataclass
class _Body:
    """What the body forms of a recipe declare, in order."""

    output_pos: Pos
    inputs: list[InputDecl] = field(default_factory=list)
    params: list[ParamDecl] = field(default_factory=list)
    output: str | None = None


class _Builder(FormReader):
    def __init__(self, text: str, filename: str) -> None:
        super().__init__(text, filename)
        self.steps: list[Step] = []
        self.ids: set[str] = set()
        self.counters: dict[str, int] = {}
        # unnamed (source :input NAME) forms: their step is named NAME, as the
        # bare input name's implicit SOURCE would be (same recipe id)
        self.inline_sources: dict[str, Pos] = {}

    def build(self) -> Recipe:
        form = self.recipe_form()
        items = list(form.items[1:])
        name = self.recipe_name(form, items)
        meta = self.recipe_options(items)
        body = _Body(output_pos=form.pos)
        for i, d in enumerate(items):
            self.body_form(d, body, last=i == len(items) - 1)
        if body.output is None:
            raise self.syntax(
                "the recipe has no output", form.pos, "end it with the output node or (output NAME)"
            )
        return Recipe(
            name=name,
            version=meta["version"],
            description=meta["description"],
            inputs=tuple(body.inputs),
            params=tuple(body.params),
            steps=tuple(self.steps),
            output=body.output,
            source=self.text,
            filename=self.filename,
            syntax="sexp",
            output_pos=body.output_pos,
        )

    def recipe_form(self) -> SList:
        """The one ``(recipe ...)`` form of the text."""
        data = read_all(self.text, self.filename)
        if not data:
            raise self.syntax("empty recipe", Pos(1, 1), 'write (recipe "name" ...)')
        if len(data) > 1:
            raise self.syntax(
                "text after the recipe", data[1].pos, "a file holds one (recipe ...) form"
            )
        form = data[0]
        if not (
            isinstance(form, SList)
            and form.items
            and isinstance(form.items[0], Symbol)
            and form.items[0].name == "recipe"
        ):
            raise self.syntax('expected (recipe "name" ...)', form.pos)
        return form

    def recipe_name(self, form: SList, items: list[Datum]) -> str:
        """Take the name string that follows ``recipe`` off ``items``."""
        first = items[0] if items else None
        if not (isinstance(first, Atom) and isinstance(first.value, str)):
            raise self.syntax(
                "the recipe needs a name string",
                first.pos if first is not None else form.pos,
                '(recipe "name" ...)',
            )
        items.pop(0)
        return first.value

    def recipe_options(self, items: list[Datum]) -> dict[str, str]:
        """Take the leading ``:version`` / ``:description`` options off ``items``."""
        meta = {"version": "1.0", "description": ""}
        while items and isinstance(items[0], Keyword):
            kw = items.pop(0)
            assert isinstance(kw, Keyword)
            if kw.name not in meta:
                raise self.err(
                    UnknownParamError,
                    f"unknown recipe option :{kw.name}",
                    kw.pos,
                    "accepted: :version, :description",
                )
            value = items.pop(0) if items else None
            if not isinstance(value, Atom):
                raise self.syntax(f":{kw.name} needs a value", kw.pos)
            meta[kw.name] = str(value.value)
        return meta

    def body_form(self, d: Datum, body: _Body, last: bool) -> None:
        """One form of the recipe body: a declaration, or the output node when last."""
        head = (
            d.items[0].name
            if isinstance(d, SList) and d.items and isinstance(d.items[0], Symbol)
            else None
        )
        if isinstance(d, SList) and head in ("input", "param", "def", "output"):
            self.declaration(head, d, body)
        elif last and body.output is None:
            body.output_pos = d.pos
            body.output = self.ref(d)
        else:
            raise self.syntax(
                "only the last form may be a bare node",
                d.pos,
                "bind it with (def NAME ...) or move it last",
            )

    def declaration(self, head: str, d: SList, body: _Body) -> None:
        """An ``(input ...)``, ``(param ...)``, ``(def ...)`` or ``(output NAME)`` form."""
        if head == "input":
            body.inputs.append(self.input_decl(d))
        elif head == "param":
            body.params.append(self.param_decl(d))
        elif head == "def":
            self.define(d)
        else:
            if len(d.items) != 2 or not isinstance(d.items[1], Symbol):
                raise self.syntax("(output NAME) takes one step name", d.pos)
            body.output, body.output_pos = d.items[1].name, d.items[1].pos

    def define(self, d: SList) -> None:
        if len(d.items) != 3 or not isinstance(d.items[1], Symbol):
            raise self.syntax("(def NAME NODE) takes a name and a node", d.pos)
        name = d.items[1].name
        if name in self.inline_sources:
            at = self.inline_sources[name]
            raise self.syntax(
                f"{name!r} is already the step of (source :input {name!r}) at line {at.line}",
                d.items[1].pos,
                "rename this def",
            )
        if name in self.ids:
            raise self.syntax(f"{name!r} is defined twice", d.items[1].pos)
        value = d.items[2]
        if isinstance(value, Symbol):
            raise self.syntax("def of a bare name", value.pos, f"use {value.name!r} directly")
        self.node(value, want_id=name, id_pos=d.items[1].pos)

    def ref(self, d: Datum, threaded: str | None = None) -> str:
        """Step id for an input position: a symbol, or a nested node (built now)."""
        if isinstance(d, Symbol):
            if threaded is not None:
                raise self.syntax("-> needs node forms after the first", d.pos)
            return d.name
        return self.node(d, threaded=threaded)

    def node(
        self,
        d: Datum,
        want_id: str | None = None,
        id_pos: Pos | None = None,
        threaded: str | None = None,
    ) -> str:
        if not (isinstance(d, SList) and d.items and isinstance(d.items[0], Symbol)):
            raise self.syntax("expected a node form like (effect NAME ...)", d.pos)
        head = d.items[0]
        assert isinstance(head, Symbol)
        if head.name == "->":
            if len(d.items) < 2:
                raise self.syntax("(-> x forms...) needs a start", d.pos)
            if threaded is not None:
                raise self.syntax("-> cannot be threaded into", d.pos)
            forms = list(d.items[1:])
            cur = self.ref(forms[0])
            for i, f in enumerate(forms[1:]):
                last = i == len(forms) - 2
                cur = self.node(
                    f, want_id if last else None, id_pos if last else None, threaded=cur
                )
            if len(forms) == 1 and want_id is not None:
                raise self.syntax("(-> x) with nothing to thread", d.pos)
            return cur
        if head.name not in FORMS:
            close = difflib.get_close_matches(head.name, list(FORMS), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "forms: " + ", ".join(sorted(FORMS))
            raise self.err(UnknownParamError, f"unknown node form {head.name!r}", head.pos, hint)
        ntype = FORMS[head.name]
        args = list(d.items[1:])
        config: dict[str, Any] = {}
        config_pos: dict[str, Pos] = {}
        if ntype is NodeType.EFFECT:
            first = args.pop(0) if args else None
            if isinstance(first, Symbol):
                config["effect"] = first.name
            elif isinstance(first, Atom) and isinstance(first.value, str):
                config["effect"] = first.value
            else:
                raise self.syntax("(effect NAME ...) needs an effect name", d.pos)
            config_pos["effect"] = first.pos
        positional, kws = self.keywords(args, head.name)
        key_pos = self.key_pos
        inputs: list[str] = []
        input_pos: list[Pos] = []
        if threaded is not None:
            inputs.append(threaded)
            input_pos.append(d.pos)
        for a in positional:
            inputs.append(self.ref(a))
            input_pos.append(a.pos)
        for k, (v, p) in kws.items():
            config[k] = self.config_value(v)
            config_pos[k] = p
            config_pos["key:" + k] = key_pos[k]
        config, config_pos = nest_params(ntype, config, config_pos)
        inline = None if want_id else self.inline_input(ntype, config, inputs)
        if inline is not None and inline in self.inline_sources:
            return inline  # the same input named again: one step, as a bare name would be
        sid = want_id or self.inline_id(inline, d.pos) or self.fresh(ntype)
        self.ids.add(sid)
        self.steps.append(
            Step(sid, ntype, tuple(inputs), config, id_pos or d.pos, config_pos, tuple(input_pos))
        )
        return sid

    @staticmethod
    def inline_input(ntype: NodeType, config: dict[str, Any], inputs: list[str]) -> str | None:
        """The input name of an unnamed ``(source :input NAME)`` (None: another node)."""
        if ntype is not NodeType.SOURCE or inputs or set(config) != {"input"}:
            return None
        name = config["input"]
        if isinstance(name, Expr) and name.op == "var":
            name = name.args[0]
        return name if isinstance(name, str) and name else None

    def inline_id(self, name: str | None, pos: Pos) -> str | None:
        """The step id ``name`` for an unnamed ``(source :input NAME)``, when still free."""
        if name is None or name in self.ids:
            return None
        self.inline_sources[name] = pos
        return name

    def fresh(self, ntype: NodeType) -> str:
        base = ntype.value.lower()
        while True:
            n = self.counters.get(base, 0) + 1
            self.counters[base] = n
            sid = f"{base}_{n}"
            if sid not in self.ids:
                return sid


def parse_sexp(text: str, filename: str = "<recipe>") -> Recipe:
    """Parse an S-expression recipe into the graph model (values raw, not yet normalised).

    Raises:
        RecipeSyntaxError: Unbalanced brackets, bad literals, malformed forms.
        UnknownParamError: Unknown node forms or options (with a suggestion).
        ExpressionError: A malformed expression value.
    """
    return _Builder(text, filename).build()
