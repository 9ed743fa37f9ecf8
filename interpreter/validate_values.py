"""Value checks: numbers and expressions, typed config fields, effect names and parameters."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from effects.colors import ColorError, parse_color
from effects.registry import EffectParamError, EffectSpec, Registry
from effects.registry import UnknownEffectError as RegistryUnknownEffect
from interpreter.errors import (
    ParamRangeError,
    RecipeValidationError,
    UnknownEffectError,
    UnknownParamError,
)
from interpreter.expr import compile_expr
from interpreter.nodes import Expr, Pos, Step
from interpreter.schema import FieldSpec, FieldType
from interpreter.validate_report import Reporter, hint_close

__all__ = ["ValueChecker"]


def _num(v: Any) -> float:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else 0.0


class ValueChecker:
    """Checks single values against field specs and the effect registry.

    Args:
        report: Builds the positioned errors.
        registry: Effect names and parameter metadata.
    """

    def __init__(self, report: Reporter, registry: Registry) -> None:
        self.report = report
        self.recipe = report.recipe
        self.registry = registry
        self.params = {p.name: p for p in self.recipe.params}

    def number(
        self,
        owner: str,
        name: str,
        value: Any,
        pos: Pos,
        lo: float | None,
        hi: float | None,
        animatable: bool,
        integer: bool,
    ) -> None:
        """A number in ``lo..hi`` (whole when ``integer``), or an expression.

        A constant expression is checked by its value; one that varies over
        time is accepted only where ``animatable``.
        """
        err = self.report.err
        if isinstance(value, Expr):
            param = compile_expr(
                value,
                pos,
                {k: _num(p.default) for k, p in self.params.items()},
                self.recipe.filename,
                self.recipe.line_text(pos.line),
            )
            if not param.constant:
                if not animatable:
                    raise err(
                        ParamRangeError,
                        f"{owner}.{name} cannot vary over time",
                        pos,
                        "give a constant",
                    )
                return
            value = param.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise err(ParamRangeError, f"{owner}.{name}: expected a number, got {value!r}", pos)
        if integer and isinstance(value, float) and not value.is_integer():
            raise err(ParamRangeError, f"{owner}.{name}: expected a whole number, got {value}", pos)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            rng = f"{'-inf' if lo is None else f'{lo:g}'}..{'inf' if hi is None else f'{hi:g}'}"
            raise err(
                ParamRangeError,
                f"{owner}.{name}: {value:g} is out of range",
                pos,
                f"accepted range {rng}",
            )

    def field_value(self, owner: str, f: FieldSpec, value: Any, pos: Pos) -> None:
        """One config value against its field spec (``None`` is "not set" unless required)."""
        if value is None and not f.required and f.type != "color":
            return
        check = _FIELD_CHECKS.get(f.type)
        if check is not None:
            check(self, owner, f, value, pos)

    def _number_field(self, owner: str, f: FieldSpec, value: Any, pos: Pos) -> None:
        self.number(owner, f.name, value, pos, f.min, f.max, f.animatable, f.type == "int")

    def _bool_field(self, owner: str, f: FieldSpec, value: Any, pos: Pos) -> None:
        if not isinstance(value, bool):
            raise self.report.err(
                ParamRangeError, f"{owner}.{f.name}: expected true or false, got {value!r}", pos
            )

    def _enum_field(self, owner: str, f: FieldSpec, value: Any, pos: Pos) -> None:
        if value not in f.choices:
            raise self.report.err(
                ParamRangeError,
                f"{owner}.{f.name}: {value!r} is not accepted",
                pos,
                hint_close(str(value), f.choices, "one of"),
            )

    def _name_field(self, owner: str, f: FieldSpec, value: Any, pos: Pos) -> None:
        if not isinstance(value, str) or not value:
            raise self.report.err(
                ParamRangeError, f"{owner}.{f.name}: expected a name, got {value!r}", pos
            )

    def _color_field(self, owner: str, f: FieldSpec, value: Any, pos: Pos) -> None:
        self.color(owner, f.name, value, pos)

    def color(self, owner: str, name: str, value: Any, pos: Pos) -> None:
        """A colour: ``[r, g, b]``, hex or a CSS name (``effects.colors``), opaque."""
        try:
            parse_color(value)
        except ColorError as exc:
            message, hint = exc.message, exc.hint
            line = self.recipe.line_text(pos.line)
            if value is None:
                message = "no colour given"
                if "#" in line[pos.column - 1 :]:  # YAML ``color: #00ff80``
                    pos = Pos(pos.line, line.index("#", pos.column - 1) + 1)
                    hint = 'in YAML a # starts a comment: quote the colour, e.g. "#00ff80"'
            raise self.report.err(
                ParamRangeError, f"{owner}.{name}: {message}", pos, hint
            ) from None

    def _names_field(self, owner: str, f: FieldSpec, value: Any, pos: Pos) -> None:
        items = value if isinstance(value, list) else None
        if not items or not all(isinstance(x, str) for x in items):
            raise self.report.err(
                ParamRangeError, f"{owner}.{f.name}: expected a non-empty list of names", pos
            )
        for x in items:
            if f.choices and x not in f.choices:
                raise self.report.err(
                    ParamRangeError,
                    f"{owner}.{f.name}: unknown {f.name[:-1] or f.name} {x!r}",
                    pos,
                    hint_close(x, f.choices, "accepted"),
                )

    def _mapping_field(self, owner: str, f: FieldSpec, value: Any, pos: Pos) -> None:
        if not isinstance(value, Mapping):
            raise self.report.err(ParamRangeError, f"{owner}.{f.name}: expected a mapping", pos)

    def fields(
        self, step: Step, fields: Sequence[FieldSpec], config: Mapping[str, Any], prefix: str = ""
    ) -> None:
        """Every key of ``config`` is a known field, required ones are given, values fit."""
        names = [f.name for f in fields]
        for k in config:
            if k not in names:
                raise self.report.err(
                    UnknownParamError,
                    f"{step.id}: unknown {step.type.value} field {k!r}",
                    step.key_where(prefix + k),
                    hint_close(k, names, "fields"),
                )
        for f in fields:
            if f.name not in config or (config[f.name] is None and f.type != "color"):
                if f.required:
                    raise self.report.err(
                        RecipeValidationError,
                        f"{step.id}: missing {f.name!r}",
                        step.pos,
                        f"add {f.name}: ... ({f.doc})",
                    )
                continue
            self.field_value(step.id, f, config[f.name], step.where(prefix + f.name))

    def effect(self, step: Step, name: Any, params: Any, pos_key: str) -> EffectSpec:
        """A registered effect name and its parameters; returns the effect's spec."""
        err = self.report.err
        if not isinstance(name, str) or not name:
            raise err(
                ParamRangeError,
                f"{step.id}: effect must be a name, got {name!r}",
                step.where(pos_key),
            )
        try:
            spec = self.registry.get(name)
        except RegistryUnknownEffect as exc:
            hint = (
                f"did you mean {exc.suggestions[0]!r}?"
                if exc.suggestions
                else "see `artdag effects` for the list"
            )
            raise err(
                UnknownEffectError, f"unknown effect {name!r}", step.where(pos_key), hint
            ) from None
        if not isinstance(params, Mapping):
            raise err(ParamRangeError, f"{step.id}: params must be a mapping", step.pos)
        for k, v in params.items():
            self._effect_param(step, spec, k, v)
        return spec

    def _effect_param(self, step: Step, spec: EffectSpec, k: str, v: Any) -> None:
        name = spec.name
        pos = step.where(f"params.{k}")
        try:
            p = spec.param(k)
        except EffectParamError as exc:
            raise self.report.err(
                UnknownParamError,
                f"{name}: unknown parameter {k!r}",
                step.key_where(f"params.{k}"),
                exc.hint,
            ) from None
        if p.type in ("float", "int"):
            self.number(name, k, v, pos, p.min, p.max, p.animatable, p.type == "int")
            return
        if p.type == "color":
            self.color(name, k, v, pos)
            return
        try:
            p.check(name, v)
        except EffectParamError as exc:
            raise self.report.err(ParamRangeError, str(exc).split(" (")[0], pos, exc.hint) from None


#: How a config value of each field type is checked (types not listed: any value).
_FIELD_CHECKS: Mapping[FieldType, Callable[[ValueChecker, str, FieldSpec, Any, Pos], None]] = {
    "float": ValueChecker._number_field,
    "int": ValueChecker._number_field,
    "bool": ValueChecker._bool_field,
    "enum": ValueChecker._enum_field,
    "str": ValueChecker._name_field,
    "color": ValueChecker._color_field,
    "list[str]": ValueChecker._names_field,
    "dict": ValueChecker._mapping_field,
}
