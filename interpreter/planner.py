"""Phase 1 and 2 of the 3-phase model: analysis requests and the execution plan.

A plan lists every step with a content-derived cache id (a Merkle hash), its
level (longest distance from a source) and whether the cache already holds
its output. Steps of one level are independent and may run in parallel.

Cache ids:

- SOURCE bound to an input: the input's content CID.
- SOURCE generator: ``SHA3-256(canonical JSON of {generator, params})`` with
  every default filled in.
- ANALYZE: ``analysis_id(input cache id, features)``, the specification's
  analysis id with the input's cache id as its "input hash".
- any other step: ``SHA3-256(type | canonical JSON config | sorted input
  cache ids)``; where port order matters (two or more inputs) the config
  carries ``"_ports"``: the index of each port's input in the sorted list,
  so ``BLEND(a, b)`` and ``BLEND(b, a)`` differ.

Configs are resolved: schema defaults filled, recipe params folded into
expressions as constants, expressions as ``{"expr": ast}``. A SEQUENCE of N
parts becomes a tree of pairwise joins in ``ceil(log2 N)`` levels. The plan
types are in ``plan_model``, config resolution and step hashing in ``plan_config``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from effects.registry import Registry
from interpreter.canonical import recipe_id
from interpreter.errors import MissingInputError, ParamRangeError
from interpreter.ids import analysis_id, canonical_json, sha3_hex
from interpreter.nodes import NodeType, Recipe, Step
from interpreter.plan_config import describe_step, hash_step, resolved_config
from interpreter.plan_model import PLAN_VERSION, AnalysisRequest, ExecutionPlan, PlanStep
from interpreter.validate import default_registry, topological_order, validate
from interpreter.validate_report import Reporter

__all__ = ["PLAN_VERSION", "AnalysisRequest", "ExecutionPlan", "PlanStep", "plan_recipe"]


def plan_recipe(
    recipe: Recipe,
    inputs: Mapping[str, str],
    is_cached: Callable[[str], bool] = lambda cache_id: False,
    params: Mapping[str, float] | None = None,
    registry: Registry | None = None,
) -> ExecutionPlan:
    """Validate a recipe and build its execution plan.

    Args:
        recipe: A loaded (normalised) recipe.
        inputs: Recipe input name -> content CID.
        is_cached: Whether the cache holds a cache id (cached steps are marked).
        params: Overrides of recipe params.
        registry: Effect registry (default: the catalog).

    Raises:
        MissingInputError: A declared input has no CID.
        ParamRangeError: An override is unknown, not a number or out of range.
        RecipeValidationError: The recipe is not valid.
    """
    registry = registry if registry is not None else default_registry()
    validate(recipe, registry)
    report = Reporter(recipe)
    values = _param_values(recipe, params or {}, report)
    _require_inputs(recipe, inputs, report)

    cache: dict[str, str] = {}
    level: dict[str, int] = {}
    out: list[PlanStep] = []
    analysis: list[AnalysisRequest] = []
    for step in topological_order(recipe):
        cfg = resolved_config(step, registry, values)
        in_ids = [cache[i] for i in step.inputs]
        lvl = 1 + max((level[i] for i in step.inputs), default=-1)
        step_inputs = step.inputs
        if step.type is NodeType.SOURCE:
            if "input" in cfg:
                cid = inputs[cfg["input"]]
                cfg = {"input": cfg["input"], "cid": cid}
            else:
                cid = sha3_hex(canonical_json(cfg))
        elif step.type is NodeType.ANALYZE:
            cid = analysis_id(in_ids[0], cfg["features"])
            analysis.append(
                AnalysisRequest(step.id, step.inputs[0], in_ids[0], tuple(cfg["features"]), cid)
            )
        elif step.type is NodeType.SEQUENCE and len(step.inputs) > 2:
            cid, lvl, step_inputs = _sequence_tree(step, cfg, cache, level, out, is_cached)
        else:
            cid = hash_step(step.type.value, cfg, in_ids)
        cache[step.id] = cid
        level[step.id] = lvl
        out.append(
            PlanStep(
                step.id,
                describe_step(step),
                step.type.value,
                cfg,
                step_inputs,
                lvl,
                cid,
                is_cached(cid),
            )
        )
    ordered = tuple(sorted(out, key=lambda s: (s.level, s.step_id)))
    plan_id = sha3_hex("plan", canonical_json(sorted(cache.values())), cache[recipe.output])
    return ExecutionPlan(
        plan_id=plan_id,
        recipe_id=recipe_id(recipe),
        recipe_name=recipe.name,
        inputs={d.name: inputs[d.name] for d in recipe.inputs},
        params=values,
        steps=ordered,
        output=recipe.output,
        analysis=tuple(analysis),
    )


def _param_values(
    recipe: Recipe, overrides: Mapping[str, float], report: Reporter
) -> dict[str, float]:
    """The recipe's param defaults overlaid with checked overrides."""
    values: dict[str, float] = {p.name: p.default for p in recipe.params}
    for k, v in overrides.items():
        decl = next((p for p in recipe.params if p.name == k), None)
        if decl is None:
            raise ParamRangeError(
                f"unknown param {k!r}", file=recipe.filename, hint="params: " + ", ".join(values)
            )
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise report.err(
                ParamRangeError, f"param {k!r}: expected a number, got {v!r}", decl.pos
            )
        if (decl.min is not None and v < decl.min) or (decl.max is not None and v > decl.max):
            raise report.err(
                ParamRangeError,
                f"param {k!r}: {v:g} is out of range {decl.min}..{decl.max}",
                decl.pos,
            )
        values[k] = v
    return values


