"""Give parsed values their meaning: expression strings, enum symbols, implicit sources.

Both parsers leave values raw: YAML strings stay strings, S-expression symbols
and lists become :class:`~interpreter.nodes.Expr` trees. Once the type of each
field is known (node schema, generator spec, or the effect registry) the
normaliser converts them so both syntaxes end up with identical steps:

- numeric field + string: parsed as an expression (infix, or ``(...)``);
  an expression that is just a number becomes that number;
- text / enum field + ``Expr`` variable (an S-expression symbol): its name;
- colour field: hex (``#00ff80``), a CSS name or ``[r, g, b]`` becomes the
  canonical ``[r, g, b]`` (whole channels as ints), so equivalent spellings
  have the same recipe id;
- a step input naming a declared recipe input with no step of that id: an
  implicit ``SOURCE {input: NAME}`` step with that id is added;
- a recipe that declares no inputs: each input a SOURCE names is declared,
  its type inferred from use (:mod:`interpreter.inline_inputs`).

Unknown fields and effects are left untouched for the validator to report.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from effects.colors import ColorError, canonical_color
from effects.registry import Registry, UnknownEffectError
from interpreter.expr import parse_expr_text
from interpreter.inline_inputs import implicit_inputs
from interpreter.nodes import Expr, NodeType, Pos, Recipe, Step
from interpreter.schema import GENERATORS, SCHEMAS

__all__ = ["normalise"]

_NUMERIC = ("float", "int")
_OPERATOR_CHARS = set("+-*/%<>=()")


def _looks_like_expr(s: str) -> bool:
    return any(c in _OPERATOR_CHARS for c in s) or s in (
        "t",
        "frame",
        "beat",
        "beat_phase",
        "since_beat",
    )


class _Normaliser:
    def __init__(self, recipe: Recipe, registry: Registry | None) -> None:
        self.recipe = recipe
        self.registry = registry
        self.param_names = {p.name for p in recipe.params}

    def expr_pos(self, pos: Pos) -> Pos:
        # quoted YAML scalars start one column before their text
        line = self.recipe.line_text(pos.line)
        if pos.column and 0 < pos.column <= len(line) and line[pos.column - 1] in "\"'":
            return Pos(pos.line, pos.column + 1)
        return pos

    def numeric(self, value: Any, pos: Pos) -> Any:
        if isinstance(value, str):
            value = parse_expr_text(
                value, self.expr_pos(pos), self.recipe.filename, self.recipe.line_text(pos.line)
            )
        if isinstance(value, Expr) and value.op == "num":
            return value.args[0]
        return value

    def text(self, value: Any) -> Any:
        if isinstance(value, Expr) and value.op == "var":
            return value.args[0]
        return value

    def color(self, value: Any) -> Any:
        """A colour spelling as the canonical ``[r, g, b]``; anything else left for the validator."""
        value = self.text(value)
        try:
            return canonical_color(value)
        except ColorError:
            return value

    def by_type(self, ftype: str | None, value: Any, pos: Pos) -> Any:
        if ftype in _NUMERIC:
            return self.numeric(value, pos)
        if ftype is None:
            # unknown field: only obvious expressions are converted
            if isinstance(value, str) and (_looks_like_expr(value) or value in self.param_names):
                return self.numeric(value, pos)
            return value
        if ftype == "color":
            return self.color(value)
        if (
            ftype == "bool"
            and isinstance(value, Expr)
            and value.op == "var"
            and value.args[0] in ("true", "false")
        ):
            return value.args[0] == "true"
        return self.text(value)

    def effect_params(self, effect: Any, params: Mapping[str, Any], step: Step) -> dict[str, Any]:
        spec = None
        if self.registry is not None and isinstance(effect, str):
            try:
                spec = self.registry.get(effect)
            except UnknownEffectError:
                spec = None
        out = {}
        for k, v in params.items():
            ptype = None
            if spec is not None:
                for p in spec.params:
                    if p.name == k:
                        ptype = p.type
            out[k] = self.by_type(ptype, v, step.where(f"params.{k}"))
        return out

    def step(self, step: Step) -> Step:
        schema = SCHEMAS[step.type]
        cfg: dict[str, Any] = {}
        for k, v in step.config.items():
            if k == "params" and isinstance(v, Mapping):
                if step.type is NodeType.SOURCE:
                    gen = GENERATORS.get(self.text(step.config.get("generator")))
                    types = {f.name: f.type for f in gen.params} if gen else {}
                    cfg[k] = {
                        pk: self.by_type(types.get(pk), pv, step.where(f"params.{pk}"))
                        for pk, pv in v.items()
                    }
                else:
                    cfg[k] = self.effect_params(self.text(step.config.get("effect")), v, step)
                continue
            f = schema.field(k)
            cfg[k] = self.by_type(f.type if f else None, v, step.where(k))
        return dataclasses.replace(step, config=cfg)

    def run(self) -> Recipe:
        steps = [self.step(s) for s in self.recipe.steps]
        ids = {s.id for s in steps}
        inputs = self.recipe.inputs or implicit_inputs(self.recipe, steps)
        declared = {i.name: i for i in inputs}
        implicit: list[Step] = []
        refs = [r for s in steps for r in s.inputs] + [self.recipe.output]
        for r in refs:
            if r in declared and r not in ids:
                ids.add(r)
                implicit.append(Step(r, NodeType.SOURCE, (), {"input": r}, declared[r].pos))
        return dataclasses.replace(self.recipe, inputs=inputs, steps=tuple(implicit + steps))


def normalise(recipe: Recipe, registry: Registry | None = None) -> Recipe:
    """Convert raw parsed values to typed ones and add implicit input sources.

    Raises:
        ExpressionError: A numeric field holds a malformed expression.
    """
    return _Normaliser(recipe, registry).run()
