"""Recipe-level checks: declarations, step ids and references, cycles, reachability."""

from __future__ import annotations

from collections.abc import Mapping

from interpreter.errors import (
    CycleError,
    DanglingInputError,
    ParamRangeError,
    RecipeValidationError,
    UnusedInputError,
)
from interpreter.nodes import NodeType, Recipe, Step
from interpreter.schema import INPUT_TYPES
from interpreter.validate_report import Reporter, hint_close

__all__ = ["GraphChecker", "topological_order"]


def topological_order(recipe: Recipe) -> list[Step]:
    """Steps ordered so inputs come first (ties broken by id); raises CycleError.

    Only meaningful for recipes whose inputs all name steps.
    """
    by_id = {s.id: s for s in recipe.steps}
    order: list[Step] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done
    path: list[str] = []

    def visit(sid: str) -> None:
        st = state.get(sid)
        if st == 2:
            return
        if st == 1:
            cyc = [*path[path.index(sid) :], sid]
            first = by_id[sid]
            raise CycleError(
                "cycle: " + " -> ".join(cyc),
                file=recipe.filename,
                line=first.pos.line,
                column=first.pos.column,
                text=recipe.line_text(first.pos.line),
                hint="a step cannot depend on its own output",
            )
        state[sid] = 1
        path.append(sid)
        for dep in sorted(set(by_id[sid].inputs)):
            if dep in by_id:
                visit(dep)
        path.pop()
        state[sid] = 2
        order.append(by_id[sid])

    for sid in sorted(by_id):
        visit(sid)
    return order


class GraphChecker:
    """Checks the recipe as a whole, before and after the per-step checks.

    Args:
        report: Builds the positioned errors.
    """

    def __init__(self, report: Reporter) -> None:
        self.report = report
        self.recipe = report.recipe

    def declarations(self) -> None:
        """Inputs are declared once with a known type; param defaults are in range."""
        err = self.report.err
        seen_inputs: set[str] = set()
        for decl in self.recipe.inputs:
            if decl.name in seen_inputs:
                raise err(RecipeValidationError, f"input {decl.name!r} declared twice", decl.pos)
            seen_inputs.add(decl.name)
            if decl.type not in INPUT_TYPES:
                raise err(
                    ParamRangeError,
                    f"input {decl.name!r}: unknown type {decl.type!r}",
                    decl.pos,
                    hint_close(decl.type, list(INPUT_TYPES), "types"),
                )
        for p in self.recipe.params:
            if isinstance(p.default, bool) or not isinstance(p.default, int | float):
                raise err(ParamRangeError, f"param {p.name!r}: the default must be a number", p.pos)
            if (p.min is not None and p.default < p.min) or (
                p.max is not None and p.default > p.max
            ):
                raise err(
                    ParamRangeError,
                    f"param {p.name!r}: default {p.default:g} is out of its range",
                    p.pos,
                )

    def steps_by_id(self) -> dict[str, Step]:
        """Step ids are unique, every input and the output name a step; returns steps by id."""
        err = self.report.err
        r = self.recipe
        ids: dict[str, Step] = {}
        for s in r.steps:
            if s.id in ids:
                raise err(
                    RecipeValidationError,
                    f"step id {s.id!r} used twice",
                    s.pos,
                    f"first used at line {ids[s.id].pos.line}",
                )
            ids[s.id] = s
        for s in r.steps:
            for i, ref in enumerate(s.inputs):
                if ref not in ids:
                    pos = s.input_pos[i] if i < len(s.input_pos) else s.pos
                    raise err(
                        DanglingInputError,
                        f"{s.id}: no step or input named {ref!r}",
                        pos,
                        hint_close(ref, list(ids), "steps"),
                    )
        if r.output not in ids:
            raise err(
                DanglingInputError,
                f"output {r.output!r} is not a step",
                r.output_pos,
                hint_close(r.output, list(ids), "steps"),
            )
        return ids

    def reachability(self, ids: Mapping[str, Step]) -> None:
        """Every declared input and every step feeds the output."""
        r = self.recipe
        reach: set[str] = set()
        todo = [r.output]
        while todo:
            sid = todo.pop()
            if sid not in reach:
                reach.add(sid)
                todo.extend(ids[sid].inputs)
        for decl in r.inputs:
            used = any(
                s.id in reach and s.config.get("input") == decl.name and s.type is NodeType.SOURCE
                for s in r.steps
            )
            if not used:
                raise self.report.err(
                    UnusedInputError,
                    f"input {decl.name!r} is never used",
                    decl.pos,
                    "remove it or feed it to a step",
                )
        for s in r.steps:
            if s.id not in reach:
                raise self.report.err(
                    UnusedInputError,
                    f"step {s.id!r} does not reach the output {r.output!r}",
                    s.pos,
                    "remove it or use it",
                )
