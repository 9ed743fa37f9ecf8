"""The recipe graph model both surface syntaxes (YAML, S-expressions) compile to.

Everything here is immutable data with source positions. The parsers build it,
:mod:`interpreter.validate` checks it against :mod:`interpreter.schema` and the
effect registry, the planner hashes it and the StreamInterpreter executes it.

Config values of a :class:`Step` are plain JSON-like constants (``int``,
``float``, ``bool``, ``str``, ``None``, lists, dicts) or :class:`Expr` trees for
time-varying parameters. The config layout per node type is normalised by the
parsers (see :mod:`interpreter.schema`):

- EFFECT: ``{"effect": NAME, "params": {PARAM: value, ...}}``
- SOURCE: ``{"input": NAME}`` or ``{"generator": NAME, "params": {...}}``
- every other type: its fields flat, e.g. ``{"mode": "fit", "width": 640}``
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

__all__ = [
    "Expr",
    "InputDecl",
    "NodeType",
    "ParamDecl",
    "Pos",
    "Recipe",
    "Step",
    "Syntax",
]

Syntax = Literal["yaml", "sexp"]


class NodeType(StrEnum):
    """Every node type a recipe step may have (the value is what recipes write)."""

    SOURCE = "SOURCE"
    ANALYZE = "ANALYZE"
    EFFECT = "EFFECT"
    SEGMENT = "SEGMENT"
    RESIZE = "RESIZE"
    TRANSFORM = "TRANSFORM"
    SEQUENCE = "SEQUENCE"
    LAYER = "LAYER"
    BLEND = "BLEND"
    MUX = "MUX"
    BEAT_SYNC = "BEAT_SYNC"
    MAP = "MAP"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True, order=True)
class Pos:
    """A 1-based source position; ``Pos(0, 0)`` means unknown (built in code)."""

    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.line}:{self.column}"


NOWHERE = Pos(0, 0)


@dataclass(frozen=True, slots=True)
class Expr:
    """One node of a time-varying parameter expression.

    ``op`` is ``"num"`` (``args == (value,)``), ``"var"`` (``args == (name,)``:
    a frame variable such as ``t`` or a recipe param) or an operator / function
    name (``"+"``, ``"<"``, ``"if"``, ``"sin"``, ``"decay"``, ...) applied to
    ``args``. Positions do not take part in equality or hashing, so the same
    expression written in YAML and in an S-expression compares equal.
    """

    op: str
    args: tuple[Any, ...]
    pos: Pos = field(default=NOWHERE, compare=False)

    def to_json(self) -> Any:
        """Canonical JSON form: a number, ``{"var": name}`` or ``{"op", "args"}``."""
        if self.op == "num":
            return self.args[0]
        if self.op == "var":
            return {"var": self.args[0]}
        return {
            "op": self.op,
            "args": [a.to_json() if isinstance(a, Expr) else a for a in self.args],
        }


@dataclass(frozen=True, slots=True)
class InputDecl:
    """A recipe input bound at run time to a file or CID.

    Attributes:
        name: Name used by SOURCE steps (``config: {input: NAME}``) and ``-i NAME=...``.
        type: ``"video"``, ``"audio"`` or ``"image"``.
        description: Free text for the UI.
        pos: Where it is declared.
    """

    name: str
    type: str
    description: str = ""
    pos: Pos = NOWHERE


@dataclass(frozen=True, slots=True)
class ParamDecl:
    """A recipe-level parameter with a default, referenced by name in expressions.

    Attributes:
        name: Identifier used in expressions (``intensity * bass``).
        default: Constant default value.
        description: Free text for the UI.
        min: Inclusive lower bound for overrides (None: unbounded).
        max: Inclusive upper bound for overrides (None: unbounded).
        pos: Where it is declared.
    """

    name: str
    default: Any
    description: str = ""
    min: float | None = None
    max: float | None = None
    pos: Pos = NOWHERE


@dataclass(frozen=True, slots=True)
class Step:
    """One node of the recipe graph.

    Attributes:
        id: Unique step id (YAML ``id``; S-expression ``def`` name or a generated id).
        type: Node type.
        inputs: Ids of the steps feeding it, in port order (see the schema).
            A bare recipe input name is turned into an implicit SOURCE step
            with the same id by the parsers, so inputs always name steps.
        config: Normalised config (see the module doc and :mod:`interpreter.schema`).
        pos: Position of the step (its ``id`` / opening parenthesis).
        config_pos: Position of each config value as written (``"params.radius"``
            for nested effect / generator parameters); ``"key:<name>"`` holds
            the position of the key itself.
        input_pos: Position of each entry of ``inputs``.
    """

    id: str
    type: NodeType
    inputs: tuple[str, ...]
    config: Mapping[str, Any]
    pos: Pos = NOWHERE
    config_pos: Mapping[str, Pos] = field(default_factory=dict, compare=False)
    input_pos: tuple[Pos, ...] = field(default=(), compare=False)

    def where(self, key: str | None = None) -> Pos:
        """Best known position of a config key (falls back to the step's)."""
        if key is not None and key in self.config_pos:
            return self.config_pos[key]
        return self.pos

    def key_where(self, key: str) -> Pos:
        """Position of a config key itself (falls back to its value, then the step)."""
        return self.config_pos.get("key:" + key) or self.where(key)


@dataclass(frozen=True, slots=True)
class Recipe:
    """A parsed recipe: the graph plus metadata and the text it came from.

    Attributes:
        name: Recipe name.
        version: Version string.
        description: Free text.
        inputs: Declared inputs.
        params: Declared parameters with defaults.
        steps: Steps in source order (the planner orders them topologically).
        output: Id of the output step.
        source: The full source text (for error messages).
        filename: Where the text came from.
        syntax: Which surface syntax it was written in.
        output_pos: Position of the ``output`` declaration.
    """

    name: str
    version: str
    description: str
    inputs: tuple[InputDecl, ...]
    params: tuple[ParamDecl, ...]
    steps: tuple[Step, ...]
    output: str
    source: str = field(default="", compare=False, repr=False)
    filename: str = field(default="<recipe>", compare=False)
    syntax: Syntax = field(default="yaml", compare=False)
    output_pos: Pos = field(default=NOWHERE, compare=False)

    def step(self, step_id: str) -> Step:
        """The step with that id (KeyError if absent)."""
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def input(self, name: str) -> InputDecl:
        """The declared input with that name (KeyError if absent)."""
        for i in self.inputs:
            if i.name == name:
                return i
        raise KeyError(name)

    def line_text(self, line: int) -> str:
        """The source line (1-based) or "" when out of range."""
        lines = self.source.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else ""