def _require_inputs(recipe: Recipe, inputs: Mapping[str, str], report: Reporter) -> None:
    """Every declared input is bound to a CID."""
    for idecl in recipe.inputs:
        if not inputs.get(idecl.name):
            raise report.err(
                MissingInputError,
                f"recipe input {idecl.name!r} is not bound",
                idecl.pos,
                f"pass -i {idecl.name}=FILE_OR_CID",
            )


def _sequence_tree(
    step: Step,
    cfg: Mapping[str, Any],
    cache: dict[str, str],
    level: dict[str, int],
    out: list[PlanStep],
    is_cached: Callable[[str], bool],
) -> tuple[str, int, tuple[str, ...]]:
    """Pairwise joins of a SEQUENCE's parts, keeping their order.

    Returns the root join's cache id, level and input step ids.

    Intermediate joins are added to ``out``; the root is left for the caller
    (it keeps the step's id). ``ceil(log2 N)`` rounds of joins.
    """
    parts = [(i, cache[i], level[i]) for i in step.inputs]
    rounds = math.ceil(math.log2(len(parts)))
    root: tuple[str, int, tuple[str, ...]] = ("", 0, ())
    for r in range(1, rounds + 1):
        nxt = []
        for k in range(0, len(parts), 2):
            pair = parts[k : k + 2]
            if len(pair) == 1:
                nxt.append(pair[0])
                continue
            ids = [p[1] for p in pair]
            cid = hash_step(NodeType.SEQUENCE.value, cfg, ids)
            lvl = 1 + max(p[2] for p in pair)
            if r == rounds:
                root = (cid, lvl, tuple(p[0] for p in pair))
                nxt.append((step.id, cid, lvl))
                continue
            sid = f"{step.id}.{r}.{k // 2}"
            out.append(
                PlanStep(
                    sid,
                    f"sequence join {r}.{k // 2}",
                    "SEQUENCE",
                    dict(cfg),
                    tuple(p[0] for p in pair),
                    lvl,
                    cid,
                    is_cached(cid),
                )
            )
            nxt.append((sid, cid, lvl))
        parts = nxt
    # the last round produced exactly one join: the root
    return root
