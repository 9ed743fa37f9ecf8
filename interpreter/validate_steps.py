"""Step config checks, by node type: SOURCE, EFFECT and MAP have their own rules."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from effects.registry import EffectSpec
from interpreter.errors import (
    DanglingInputError,
    ParamRangeError,
    RecipeValidationError,
    UnknownParamError,
)
from interpreter.nodes import NodeType, Step
from interpreter.schema import GENERATORS, SCHEMAS
from interpreter.validate_report import hint_close
from interpreter.validate_values import ValueChecker

__all__ = ["StepConfigChecker"]


class StepConfigChecker:
    """Checks each step's config against its node schema.

    Args:
        values: The value checker (it holds the reporter and the registry).
    """

    def __init__(self, values: ValueChecker) -> None:
        self.values = values
        self.report = values.report
        self.recipe = values.recipe

    def check(self, step: Step) -> EffectSpec | None:
        """Check one step's config; returns the effect spec of an EFFECT step."""
        return _BY_TYPE.get(step.type, StepConfigChecker._schema_fields)(self, step)

    def _source(self, step: Step) -> EffectSpec | None:
        cfg = step.config
        err = self.report.err
        if step.inputs:
            raise err(
                RecipeValidationError,
                f"{step.id}: a SOURCE takes no inputs",
                step.input_pos[0] if step.input_pos else step.pos,
            )
        has_in, has_gen = "input" in cfg, "generator" in cfg
        if has_in == has_gen:
            raise err(
                RecipeValidationError,
                f"{step.id}: a SOURCE needs exactly one of input or generator",
                step.pos,
                "config: {input: NAME} or config: {generator: testsrc, ...}",
            )
        if has_in:
            self.values.fields(step, SCHEMAS[step.type].fields[:1], cfg)
            names = [i.name for i in self.recipe.inputs]
            if cfg["input"] not in names:
                raise err(
                    DanglingInputError,
                    f"{step.id}: no recipe input named {cfg['input']!r}",
                    step.where("input"),
                    self._undeclared_hint(str(cfg["input"]), names),
                )
            return None
        gen_name = cfg["generator"]
        if gen_name not in GENERATORS:
            raise err(
                ParamRangeError,
                f"{step.id}: unknown generator {gen_name!r}",
                step.where("generator"),
                hint_close(str(gen_name), list(GENERATORS), "generators"),
            )
        self.values.fields(step, GENERATORS[gen_name].params, cfg.get("params", {}), "params.")
        return None

    def _undeclared_hint(self, name: str, names: list[str]) -> str:
        close = hint_close(name, names, "")
        if close.startswith("did you mean"):
            return close
        decl = (
            f"(input {name} :type video)"
            if self.recipe.syntax == "sexp"
            else f"inputs: {{{name}: {{type: video}}}}"
        )
        return f"declare it with {decl}; a recipe that declares inputs must declare all it uses"

    def _effect(self, step: Step) -> EffectSpec | None:
        cfg = step.config
        for k in cfg:
            if k not in ("effect", "params"):
                raise self.report.err(
                    UnknownParamError,
                    f"{step.id}: unknown EFFECT field {k!r}",
                    step.key_where(k),
                )
        if "effect" not in cfg:
            raise self.report.err(
                RecipeValidationError,
                f"{step.id}: EFFECT without an effect name",
                step.pos,
                "add effect: NAME",
            )
        return self.values.effect(step, cfg["effect"], cfg.get("params", {}), "effect")

    def _map(self, step: Step) -> EffectSpec | None:
        cfg = step.config
        plain = {k: v for k, v in cfg.items() if k not in ("effect", "params")}
        self.values.fields(
            step,
            [f for f in SCHEMAS[step.type].fields if f.name not in ("effect", "params")],
            plain,
        )
        if cfg.get("effect") is not None:
            self.values.effect(step, cfg["effect"], cfg.get("params", {}), "effect")
        elif cfg.get("params"):
            raise self.report.err(
                RecipeValidationError,
                f"{step.id}: params given without an effect",
                step.where("params"),
            )
        return None

    def _schema_fields(self, step: Step) -> EffectSpec | None:
        cfg = step.config
        self.values.fields(step, SCHEMAS[step.type].fields, cfg)
        if (
            step.type is NodeType.SEGMENT
            and cfg.get("end") is not None
            and cfg.get("duration") is not None
        ):
            raise self.report.err(
                RecipeValidationError,
                f"{step.id}: give end or duration, not both",
                step.where("duration"),
            )
        return None


#: Node types with rules of their own; every other type is checked by its schema fields.
_BY_TYPE: Mapping[NodeType, Callable[[StepConfigChecker, Step], EffectSpec | None]] = {
    NodeType.SOURCE: StepConfigChecker._source,
    NodeType.EFFECT: StepConfigChecker._effect,
    NodeType.MAP: StepConfigChecker._map,
}
