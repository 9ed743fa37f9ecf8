"""Recipe validation: names, fields, ranges, expressions, graph shape and kinds.

:func:`validate` raises the first problem as a positioned
:class:`~interpreter.errors.InterpreterError` subclass and returns the output
kind of every step when the recipe is sound. The checks run in a fixed order
(declarations, step ids and references, cycles, each step's config in
source order, ports and audio variables in topological order, reachability),
so the first error reported for a recipe never changes. Each concern has its
own module: ``validate_graph``, ``validate_steps``, ``validate_values``,
``validate_ports``.
"""

from __future__ import annotations

from effects.registry import Registry
from interpreter.nodes import Recipe
from interpreter.schema import Kind
from interpreter.validate_graph import GraphChecker, topological_order
from interpreter.validate_ports import PortChecker
from interpreter.validate_report import Reporter
from interpreter.validate_steps import StepConfigChecker
from interpreter.validate_values import ValueChecker

__all__ = ["default_registry", "topological_order", "validate"]


def default_registry() -> Registry:
    """The effects catalog's registry (imported lazily: building it is cheap)."""
    from effects.catalog import default_registry as build

    return build()


def validate(recipe: Recipe, registry: Registry | None = None) -> dict[str, Kind]:
    """Check a normalised recipe.

    Args:
        recipe: From :func:`interpreter.loader.load_recipe`.
        registry: Effect registry (default: the effects catalog).

    Returns:
        The output kind of every step, by id.

    Raises:
        RecipeValidationError: (a subclass) for the first problem found.
        ExpressionError: A parameter expression reads an unknown variable.
    """
    report = Reporter(recipe)
    graph = GraphChecker(report)
    configs = StepConfigChecker(
        ValueChecker(report, registry if registry is not None else default_registry())
    )
    ports = PortChecker(report)
    graph.declarations()
    ids = graph.steps_by_id()
    order = topological_order(recipe)
    specs = {s.id: configs.check(s) for s in recipe.steps}
    kinds: dict[str, Kind] = {}
    for s in order:
        kinds[s.id] = ports.output_kind(s, kinds, specs[s.id])
        ports.audio_vars(s, kinds)
    graph.reachability(ids)
    return kinds
