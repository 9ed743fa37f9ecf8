"""Per-frame values of step parameters: numbers, recipe params and expressions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from effects.registry import STREAM_TIME, EffectSpec
from interpreter.nodes import Expr, Recipe, Step
from interpreter.runtime.clock import Clock, Value
from interpreter.runtime.effect_streams import DynParams
from interpreter.runtime.tracks import AnalysisTracks

__all__ = ["StepValues"]


class StepValues:
    """Compiles the parameters of steps into :data:`Value` functions of the clock.

    Args:
        recipe: The recipe the steps belong to (file name and lines for errors).
        clock: The graph's clock, read by every value.
        tracks: The analysis an expression of a step reads (its ANALYZE input's).
    """

    def __init__(self, recipe: Recipe, clock: Clock, tracks: AnalysisTracks) -> None:
        self.recipe = recipe
        self.clock = clock
        self.tracks = tracks

    def value(self, step: Step, key: str, v: Any) -> Value:
        """The per-frame value of ``step``'s ``key``: a number, a param name or an Expr.

        Raises:
            ExpressionError: an expression names an unknown variable.
            ValueError: ``v`` is not a number.
        """
        clock = self.clock
        if isinstance(v, Expr):
            from interpreter.expr import compile_expr

            pos = step.where(key)
            num = {k: float(x) for k, x in clock.params.items() if isinstance(x, int | float)}
            p = compile_expr(v, pos, num, self.recipe.filename, self.recipe.line_text(pos.line))
            if p.constant:
                c = float(p.value)
                return lambda: c
            track = self.tracks.for_step(step)
            return lambda: float(p(clock.context(track)))
        if isinstance(v, str) and v in clock.params:
            c = float(clock.params[v])
            return lambda: c
        c = float(v)
        return lambda: c

    def dynamic(self, step: Step, spec: EffectSpec, given: Mapping[str, Any]) -> DynParams:
        """The effect parameters of ``step`` given as expressions, evaluated per frame.

        An effect that names a stream-time parameter (``spec.extra[STREAM_TIME]``,
        e.g. ``timecode``'s ``time``) gets the output time of each frame there
        when the recipe does not give that parameter.

        Raises:
            EffectParamError: ``spec`` has no parameter of that name.
        """
        out = {
            k: (spec.param(k), self.value(step, f"params.{k}", v))
            for k, v in given.items()
            if isinstance(v, Expr)
        }
        name = spec.extra.get(STREAM_TIME)
        if name is not None and name not in given:
            clock = self.clock
            out[name] = (spec.param(name), lambda: clock.timing.time_of(clock.n))
        return out
